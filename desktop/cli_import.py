"""``kairan import``: a roster spreadsheet into the association file, with a dry run.

    kairan --db PATH import FILE [--sheet S ...] [--dry-run] [--mapping name=B,number=A]
                                 [--withdraw-missing] [--no-create-groups]

The plan is printed first (what each household would become, and why a row cannot be
imported, naming file, sheet, row and column); nothing is written while it has problems.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.domain.imports.model import Field
from desktop.domain.imports.plan import ImportPlan, Outcome
from desktop.i18n import _

EXIT_PROBLEM = 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``import`` and its options."""
    parser = commands.add_parser("import", help=_("read a roster from Excel or CSV"))
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--sheet", action="append", metavar="S",
                        help=_("only this sheet (may be repeated; default: every sheet)"))
    parser.add_argument("--dry-run", action="store_true",
                        help=_("show what would change, change nothing"))
    parser.add_argument("--mapping", metavar="FIELD=COL,...",
                        help=_("which column holds which field, e.g. name=B,number=A"))
    parser.add_argument("--withdraw-missing", action="store_true",
                        help=_("withdraw the households the file no longer lists"))
    parser.add_argument("--no-create-groups", action="store_true",
                        help=_("refuse 班 that do not exist yet instead of creating them"))


def parse_mapping(text: str) -> dict[Field, int]:
    """``name=B,number=1`` → field → 0-based column (letters as in Excel, or numbers)."""
    mapping: dict[Field, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, _sep, column = part.partition("=")
        try:
            which = Field(key.strip().lower())
        except ValueError:
            raise KairanError(_("Unknown field {field} in --mapping. Fields: {fields}").format(
                field=key, fields=",".join(f.value for f in Field))) from None
        mapping[which] = _column_index(column.strip())
    return mapping


def _column_index(column: str) -> int:
    if column.isdigit() and int(column) > 0:
        return int(column) - 1
    if re.fullmatch(r"[A-Za-z]{1,3}", column):
        index = 0
        for letter in column.upper():
            index = index * 26 + ord(letter) - ord("A") + 1
        return index - 1
    raise KairanError(_("「{column}」 is not a column: write a letter such as B or a number "
                        "such as 2.").format(column=column))


def describe_plan(plan: ImportPlan) -> list[str]:
    """The plan as lines for the terminal."""
    lines = [_("{file}: {new} new, {update} to update, {same} unchanged, {errors} with "
               "problems").format(file=plan.file, new=plan.count(Outcome.NEW),
                                  update=plan.count(Outcome.UPDATE),
                                  same=plan.count(Outcome.UNCHANGED), errors=len(plan.errors))]
    for row in plan.rows:
        if row.outcome == Outcome.UPDATE:
            changes = "; ".join(f"{c.title} {c.old or '—'} → {c.new or '—'}"
                                for c in row.changes)
            lines.append(f"  {_('update')} {row.number} {row.name}: {changes}")
    if plan.new_groups:
        lines.append(_("  new 班: {groups}").format(groups="、".join(plan.new_groups)))
    for missing in plan.missing:
        lines.append(_("  not in the file: {number} {name} ({group})").format(
            number=missing.number, name=missing.name, group=missing.group or "—"))
    lines.extend(f"  {duplicate}" for duplicate in plan.duplicates)
    lines.extend(f"  {row.message}" for row in plan.errors)
    return lines


def run(args: argparse.Namespace, db: Path) -> int:
    """Plan the import, print it, and (unless a dry run) apply it in one transaction."""
    from desktop.domain.imports.headers import remap
    from desktop.domain.imports.mappings import remember_mapping, remembered_mappings
    from desktop.domain.imports.pipeline import plan_file, read_roster
    from desktop.domain.imports.plan import apply_import
    from desktop.store.association_file import open_association

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            read = read_roster(args.file, remembered=remembered_mappings(session))
        sheets = args.sheet or read.usable
        unknown = [name for name in sheets if name not in read.layouts]
        if unknown:
            raise KairanError(_("{file} has no usable sheet called {sheets}. Sheets: "
                                "{usable}").format(file=args.file.name, sheets="、".join(unknown),
                                                   usable="、".join(read.usable)))
        if args.mapping:
            chosen = parse_mapping(args.mapping)
            for name in sheets:
                read.layouts[name] = remap(read.layouts[name], chosen)
        with association_file.read() as session:
            plan = plan_file(session, read, sheets=sheets)
        print("\n".join(describe_plan(plan)))
        if plan.errors:
            print(_("Nothing was imported. Correct the rows above in the file and run the "
                    "import again."))
            return EXIT_PROBLEM
        if args.dry_run:
            return 0
        with association_file.write() as session:
            result = apply_import(session, plan, withdraw_missing=args.withdraw_missing,
                                  create_groups=not args.no_create_groups, today=date.today())
            for name in sheets:
                layout = read.layouts[name]
                remember_mapping(session, signature=layout.signature(), columns=layout.columns)
    finally:
        association_file.close()
    print(_("Imported: {added} added, {updated} updated, {withdrawn} withdrawn, {groups} 班 "
            "created.").format(added=result.added, updated=result.updated,
                               withdrawn=result.withdrawn, groups=result.groups_created))
    return 0

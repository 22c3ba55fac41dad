"""The ``kairan`` command: the window by default, and a small CLI beside it for scripting.

    kairan [--db PATH] [--demo] [--lang ja|en]
    kairan --version | --self-test
    kairan demo create PATH [--households N]
    kairan --db PATH new --name NAME [--start-month M]
    kairan --db PATH roster list [--group G] [--all] [--format table|csv|json]
    kairan --db PATH export FILE.xlsx [--per-group] [--columns K,K,...] [--members] [--all]
    kairan --db PATH backup
    kairan --db PATH restore [BACKUP] [--list]
    kairan --db PATH print roster --kind groups|officers|labels12|labels24 --out FILE.pdf ...
    kairan --db PATH print circular ID --out FILE.pdf ...
    kairan --db PATH meeting list
    kairan --db PATH meeting tally ID [--format text|json]
    kairan --db PATH export-all DIR [--zip]
    kairan import-all BUNDLE --db NEW_FILE
    kairan --db PATH audit verify | audit export FILE.xlsx|FILE.csv

The subcommands never import Qt, so they are quick and run on machines without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from desktop import (
    __version__,
    cli_audit,
    cli_bundle,
    cli_import,
    cli_meeting,
    cli_print,
    paths,
)
from desktop.domain.errors import KairanError
from desktop.domain.labels import channel_label
from desktop.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, set_language

if TYPE_CHECKING:
    from desktop.domain.groups import GroupNode

EXIT_PROBLEM = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kairan", description=_("Kairan: the office of a neighbourhood association.")
    )
    parser.add_argument("--version", action="version", version=f"Kairan {__version__}")
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help=_("the association file (default: in your data folder)"))
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help=_("language of the window and messages (default: Japanese)"))
    parser.add_argument("--demo", action="store_true",
                        help=_("open a generated demo association in a throw-away folder"))
    parser.add_argument("--self-test", action="store_true",
                        help=_("check that this installation works (in a throw-away folder) "
                               "and exit"))
    # For the start-up benchmark: quit as soon as the roster has been painted.
    parser.add_argument("--quit-after-paint", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help=_("demo associations"))
    demo_commands = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    create = demo_commands.add_parser("create", help=_("write a demo association file"))
    create.add_argument("path", type=Path, metavar="PATH")
    create.add_argument("--households", type=int, default=300, metavar="N")
    create.add_argument("--seed", type=int, default=7)

    new = commands.add_parser("new", help=_("create an empty association file at --db"))
    new.add_argument("--name", required=True)
    new.add_argument("--start-month", type=int, default=4, metavar="M",
                     help=_("month the association year starts (default: 4, April)"))

    roster = commands.add_parser("roster", help=_("the roster"))
    roster_commands = roster.add_subparsers(dest="roster_command", required=True,
                                            metavar="ACTION")
    listing = roster_commands.add_parser("list", help=_("print the roster in 50音順"))
    listing.add_argument("--group", metavar="G", help=_("only this 班 or 地区, e.g. 3班"))
    listing.add_argument("--all", action="store_true", help=_("include withdrawn households"))
    listing.add_argument("--format", choices=("table", "csv", "json"), default="table")

    export = commands.add_parser("export", help=_("write the roster to an Excel file (.xlsx)"))
    export.add_argument("file", type=Path, metavar="FILE.xlsx")
    export.add_argument("--per-group", action="store_true",
                        help=_("one sheet per 班, in circulation order"))
    export.add_argument("--columns", metavar="K,K,...",
                        help=_("only these columns, separated by commas (default: all)"))
    export.add_argument("--members", action="store_true",
                        help=_("one row per member instead of one per household"))
    export.add_argument("--all", action="store_true", help=_("include withdrawn households"))

    cli_import.add_parser(commands)
    cli_print.add_parser(commands)
    cli_meeting.add_parser(commands)
    cli_bundle.add_parser(commands)
    cli_audit.add_parser(commands)

    commands.add_parser("backup", help=_("back up the association file now"))
    restore = commands.add_parser("restore", help=_("restore a backup over the file"))
    restore.add_argument("backup", type=Path, nargs="?", metavar="BACKUP",
                         help=_("the backup file (default: the newest good backup)"))
    restore.add_argument("--list", action="store_true", help=_("list the backups only"))
    return parser


def _db(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else paths.default_association_path()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = []
    for cells in [header, *rows]:
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths,
                                                                           strict=True)).rstrip())
    return "\n".join(lines)


def _cell(key: str, value: object) -> str:
    if key == "withdrawn":
        return _("yes") if value else ""
    if key == "channel":
        return channel_label(str(value))
    return "" if value is None else str(value)


def _cmd_demo_create(args: argparse.Namespace) -> int:
    from desktop.store.demo_file import create_demo_file

    if not 1 <= args.households <= 50_000:
        raise KairanError(_("--households must be between 1 and 50000."))
    create_demo_file(args.path, households=args.households, seed=args.seed)
    print(_("Wrote a demo association of {count} households to {file}.").format(
        count=args.households, file=args.path))
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from desktop.domain.association import create_association
    from desktop.store.association_file import create_association_file

    db = _db(args)
    association_file = create_association_file(db)
    try:
        with association_file.write() as session:
            create_association(session, name=args.name,
                               fiscal_year_start_month=args.start_month)
    except KairanError:
        association_file.close()
        db.unlink()
        raise
    association_file.close()
    print(_("Created {file}.").format(file=db))
    return 0


def _groups_named(name: str, groups: Sequence[GroupNode]) -> set[str | None]:
    """The group called ``name`` (``地区/班`` where a 班 name is not unique) and its 班."""
    def norm(text: str) -> str:
        return unicodedata.normalize("NFKC", text).strip()

    names = {g.id: g.name for g in groups}
    wanted = norm(name)
    match = [g for g in groups
             if norm(g.name) == wanted
             or (g.parent_id and norm(f"{names[g.parent_id]}/{g.name}") == wanted)]
    if len(match) != 1:
        listed = "、".join(
            f"{names[g.parent_id]}/{g.name}" if g.parent_id else g.name for g in groups
        ) or _("(none)")
        if match:
            raise KairanError(_("Several groups are called {name}; write it as 地区/班. "
                                "Groups: {names}").format(name=name, names=listed))
        raise KairanError(_("There is no group called {name}. Groups: {names}").format(
            name=name, names=listed))
    chosen = match[0].id
    return {chosen.hex, *(g.id.hex for g in groups if g.parent_id == chosen)}


def _cmd_roster_list(args: argparse.Namespace) -> int:
    from desktop.domain.groups import group_tree
    from desktop.domain.roster import COLUMN_KEYS, export_rows, filter_rows, load_roster
    from desktop.store.association_file import open_association

    association_file = open_association(_db(args))
    try:
        with association_file.read() as session:
            table = load_roster(session)
            groups = group_tree(session)
    finally:
        association_file.close()
    selected: set[str | None] | None = None
    if args.group:
        selected = _groups_named(args.group, groups)
    rows = filter_rows(table, group_ids=selected, include_withdrawn=args.all)
    if args.format != "table":
        sys.stdout.write(export_rows(table, rows, fmt=args.format))
        return 0
    labels = {"number": _("No."), "name": _("Name"), "furigana": _("Furigana"),
              "group": _("Group"), "address": _("Address"), "phone": _("Phone"),
              "channel": _("Notices"), "members": _("Members"), "withdrawn": _("Withdrawn")}
    header = [labels[key] for key in COLUMN_KEYS]
    body = [[_cell(key, table.value(row, i)) for i, key in enumerate(COLUMN_KEYS)]
            for row in rows]
    print(_table(header, body))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from desktop.store.association_file import open_association
    from reports.roster_xlsx import MEMBER_KEYS, UnknownColumnError, export_roster

    columns = None
    if args.columns is not None:
        columns = [key.strip() for key in args.columns.split(",") if key.strip()]
    members = args.members or bool(MEMBER_KEYS.intersection(columns or ()))  # member columns
    association_file = open_association(_db(args))
    try:
        with association_file.read() as session:
            count = export_roster(session, args.file, columns=columns, per_group=args.per_group,
                                  include_withdrawn=args.all, members=members)
    except UnknownColumnError as error:
        raise KairanError(_("Unknown column: {keys}. Choose from: {valid}").format(
            keys=",".join(error.unknown) or '""', valid=",".join(error.valid))) from None
    finally:
        association_file.close()
    print(_("Wrote {count} rows to {file}.").format(count=count, file=args.file))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    return cli_import.run(args, _db(args))


def _cmd_print(args: argparse.Namespace) -> int:
    return cli_print.run(args, _db(args))


def _cmd_meeting(args: argparse.Namespace) -> int:
    return cli_meeting.run(args, _db(args))


def _cmd_bundle(args: argparse.Namespace) -> int:
    return cli_bundle.run(args, _db(args))


def _cmd_audit(args: argparse.Namespace) -> int:
    return cli_audit.run(args, _db(args))


def _cmd_backup(args: argparse.Namespace) -> int:
    from desktop.store.association_file import open_association

    association_file = open_association(_db(args))
    try:
        info = association_file.backups.make(association_file.path, reason="manual")
    finally:
        association_file.close()
    print(_("Backed up to {file}.").format(file=info.path))
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from desktop.store.association_file import backup_store_for
    from desktop.store.backups import restore

    db = _db(args).expanduser().absolute()
    store = backup_store_for(db)
    if args.list:
        for info in store.list():
            print(f"{info.created_at:%Y-%m-%d %H:%M:%S}  {info.reason:<15} {info.path}")
        return 0
    backup = args.backup
    if backup is None:
        newest = store.newest_good()
        if newest is None:
            raise KairanError(_("There is no good backup of {file}.").format(file=db))
        backup = newest.path
    safety = restore(Path(backup), db, store=store)
    print(_("Restored {backup} onto {file}.").format(backup=backup, file=db))
    if safety is not None:
        print(_("The replaced file was kept as {file}.").format(file=safety.path))
    return 0


def _run_window(args: argparse.Namespace) -> int:
    from desktop.app import run_app

    db = args.db
    if args.demo:
        from desktop.store.demo_file import create_demo_file

        db = paths.new_demo_dir() / f"demo{paths.FILE_SUFFIX}"
        create_demo_file(db, households=300, seed=date.today().toordinal())
    return run_app(db, language=args.lang, quit_after_paint=args.quit_after_paint)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kairan`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None or sys.stderr is None:
        # The windowed Kairan.exe has no console: what would be printed goes nowhere.
        sink = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115 — lives as long as we do
        sys.stdout = sys.stdout or sink
        sys.stderr = sys.stderr or sink
    # Messages of the command line follow --lang too; parse it before building the help texts.
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang", choices=LANGUAGES, default=None)
    known, _rest = early.parse_known_args(arguments)
    set_language(known.lang or DEFAULT_LANGUAGE)
    args = _parser().parse_args(arguments)
    handlers = {"new": _cmd_new, "roster": _cmd_roster_list, "backup": _cmd_backup,
                "restore": _cmd_restore, "demo": _cmd_demo_create, "export": _cmd_export,
                "import": _cmd_import, "print": _cmd_print, "meeting": _cmd_meeting,
                "export-all": _cmd_bundle, "import-all": _cmd_bundle, "audit": _cmd_audit}
    try:
        if args.self_test:
            from desktop.self_test import run_self_test

            return run_self_test()
        if args.command is None:
            return _run_window(args)
        return handlers[args.command](args)
    except KairanError as error:
        print(_("Error: {message}").format(message=error.message), file=sys.stderr)
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())

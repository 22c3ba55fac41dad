"""``kairan print``: roster printouts and circulars as PDF files.

    kairan --db PATH print roster --kind groups|officers|labels12|labels24 [--group NAME ...]
                                  [--year YEAR] [--paper-only] [--large] --out FILE.pdf
    kairan --db PATH print circular ID [--group G] [--kind packet|copies|all] [--large]
                                  --out FILE.pdf
    kairan --db PATH print circular --list

reportlab is imported only when something is printed, so the rest of the CLI stays quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.i18n import _

ROSTER_KINDS = ("groups", "officers", "labels12", "labels24")
CIRCULAR_KINDS = ("packet", "copies", "all")
_YEARS = range(1900, 2201)  # 年度 a roster can plausibly be printed for


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``print roster`` and ``print circular`` and their options."""
    parser = commands.add_parser("print", help=_("print rosters and circulars to a PDF file"))
    documents = parser.add_subparsers(dest="print_command", required=True, metavar="DOCUMENT")

    roster = documents.add_parser(
        "roster", help=_("班 lists, the officers' contact list or address labels"))
    roster.add_argument("--kind", required=True, choices=ROSTER_KINDS,
                        help=_("groups: a list per 班; officers: the officers' contact list; "
                               "labels12, labels24: address labels, 12 or 24 per A4 sheet"))
    roster.add_argument("--group", action="append", metavar="NAME",
                        help=_("only this 班 or 地区, e.g. 3班 (may be repeated)"))
    roster.add_argument("--year", type=int, metavar="YEAR",
                        help=_("the association year (年度) by the year it starts in, "
                               "e.g. 2025 (default: the current one)"))
    roster.add_argument("--paper-only", action="store_true",
                        help=_("only households that get notices on paper"))
    roster.add_argument("--large", action="store_true", help=_("large print"))
    roster.add_argument("--out", type=Path, required=True, metavar="FILE.pdf",
                        help=_("the PDF file to write"))

    circular = documents.add_parser(
        "circular", help=_("a circular: the 回覧板 packet per 班 and the household copies"))
    circular.add_argument("circular", metavar="ID", nargs="?",
                          help=_("the circular's id (the first few characters are enough)"))
    circular.add_argument("--list", action="store_true",
                          help=_("list the circulars with their ids, and print nothing"))
    circular.add_argument("--group", metavar="G", help=_("only this 班 or 地区, e.g. 3班"))
    circular.add_argument("--kind", choices=CIRCULAR_KINDS, default="all",
                          help=_("packet: the 回覧板 packets; copies: a copy for each paper "
                                 "household; all: both (default)"))
    circular.add_argument("--large", action="store_true", help=_("large print"))
    circular.add_argument("--out", type=Path, metavar="FILE.pdf",
                          help=_("the PDF file to write"))


def run(args: argparse.Namespace, db: Path) -> int:
    """Run ``print roster`` or ``print circular``."""
    if args.print_command == "circular" and args.list:
        return list_circulars(db)
    if args.print_command == "circular" and (args.circular is None or args.out is None):
        raise KairanError(_("Name the circular and the file to write, for example: kairan "
                            "print circular 0193ab --out 回覧.pdf (kairan print circular "
                            "--list shows the ids)."))
    _check_target(args.out)
    if args.print_command == "circular":
        return print_circular(args, db)
    return print_roster(args, db)


def _check_target(path: Path) -> None:
    if path.suffix.lower() != ".pdf":
        raise KairanError(
            _("Printing writes PDF files. Name the file so that it ends in .pdf, for example "
              "{example}.").format(example=path.with_suffix(".pdf").name))
    if not path.parent.is_dir():
        raise KairanError(_("The folder {folder} does not exist. Choose an existing folder.")
                          .format(folder=path.parent))


def print_roster(args: argparse.Namespace, db: Path) -> int:
    """Write the chosen roster printout to ``args.out``."""
    from desktop.domain.association import current_year, get_association
    from desktop.domain.groups import group_tree
    from desktop.store.association_file import open_association
    from reports.pdf import labels, roster_pdf, roster_source

    if args.year is not None and args.year not in _YEARS:
        raise KairanError(_("--year must be an association year such as 2025 (between {first} "
                            "and {last}).").format(first=_YEARS[0], last=_YEARS[-1]))
    if args.kind == "officers" and args.paper_only:
        raise KairanError(_("--paper-only applies to 班 lists and labels, not to the officers' "
                            "contact list. Leave it out."))
    today = date.today()
    association_file = open_association(db)
    try:
        with association_file.read() as session:
            association = get_association(session).name
            year = args.year if args.year is not None else current_year(session, today=today)
            han_ids = (roster_source.han_ids_named(group_tree(session), args.group)
                       if args.group else None)
            if args.kind == "groups":
                groups = roster_source.load_group_lists(session, year=year, han_ids=han_ids,
                                                        paper_only=args.paper_only)
                nendo = roster_source.year_label(session, year=year)
            elif args.kind == "officers":
                officers = roster_source.load_officers(session, year=year, han_ids=han_ids)
                nendo = roster_source.year_label(session, year=year)
            else:
                addressees = roster_source.load_addressees(session, han_ids=han_ids,
                                                           paper_only=args.paper_only)
    finally:
        association_file.close()
    if args.kind == "groups":
        _check_some(sum(len(group.households) for group in groups))
        _warn_unprintable(text for group in groups for household in group.households
                          for text in (household.name, household.furigana, household.address))
        pages = roster_pdf.render_group_lists(args.out, association=association,
                                              issued_on=today, groups=groups,
                                              year_label=nendo, large=args.large)
    elif args.kind == "officers":
        _warn_unprintable(text for officer in officers
                          for text in (officer.name, officer.email, officer.address))
        pages = roster_pdf.render_officer_list(args.out, association=association,
                                               issued_on=today, year_label=nendo,
                                               officers=officers, large=args.large)
    else:
        _check_some(len(addressees))
        _warn_unprintable(text for addressee in addressees
                          for text in (addressee.name, addressee.address))
        sheet = labels.LABELS_12 if args.kind == "labels12" else labels.LABELS_24
        if args.large and sheet is not labels.LABELS_12:
            print(_("Large print uses the bigger labels, 12 per sheet."))
        pages = labels.render_labels(args.out, association=association, issued_on=today,
                                     addressees=addressees, sheet=sheet, large=args.large)
    print(_("Wrote {file} (pages: {pages}).").format(file=args.out, pages=pages))
    return 0


def _check_some(count: int) -> None:
    if count == 0:
        raise KairanError(_("There are no households to print. Check the --group names, or "
                            "leave out --paper-only."))


def _warn_unprintable(texts: Iterable[str]) -> None:
    """Say which characters the font lacks (they would print as blanks), not stay silent."""
    from reports.pdf.fonts import GOTHIC, missing_characters

    missing = missing_characters("".join(texts), GOTHIC)
    if missing:
        print(_("Warning: the printing font has no {chars}; these print as blanks. Check the "
                "names and addresses that use them.").format(chars="「" + "」「".join(missing)
                                                              + "」"), file=sys.stderr)


def list_circulars(db: Path) -> int:
    """Print the circulars, newest first, with the shortest id prefix that names each."""
    from desktop.domain import circulars
    from desktop.domain.models import CircularStatus
    from desktop.store.association_file import open_association

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            summaries = circulars.list_circulars(session)
    finally:
        association_file.close()
    hexes = [summary.id.hex for summary in summaries]
    for summary in summaries:
        own = summary.id.hex
        length = next(size for size in range(circulars.MIN_REFERENCE_LENGTH, 33)
                      if sum(other.startswith(own[:size]) for other in hexes) == 1)
        status = _("draft") if summary.status == CircularStatus.DRAFT else _("sent")
        print(f"{own[:length]}\t{summary.issued_on.isoformat()}\t{status}\t"
              f"{summary.replies}/{summary.recipients}\t{summary.title}")
    return 0


def print_circular(args: argparse.Namespace, db: Path) -> int:
    """Write a circular's 回覧板 packets and/or household copies to ``args.out``."""
    from desktop.domain.circulars import find_circular
    from desktop.domain.groups import group_tree
    from desktop.store.association_file import open_association
    from reports.pdf import circular_pdf, circular_source, roster_source

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            circular_id = find_circular(session, reference=args.circular)
            group_ids = (list(roster_source.han_ids_named(group_tree(session), [args.group]))
                         if args.group else None)
            documents = circular_source.load_documents(session, circular_id=circular_id,
                                                       group_ids=group_ids)
    finally:
        association_file.close()
    circular, packets, copies = documents.circular, documents.packets, documents.copies
    missing = circular_pdf.unprintable_characters(circular, households=copies)
    if missing:
        print(_("Warning: the printing font has no {chars}; these print as 〓. Change them in "
                "the circular (or the roster) and print again.").format(
                    chars="「" + "」「".join(missing) + "」"), file=sys.stderr)
    if args.kind == "packet":
        if not packets:
            raise KairanError(_("This circular goes to no household of that 班."))
        pages = circular_pdf.render_packet(args.out, circular=circular, groups=packets,
                                           large=args.large)
    elif args.kind == "copies":
        pages = circular_pdf.render_personal_copies(args.out, circular=circular,
                                                    households=copies, large=args.large)
    else:
        if not packets:
            raise KairanError(_("This circular goes to no household of that 班."))
        pages = circular_pdf.render_packets_and_copies(
            args.out, circular=circular, groups=packets, households=copies, large=args.large)
    print(_("Wrote {file} (pages: {pages}).").format(file=args.out, pages=pages))
    return 0

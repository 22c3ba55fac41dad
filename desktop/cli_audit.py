"""``kairan audit``: check the audit trail of an association file, or write it out.

    kairan audit verify --db FILE            exit 0: intact; 1: tampered (first bad record named)
    kairan audit export --db FILE OUT.xlsx   (or OUT.csv) [--household NUMBER]

``--db`` may also come before ``audit``, as for the other commands. Nothing here imports Qt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.i18n import _

EXIT_TAMPERED = 1
SHOWN_PROBLEMS = 10


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``audit verify`` and ``audit export``."""
    parser = commands.add_parser("audit", help=_("the history of changes (audit trail)"))
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help=_("check that no record of the history was altered, removed or "
                         "reordered (exit status 1 if one was)"))
    export = actions.add_parser("export", help=_("write the history to .xlsx or .csv"))
    export.add_argument("out", type=Path, metavar="OUT.xlsx|OUT.csv")
    export.add_argument("--household", metavar="NUMBER",
                        help=_("only the records of this household (its 世帯番号)"))
    for action in (verify, export):
        # Also accepted after the action; the top-level --db is used when it is not given.
        action.add_argument("--db", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                            help=_("the association file"))


def run(args: argparse.Namespace, db: Path) -> int:
    """Run ``audit verify`` or ``audit export`` on ``db``."""
    if args.audit_command == "verify":
        return verify(db)
    return export(db, args.out, household=args.household)


def verify(db: Path) -> int:
    """Print whether the trail is intact; 0 when it is, :data:`EXIT_TAMPERED` when not."""
    from desktop.domain import audit
    from desktop.store.association_file import open_association

    opened = open_association(db)
    try:
        with opened.read() as session:
            report = audit.verify_chain(session)
    finally:
        opened.close()
    print(report.message())
    if report.ok:
        return 0
    for problem in report.problems[:SHOWN_PROBLEMS]:
        where = problem.seq if problem.seq is not None else "?"
        print(_("  record {seq}: {problem}").format(seq=where, problem=problem.message))
    if len(report.problems) > SHOWN_PROBLEMS:
        print(_("  … and {count} more.").format(count=len(report.problems) - SHOWN_PROBLEMS))
    return EXIT_TAMPERED


def export(db: Path, out: Path, *, household: str | None = None) -> int:
    """Write the history (or one household's) to ``out``; prints how many records."""
    from sqlmodel import select

    from desktop.domain import audit
    from desktop.domain.audit_history import id_names
    from desktop.domain.models import Household
    from desktop.store.association_file import open_association

    opened = open_association(db)
    try:
        with opened.read() as session:
            household_id = None
            if household is not None:
                household_id = session.exec(select(Household.id).where(
                    Household.number == household.strip())).first()
                if household_id is None:
                    raise KairanError(_("There is no household numbered {number} in {file}.")
                                      .format(number=household, file=db))
            entries = audit.history(session, household_id=household_id)
            names = id_names(session)
    finally:
        opened.close()
    audit.export_history(entries, out, names=names)
    print(_("Wrote {count} records of the history to {file}.").format(count=len(entries),
                                                                       file=out))
    return 0

"""``kairan export-all`` and ``kairan import-all``: the whole association out, and back into a
new file.

    kairan --db PATH export-all DIR [--zip]
    kairan import-all BUNDLE --db NEW_FILE

``--db`` may also be written after the command. The export is a folder (or, with ``--zip``, a
zip file) of open formats described in its README.md; the import refuses a bundle from a
newer Kairan or one whose files were changed, and never writes into an existing file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.i18n import _

COMMANDS = ("export-all", "import-all")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``export-all`` and ``import-all``."""
    export = commands.add_parser(
        "export-all", help=_("write the whole association to a folder (or zip) of open files"))
    export.add_argument("target", type=Path, metavar="DIR",
                        help=_("the new folder to write (or the zip file with --zip)"))
    export.add_argument("--zip", action="store_true",
                        help=_("write one zip file instead of a folder"))
    # SUPPRESS: a --db given before the command is not reset by this one's default.
    export.add_argument("--db", type=Path, metavar="PATH", default=argparse.SUPPRESS,
                        help=_("the association file to export"))

    restore = commands.add_parser(
        "import-all", help=_("make a new association file from an exported bundle"))
    restore.add_argument("bundle", type=Path, metavar="BUNDLE",
                         help=_("the bundle: its folder or its zip file"))
    restore.add_argument("--db", type=Path, metavar="NEW_FILE", default=argparse.SUPPRESS,
                         help=_("the new association file to make (it must not exist yet)"))


def run(args: argparse.Namespace, db: Path) -> int:
    """Run ``export-all`` (from ``db``) or ``import-all``."""
    if args.command == "export-all":
        return export_all(args, db)
    return import_all(args)


def export_all(args: argparse.Namespace, db: Path) -> int:
    """Write the bundle of the association file ``db``."""
    from desktop.domain.bundle.export import export_bundle
    from desktop.store.association_file import open_association

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            result = export_bundle(session, args.target, as_zip=args.zip, today=date.today())
    finally:
        association_file.close()
    for problem in result.skipped:
        print(_("Warning: a PDF could not be made: {problem}").format(problem=problem),
              file=sys.stderr)
    print(_("Wrote the whole association to {path}: {tables} tables with {rows} rows, "
            "{documents} PDF files.").format(path=result.path, tables=result.tables,
                                             rows=result.rows, documents=result.documents))
    return 0


def import_all(args: argparse.Namespace) -> int:
    """Make the new file ``--db`` from the bundle."""
    from desktop.domain.bundle.restore import import_into_new_file

    target = getattr(args, "db", None)
    if target is None:
        raise KairanError(_("Name the new association file to make with --db, for example: "
                            "kairan import-all 自治会.zip --db 自治会.kairan"))
    result = import_into_new_file(args.bundle, Path(target))
    print(_("Made {file} from {bundle}: {association}, {rows} rows in {tables} tables.")
          .format(file=target, bundle=args.bundle, association=result.association,
                  rows=result.rows, tables=result.tables))
    return 0

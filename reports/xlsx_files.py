"""Writing an Excel workbook (.xlsx) safely: the right name, all or nothing, no leftovers.

Shared by every export (roster, meeting). Workbooks are written in openpyxl's write-only
mode, which streams each sheet to a temporary file: after a failure or a cancel those are
deleted at once, and the target is only replaced by a complete file.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter

from desktop.domain.errors import KairanError
from desktop.i18n import _
from reports.output import replacing

__all__ = ["check_xlsx_target", "discard_workbook", "save_workbook"]


def check_xlsx_target(path: Path) -> None:
    """Refuse a target that is not named .xlsx or whose folder does not exist."""
    if path.suffix.lower() != ".xlsx":
        raise KairanError(
            _("Export writes Excel files (.xlsx). Name the file so that it ends in .xlsx, "
              "for example {example}.").format(example=path.with_suffix(".xlsx").name)
        )
    if not path.parent.is_dir():
        raise KairanError(_("The folder {folder} does not exist. Choose an existing folder.")
                          .format(folder=path.parent))


def save_workbook(workbook: Workbook, path: Path) -> None:
    """Save through a temporary file beside ``path``, renamed over it only when complete."""
    with replacing(path, open_elsewhere=_(
            "{file} cannot be replaced: it is open in another program (perhaps Excel) or "
            "read-only. Close it there and export again.").format(file=path)) as temporary:
        workbook.save(temporary)


def discard_workbook(workbook: Workbook) -> None:
    """After a failure or a cancel: end the sheets' streams and delete their temporary files
    now, not when the program exits (openpyxl keeps one per write-only sheet until saved)."""
    for sheet in workbook.worksheets:
        stream: WorksheetWriter | None = getattr(sheet, "_writer", None)
        if not isinstance(sheet, WriteOnlyWorksheet) or stream is None:
            continue
        if not sheet.closed:
            with suppress(Exception):  # already failing: the first error is the one to report
                sheet.close()
        with suppress(OSError, ValueError):  # ValueError: removed already by a partial save
            stream.cleanup()

"""Reading a roster file into rows of cell values: Excel, LibreOffice and CSV. No Qt here.

.xlsx, .xlsm, .xls and .ods are read with python-calamine; .csv and .txt (and .tsv) with the
``csv`` module, in UTF-8 (with or without BOM), Shift_JIS/CP932, or UTF-16 with a BOM (Excel's
"Unicode text"). What a file *is* is told by its first bytes, not by its name, so an .xls that
is really an .xlsx (or a workbook renamed .csv) is still read; a file saved as a web page is
refused with a message that says how to save it properly.

Values keep calamine's types: str, float (Excel stores every number as a float, so 12 comes
back as 12.0; .xls may give int), bool, date/datetime (time or timedelta for time cells);
empty cells are None. Nothing is stripped or normalised here. CSV values are all str.

Formulas: calamine returns the value Excel saved with the formula (the cached value), never
the formula. A file written by a program that does not calculate (openpyxl, some web
exports) has no cached values, so its formula cells read as empty; opening the file in Excel
and saving it again fills them in.

Size: a sheet with more than :data:`MAX_ROWS` rows is refused. calamine loads a whole sheet
in native code before it says how many rows it has (measured: 1,000,000 rows × 5 columns
take 3.4-4.5 s and about 450 MB), so the check comes after that load but *before* the rows
become Python objects (another 2 s and 250 MB there, and far more in later steps). The
``<dimension>`` an .xlsx declares is not used: Excel widens it over formatted empty cells,
so it would refuse harmless files. CSV files are counted while they are read.

Hidden sheets, chart sheets and empty sheets are left out: the officer does not see them
in Excel and would not expect them to be imported.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from pathlib import Path

from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from desktop.domain.errors import KairanError
from desktop.domain.imports.model import SheetData
from desktop.domain.imports.ods_merges import ods_merges
from desktop.i18n import _

__all__ = [
    "CSV_SUFFIXES",
    "MAX_ROWS",
    "SPREADSHEET_SUFFIXES",
    "SUFFIXES",
    "ReadCancelled",
    "SheetReadError",
    "read_file",
]

MAX_ROWS = 200_000
"""The most rows one sheet (or CSV file) may have; a larger file is refused with a message."""

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
SUFFIXES = SPREADSHEET_SUFFIXES + CSV_SUFFIXES
"""Every file ending :func:`read_file` accepts (for the file dialog's filter)."""

Progress = Callable[[int, int], None]

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: .xls, or an encrypted .xlsx
# The stream an encrypted Office Open XML file keeps its workbook in (CFB names are UTF-16LE).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_SNIFF_BYTES = 2048


class ReadCancelled(Exception):
    """The officer cancelled reading the file (raised between sheets)."""


class SheetReadError(KairanError):
    """A roster file cannot be read; the message names the file (and sheet) and what to do."""


def read_file(
    path: Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    max_rows: int = MAX_ROWS,
) -> list[SheetData]:
    """Read every visible, non-empty sheet of ``path`` (a CSV file gives one sheet named "").

    ``progress(done, total)`` is called with the number of sheets read so far; ``cancelled()``
    is asked before each sheet and raises :class:`ReadCancelled` when it says yes. Trailing
    rows with no value are dropped. Raises :class:`SheetReadError` (a ``KairanError``) when
    the file cannot be read, with a message naming the file and sheet and saying what to do.
    """
    file = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SheetReadError(_(
            "Kairan cannot read “{file}”: it is not a kind of file Kairan knows. Choose an "
            "Excel workbook (.xlsx, .xlsm, .xls), a LibreOffice spreadsheet (.ods) or a CSV "
            "file (.csv, .txt)."
        ).format(file=file))
    head = _head(path)
    if not head:
        raise SheetReadError(_(
            "“{file}” is empty (0 bytes): it may not have been saved completely. Open the "
            "original in Excel, save it again and choose the new file."
        ).format(file=file))
    if head.startswith((_ZIP, _OLE2)):
        sheets = _read_workbook(path, head, progress, cancelled, max_rows)
    elif suffix in SPREADSHEET_SUFFIXES and _is_markup(head):
        raise _markup_error(file, head)
    elif suffix in SPREADSHEET_SUFFIXES:
        raise SheetReadError(_(
            "“{file}” could not be read: it is damaged or is not really a spreadsheet. Open "
            "it in Excel (or LibreOffice), save it again as an Excel workbook (.xlsx) and "
            "choose the new file."
        ).format(file=file))
    else:
        sheets = _read_csv(path, progress, cancelled, max_rows)
    if not sheets:
        raise SheetReadError(_(
            "“{file}” contains no data: every sheet is empty. Check that you chose the right "
            "file."
        ).format(file=file))
    return sheets


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SNIFF_BYTES)
    except FileNotFoundError:
        raise SheetReadError(_(
            "“{file}” was not found. It may have been moved, renamed or deleted; choose it "
            "again."
        ).format(file=path.name)) from None
    except OSError as error:
        raise _open_error(path.name, error) from error


def _open_error(file: str, error: OSError) -> SheetReadError:
    return SheetReadError(_(
        "“{file}” could not be opened ({detail}). If it is open in Excel, close it there and "
        "try again."
    ).format(file=file, detail=error.strerror or error))


def _is_markup(head: bytes) -> bool:
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    return text.startswith(b"<") or text.startswith(("<".encode("utf-16-le"),
                                                      codecs.BOM_UTF16_LE + b"<\x00"))


def _markup_error(file: str, head: bytes) -> SheetReadError:
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head and b"<html" not in head.lower():
        return SheetReadError(_(
            "“{file}” was saved as “XML Spreadsheet 2003”, which Kairan cannot read. Open it in "
            "Excel and save it again as “Excel Workbook (*.xlsx)”."
        ).format(file=file))
    return SheetReadError(_(
        "“{file}” is not a real Excel workbook: it was saved as a web page (HTML). Open it in "
        "Excel and save it again as “Excel Workbook (*.xlsx)”."
    ).format(file=file))


def _password_error(file: str) -> SheetReadError:
    return SheetReadError(_(
        "“{file}” is protected by a password, so Kairan cannot read it. Open it in Excel, "
        "remove the password (File → Info → Protect Workbook → Encrypt with Password, then "
        "clear the password), save it and choose it again."
    ).format(file=file))


def _damaged_error(file: str, error: Exception) -> SheetReadError:
    return SheetReadError(_(
        "“{file}” could not be read: it is damaged or is not really a spreadsheet ({detail}). "
        "Open it in Excel (or LibreOffice), save it again as an Excel workbook (.xlsx) and "
        "choose the new file."
    ).format(file=file, detail=error))


def _too_many_rows(file: str, sheet: str, limit: int) -> SheetReadError:
    if sheet:
        return SheetReadError(_(
            "“{file}”, sheet “{sheet}” has more than {limit} rows, more than Kairan imports "
            "from one sheet. Split the roster into smaller sheets or files (for example one "
            "per 班) and import them one after another."
        ).format(file=file, sheet=sheet, limit=f"{limit:,}"))
    return SheetReadError(_(
        "“{file}” has more than {limit} rows, more than Kairan imports from one file. Split "
        "the roster into smaller files (for example one per 班) and import them one after "
        "another."
    ).format(file=file, limit=f"{limit:,}"))


def _check_cancelled(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise ReadCancelled


def _read_workbook(
    path: Path,
    head: bytes,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    max_rows: int,
) -> list[SheetData]:
    file = path.name
    _check_cancelled(cancelled)
    try:
        # From the bytes rather than the path: calamine then goes by the content, so an .xls
        # that is really an .xlsx (renamed by hand) is read all the same.
        with path.open("rb") as handle:
            workbook = CalamineWorkbook.from_filelike(handle)
        metadata = workbook.sheets_metadata
    except PasswordError:
        raise _password_error(file) from None
    except CalamineError as error:
        if head.startswith(_OLE2) and _is_encrypted_ooxml(path):
            raise _password_error(file) from None
        raise _damaged_error(file, error) from error
    except OSError as error:
        raise _open_error(file, error) from error
    names = [sheet.name for sheet in metadata
             if sheet.typ == SheetTypeEnum.WorkSheet
             and sheet.visible == SheetVisibleEnum.Visible]
    sheets: list[SheetData] = []
    # calamine reports no merged cells for .ods; they are read from the XML instead.
    odf_merges = ods_merges(path) if head.startswith(_ZIP) and b"opendocument" in head else {}
    try:
        if progress is not None:
            progress(0, len(names))
        for done, name in enumerate(names, start=1):
            _check_cancelled(cancelled)
            rows, merges = _sheet_rows(workbook, file, name, max_rows)
            if rows:
                sheets.append(SheetData(file, name, rows, merges or odf_merges.get(name, ())))
            if progress is not None:
                progress(done, len(names))
    finally:
        workbook.close()  # frees the file's bytes held in native memory
    return sheets


def _is_encrypted_ooxml(path: Path) -> bool:
    try:
        return _ENCRYPTED_PACKAGE in path.read_bytes()
    except OSError:
        return False


Merges = tuple[tuple[int, int, int, int], ...]


def _sheet_rows(workbook: CalamineWorkbook, file: str, name: str,
                max_rows: int) -> tuple[list[tuple[object, ...]], Merges]:
    try:
        sheet: CalamineSheet = workbook.get_sheet_by_name(name)
        end = sheet.end
        if end is None:
            return [], ()
        if end[0] + 1 > max_rows:
            raise _too_many_rows(file, name, max_rows)
        # skip_empty_area=False keeps the leading empty rows and columns, so rows[i] is the
        # sheet's row i + 1 and a column index is the one Excel shows.
        values = sheet.to_python(skip_empty_area=False)
        merges: Merges = tuple(
            (first[0], first[1], last[0], last[1])
            for first, last in sheet.merged_cell_ranges or ())
    except PasswordError:
        raise _password_error(file) from None
    except CalamineError as error:
        raise SheetReadError(_(
            "“{file}”, sheet “{sheet}” could not be read: the file is damaged ({detail}). Open "
            "it in Excel (or LibreOffice), save it again as an Excel workbook (.xlsx) and "
            "choose the new file."
        ).format(file=file, sheet=name, detail=error)) from error
    # calamine gives "" for an empty cell; 0, 0.0 and False are values and stay.
    rows: list[tuple[object, ...]] = [
        tuple([value if value or value.__class__ is not str else None for value in row])
        for row in values]
    return _without_trailing_blank_rows(rows), merges


def _without_trailing_blank_rows(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    end = len(rows)
    while end and all(value is None for value in rows[end - 1]):
        end -= 1
    del rows[end:]
    return rows


def _decode(path: Path, data: bytes) -> str:
    """UTF-16 with a BOM, else UTF-8 (BOM optional), else CP932 — each strictly."""
    text: str | None = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    else:
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    # A NUL never appears in a real CSV; UTF-16 without a BOM decodes "successfully" with one
    # at every other byte.
    if text is None or "\x00" in text:
        raise SheetReadError(_(
            "“{file}” is not written in UTF-8 or Shift_JIS (CP932), so Kairan cannot read it. "
            "Open it in Excel and save it again as “CSV UTF-8 (Comma delimited) (*.csv)”."
        ).format(file=path.name))
    return text


def _delimiter(text: str) -> str:
    """Tab when the first lines hold more tabs than commas (Excel's "text" exports)."""
    sample = "\n".join(text.splitlines()[:5])
    return "\t" if sample.count("\t") > sample.count(",") else ","


def _read_csv(
    path: Path,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
    max_rows: int,
) -> list[SheetData]:
    _check_cancelled(cancelled)
    if progress is not None:
        progress(0, 1)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _open_error(path.name, error) from error
    text = _decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[tuple[object, ...]] = []
    try:
        for record in reader:
            if len(rows) >= max_rows:
                raise _too_many_rows(path.name, "", max_rows)
            rows.append(tuple([value if value else None for value in record]))
    except csv.Error as error:
        raise SheetReadError(_(
            "“{file}”, row {row} could not be read as CSV ({detail}). Open it in Excel and "
            "save it again as “CSV UTF-8 (Comma delimited) (*.csv)”."
        ).format(file=path.name, row=reader.line_num, detail=error)) from error
    rows = _without_trailing_blank_rows(rows)
    if progress is not None:
        progress(1, 1)
    return [SheetData(path.name, "", rows)] if rows else []

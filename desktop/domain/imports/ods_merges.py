"""The merged cells of an OpenDocument spreadsheet (.ods), which python-calamine does not report.

A cell that spans rows or columns carries ``table:number-rows-spanned`` /
``table:number-columns-spanned`` in ``content.xml``. Rows and cells may be written once with a
repeat count (``number-rows-repeated``, ``number-columns-repeated``), so positions are counted
the way LibreOffice lays the sheet out. The file is streamed: only the spans are kept.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import iterparse

__all__ = ["ods_merges"]

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_T = "{" + _TABLE + "}"
_SHEET = _T + "table"
_ROW = _T + "table-row"
_CELLS = (_T + "table-cell", _T + "covered-table-cell")
_OFFICE_MIME = b"application/vnd.oasis.opendocument.spreadsheet"

Merge = tuple[int, int, int, int]


def _count(attribute: str | None) -> int:
    return int(attribute) if attribute and attribute.isdigit() else 1


def ods_merges(path: Path) -> dict[str, tuple[Merge, ...]]:
    """Sheet name → merged ranges as 0-based (first row, first column, last row, last column).

    Anything but a readable .ods gives ``{}``: the merges only help, they are never needed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.read("mimetype").strip() != _OFFICE_MIME:
                return {}
            with archive.open("content.xml") as content:
                return _merges(content)
    except (OSError, KeyError, zipfile.BadZipFile, SyntaxError):  # ParseError is a SyntaxError
        return {}


def _merges(content: IO[bytes]) -> dict[str, tuple[Merge, ...]]:
    found: dict[str, list[Merge]] = {}
    sheet = ""
    row = column = 0
    row_repeat = 1
    for event, element in iterparse(content, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _SHEET:
                sheet = element.get(_T + "name", "")
                row = 0
            elif tag == _ROW:
                column = 0
                row_repeat = _count(element.get(_T + "number-rows-repeated"))
            elif tag in _CELLS:
                rows = _count(element.get(_T + "number-rows-spanned"))
                columns = _count(element.get(_T + "number-columns-spanned"))
                if rows > 1 or columns > 1:
                    found.setdefault(sheet, []).append(
                        (row, column, row + rows - 1, column + columns - 1))
                column += _count(element.get(_T + "number-columns-repeated"))
        elif tag == _ROW:
            row += row_repeat
            element.clear()
    return {name: tuple(merges) for name, merges in found.items()}

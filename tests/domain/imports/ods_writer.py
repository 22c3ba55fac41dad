"""A minimal .ods writer for tests: text cells, row repeats and merged cells (no library
writes .ods here)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
    "</office:document-content>"
)
_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)

# A row: cells as (text or None, rows spanned, columns spanned); "covered" marks a cell
# hidden under a merge.
Cell = tuple[str | None, int, int] | str


def _cell(cell: Cell) -> str:
    if cell == "covered":
        return "<table:covered-table-cell/>"
    text, rows, columns = cell if isinstance(cell, tuple) else (cell, 1, 1)
    spans = ""
    if rows > 1 or columns > 1:
        spans = (f' table:number-rows-spanned="{rows}"'
                 f' table:number-columns-spanned="{columns}"')
    if text is None:
        return f"<table:table-cell{spans}/>"
    return (f'<table:table-cell office:value-type="string"{spans}>'
            f"<text:p>{escape(text)}</text:p></table:table-cell>")


def write_ods(path: Path, sheets: dict[str, list[list[Cell]]]) -> Path:
    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + "".join(_cell(cell) for cell in row)
                  + "</table:table-row>" for row in rows)
        + "</table:table>"
        for name, rows in sheets.items())
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"),
                         "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("content.xml", _CONTENT.format(tables=tables),
                         compress_type=zipfile.ZIP_DEFLATED)
    return path

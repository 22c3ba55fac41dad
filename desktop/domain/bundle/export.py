"""Write the whole association to a bundle (a folder, or a zip of one).

Everything is read in one read transaction, so the tables agree with each other even if an
officer keeps working meanwhile. The bundle is built in a hidden folder beside the target and
renamed (or zipped) into place only when complete: a failure or a cancel (``progress``
raising) leaves nothing behind.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import Connection, Table, func, select
from sqlmodel import Session, SQLModel

from desktop import __version__
from desktop.domain.association import get_association
from desktop.domain.bundle.documents import plan_documents, safe_name, write_document
from desktop.domain.bundle.format import (
    ATTACHMENTS_DIR,
    DATA_DIR,
    EXCLUDED_TABLES,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    README,
    XLSX_DIR,
    ColumnType,
    Progress,
    codecs,
    describe_columns,
    encode,
    exported_tables,
    sha256_of,
)
from desktop.domain.bundle.readme import readme_text
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store import migrate

_BATCH = 2000  # rows read at a time
_XLSX_ROWS_PER_SHEET = 1_000_000  # Excel's limit is 1,048,576
_XLSX_TEXT = 32_000  # Excel holds at most 32,767 characters in a cell
_DATE_FORMAT = "yyyy-mm-dd"
_TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was written."""

    path: Path
    tables: int
    rows: int
    documents: int
    skipped: tuple[str, ...] = field(default=())  # documents that could not be made, and why


class _Counter:
    """Progress over the whole export: rows, then documents, then checksums."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress
        self._reported = -1

    def add(self, steps: int = 1) -> None:
        self.done += steps
        # Report about every 1/200 of the way: smooth, without a signal per row.
        if self.progress is not None and (self.done - self._reported >= self.total // 200
                                          or self.done >= self.total):
            self._reported = self.done
            self.progress(min(self.done, self.total), self.total)


def bundle_target(path: Path, *, as_zip: bool) -> Path:
    """Where the bundle goes: ``path``, with .zip added for a zip file."""
    if as_zip and path.suffix.lower() != ".zip":
        return path.with_name(path.name + ".zip")
    return path


def check_target(target: Path, *, as_zip: bool, replace: bool = False) -> None:
    """Refuse a target that is taken (a file, or a folder with something in it)."""
    if not target.parent.is_dir():
        raise KairanError(_("The folder {folder} does not exist. Choose an existing folder.")
                          .format(folder=target.parent))
    if as_zip:
        if target.is_dir() or (target.exists() and not replace):
            raise KairanError(_("{file} already exists. Choose another name, or delete it "
                                "first.").format(file=target))
        return
    if target.is_file() or (target.is_dir() and any(target.iterdir())):
        raise KairanError(_("{folder} already exists and is not empty. Choose a new folder "
                            "name for the export.").format(folder=target))


# ---------------------------------------------------------------- the tables


def _xlsx_value(sheet: WriteOnlyWorksheet, kind: ColumnType, value: Any) -> object:
    """A cell for Excel: readable, within Excel's limits; the JSON keeps the exact value."""
    if value is None:
        return None
    if kind is ColumnType.DATETIME:
        cell = WriteOnlyCell(sheet, value=datetime.fromisoformat(value).replace(tzinfo=None))
        cell.number_format = _TIME_FORMAT
        return cell
    if kind is ColumnType.DATE:
        cell = WriteOnlyCell(sheet)
        cell.value = date.fromisoformat(value)
        cell.number_format = _DATE_FORMAT
        return cell
    if kind is ColumnType.BYTES:
        return _("({count} bytes of data: see the folder {folder})").format(
            count=len(base64.b64decode(value)), folder=ATTACHMENTS_DIR)
    if kind is ColumnType.JSON:
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if len(value) > _XLSX_TEXT:
            value = value[:_XLSX_TEXT] + "…"
        if value.startswith("="):  # text, never a formula
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
    return value


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    """Every row of ``table`` in primary-key order, encoded for JSON."""
    kinds = [(codec.name, codec.kind) for codec in codecs(table)]
    result = connection.execute(select(table).order_by(*table.primary_key.columns))
    while batch := result.fetchmany(_BATCH):
        for row in batch:
            mapping = row._mapping
            yield {name: encode(kind, mapping[name]) for name, kind in kinds}


def _write_table(connection: Connection, table: Table, folder: Path,
                 counter: _Counter) -> int:
    """``data/<table>.json`` and ``tables/<table>.xlsx``, in one pass over the rows."""
    names = [column.name for column in table.columns]
    kinds = [codec.kind for codec in codecs(table)]
    headers = [f"{name} (UTC)" if kind is ColumnType.DATETIME else name
               for name, kind in zip(names, kinds, strict=True)]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.name)
    sheet.append(headers)
    count = 0
    json_path = folder / DATA_DIR / f"{table.name}.json"
    try:
        with json_path.open("w", encoding="utf-8", newline="\n") as out:
            out.write('{"table": ' + json.dumps(table.name) + ', "columns": '
                      + json.dumps(names) + ', "rows": [')
            for row in _rows(connection, table):
                out.write(("\n" if count == 0 else ",\n")
                          + json.dumps(row, ensure_ascii=False, separators=(",", ":")))
                if count and count % _XLSX_ROWS_PER_SHEET == 0:
                    part = count // _XLSX_ROWS_PER_SHEET + 1
                    sheet = workbook.create_sheet(f"{table.name} ({part})")
                    sheet.append(headers)
                sheet.append([_xlsx_value(sheet, kind, row[name])
                              for name, kind in zip(names, kinds, strict=True)])
                count += 1
                counter.add()
            out.write("\n]}\n")
        workbook.save(folder / XLSX_DIR / f"{table.name}.xlsx")
    except BaseException:
        from reports.xlsx_files import discard_workbook

        discard_workbook(workbook)
        raise
    return count


def _write_attachments(connection: Connection, folder: Path) -> None:
    """The circulars' attached files as they were added, one folder per circular."""
    table = SQLModel.metadata.tables["circular_attachment"]
    rows = connection.execute(select(table.c.circular_id, table.c.position, table.c.file_name,
                                     table.c.data)
                              .order_by(table.c.circular_id, table.c.position))
    for circular_id, position, file_name, data in rows:
        place = folder / ATTACHMENTS_DIR / str(circular_id)
        place.mkdir(parents=True, exist_ok=True)
        (place / f"{position:02d}_{safe_name(file_name)}").write_bytes(data)


# ---------------------------------------------------------------- the manifest


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _manifest(session: Session, folder: Path, counts: dict[str, int], *, created: datetime,
              skipped: list[str], counter: _Counter) -> dict[str, object]:
    association = get_association(session)
    files: dict[str, dict[str, object]] = {}
    found = _files(folder)
    counter.total = counter.done + len(found)  # now the number of files is known
    for path in found:
        data = path.read_bytes()
        files[path.relative_to(folder).as_posix()] = {"sha256": sha256_of(data),
                                                      "bytes": len(data)}
        counter.add()
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "kairan_version": __version__,
        "schema_revision": migrate.head_revision(),
        "created_at": created.isoformat(),
        "association": {"id": str(association.id), "name": association.name},
        "excluded_tables": sorted(EXCLUDED_TABLES),
        "tables": {table.name: {"file": f"{DATA_DIR}/{table.name}.json",
                                "xlsx": f"{XLSX_DIR}/{table.name}.xlsx",
                                "rows": counts[table.name],
                                "columns": describe_columns(table)}
                   for table in exported_tables()},
        "documents_skipped": skipped,
        "files": files,
    }


# ---------------------------------------------------------------- putting it in place


def _zip(folder: Path, target: Path, *, top: str) -> None:
    temporary = target.with_name(f".{target.name}-{secrets.token_hex(4)}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in _files(folder):
                archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _place(folder: Path, target: Path, *, as_zip: bool) -> None:
    try:
        if as_zip:
            _zip(folder, target, top=target.stem)
            return
        if target.is_dir():  # an empty folder the officer made for it
            target.rmdir()
        folder.rename(target)
    except PermissionError:
        raise KairanError(_("{target} cannot be written: it is open in another program or "
                            "read-only. Close it there, or choose another place.").format(
            target=target)) from None


def export_bundle(session: Session, target: Path, *, as_zip: bool = False, today: date,
                  replace: bool = False, progress: Progress | None = None) -> ExportResult:
    """Write every table, the circulars' attachments, the PDFs, README.md and manifest.json
    to ``target`` (a new or empty folder, or a .zip file with ``as_zip``).

    ``progress(done, total)`` is called along the way; raising from it cancels the export,
    and nothing is left behind. ``replace`` lets a zip replace an existing file (the save
    dialog asked).
    """
    target = bundle_target(target.expanduser().absolute(), as_zip=as_zip)
    check_target(target, as_zip=as_zip, replace=replace)
    created = datetime.now(UTC).replace(microsecond=0)
    tables = exported_tables()
    connection = session.connection()
    counts = {table.name: int(connection.execute(select(func.count()).select_from(table))
                              .scalar_one()) for table in tables}
    documents = plan_documents(session, today=today)
    # The checksums come last, one step per file: tables twice (JSON, xlsx), documents,
    # README (attachments are counted once their number is known).
    total = sum(counts.values()) + len(documents) + 2 * len(tables) + len(documents) + 1
    counter = _Counter(total, progress)
    counter.add(0)
    folder = target.with_name(f".{target.name}-{secrets.token_hex(4)}.tmp")
    try:
        folder.mkdir()
        (folder / DATA_DIR).mkdir()
        (folder / XLSX_DIR).mkdir()
        rows = 0
        for table in tables:
            rows += _write_table(connection, table, folder, counter)
        _write_attachments(connection, folder)
        skipped = []
        for document in documents:
            problem = write_document(session, document, folder)
            if problem is not None:
                skipped.append(problem)
            counter.add()
        association = get_association(session).name
        (folder / README).write_text(
            readme_text(association=association, created=f"{created:%Y-%m-%d %H:%M} UTC",
                        version=__version__, revision=migrate.head_revision(),
                        skipped=skipped),
            encoding="utf-8", newline="\n")
        manifest = _manifest(session, folder, counts, created=created, skipped=skipped,
                             counter=counter)
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                       encoding="utf-8", newline="\n")
        _place(folder, target, as_zip=as_zip)
    except PermissionError:
        raise KairanError(_("Kairan cannot save in the folder {folder}. Choose a folder you can "
                            "save in, such as Documents.").format(folder=target.parent)) from None
    except OSError as error:
        raise KairanError(_("The export to {target} could not be written ({reason}). Check "
                            "that the disk has free space and try again.").format(
            target=target, reason=error.strerror or error)) from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if progress is not None:
        progress(counter.total, counter.total)
    return ExportResult(target, len(tables), rows, len(documents) - len(skipped),
                        tuple(skipped))

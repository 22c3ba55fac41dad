"""Read a bundle back into an empty Kairan file: the same association, ids kept.

Before anything is written the bundle is checked: it must be a Kairan bundle, not from a
newer Kairan (format version or schema revision this one does not know), and every file must
match the SHA-256 in its manifest. Then every table goes in, in one transaction, with foreign
keys checked at commit (a 班 may name a parent 班 that comes later in the file). The audit
records are restored verbatim, with recording paused so the import itself adds none: their
hash chain verifies as it did.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import Connection, Table, exc, func, select, text
from sqlmodel import Session, SQLModel

from desktop.domain import audit
from desktop.domain.bundle.format import (
    FORMAT_VERSION,
    MANIFEST,
    BundleProblem,
    ColumnCodec,
    Manifest,
    NewerBundle,
    Progress,
    TableEntry,
    TamperedBundle,
    bad_value_message,
    check_columns,
    codecs,
    column_names,
    exported_tables,
    order_tables,
    parse_manifest,
    sha256_of,
)
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store import migrate

_INSERT_BATCH = 5000


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What was read back."""

    association: str
    tables: int
    rows: int


# ---------------------------------------------------------------- reading a bundle


class BundleReader:
    """The files of a bundle, from a folder or a zip file (read in place, never unpacked)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_dir():
            if not (path / MANIFEST).is_file():
                raise BundleProblem(_("{folder} is not a Kairan bundle: it has no {manifest}. "
                                      "Choose the folder that 「Export everything」 wrote.")
                                    .format(folder=path, manifest=MANIFEST))
            return
        if path.name == MANIFEST and path.is_file():  # the manifest chosen inside the folder
            self.path = path.parent
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile):
            raise BundleProblem(_("{file} is not a Kairan bundle (neither a bundle folder nor "
                                  "a zip file of one).").format(file=path)) from None
        self._prefix = self._find_prefix(self._zip.namelist())

    def _find_prefix(self, names: Sequence[str]) -> str:
        """The folder inside the zip that holds the manifest ("" when at the top)."""
        if MANIFEST in names:
            return ""
        tops = [name[:-len(MANIFEST)] for name in names
                if name.endswith("/" + MANIFEST) and name.count("/") == 1]
        if len(tops) != 1:
            raise BundleProblem(_("{file} is a zip file, but not of a Kairan bundle: it has "
                                  "no {manifest}.").format(file=self.path, manifest=MANIFEST))
        return tops[0]

    def read(self, name: str) -> bytes:
        """The bytes of the bundle file ``name`` (a manifest name, already checked safe)."""
        try:
            if self._zip is not None:
                return self._zip.read(self._prefix + name)
            return self.path.joinpath(*PurePosixPath(name).parts).read_bytes()
        except (KeyError, FileNotFoundError):
            raise TamperedBundle(_("The file {name} listed in the bundle's manifest is "
                                   "missing. The bundle is incomplete: use a complete copy.")
                                 .format(name=name)) from None

    def close(self) -> None:
        """Close the zip file, if any."""
        if self._zip is not None:
            self._zip.close()


@contextmanager
def open_bundle(path: Path) -> Iterator[BundleReader]:
    """The bundle at ``path`` (a folder, its manifest.json, or a zip file) for reading."""
    if not path.exists():
        raise BundleProblem(_("There is nothing at {path}.").format(path=path))
    reader = BundleReader(path)
    try:
        yield reader
    finally:
        reader.close()


def read_manifest(reader: BundleReader) -> Manifest:
    """The bundle's manifest, refused if it comes from a newer Kairan."""
    try:
        raw = json.loads(reader.read(MANIFEST))
    except (ValueError, UnicodeDecodeError):
        raw = None
    if not isinstance(raw, dict):
        raise BundleProblem(_("The {manifest} of {bundle} is damaged: it is not readable JSON.")
                            .format(manifest=MANIFEST, bundle=reader.path))
    manifest = parse_manifest(raw, where=MANIFEST)
    newer = _("This bundle was written by a newer version of Kairan ({version}). Install the "
              "newest Kairan to import it; this version leaves it untouched.").format(
        version=manifest.kairan_version or "?")
    if manifest.format_version > FORMAT_VERSION:
        raise NewerBundle(newer)
    if not migrate.is_known_revision(manifest.schema_revision):
        raise NewerBundle(newer)
    return manifest


def verify_files(reader: BundleReader, manifest: Manifest, *,
                 progress: Progress | None = None, offset: int = 0,
                 total: int = 0) -> dict[str, bytes]:
    """Check every file against its SHA-256; returns the data files' bytes (read once)."""
    data_files = {entry.file for entry in manifest.tables}
    kept: dict[str, bytes] = {}
    for done, (name, digest) in enumerate(sorted(manifest.files.items()), start=1):
        data = reader.read(name)
        if sha256_of(data) != digest:
            raise TamperedBundle(_(
                "The file {name} of the bundle differs from what was exported (its SHA-256 "
                "does not match the manifest): it was changed or damaged. Nothing was "
                "imported; use an untouched copy of the bundle.").format(name=name))
        if name in data_files:
            kept[name] = data
        if progress is not None:
            progress(offset + done, total)
    return kept


def check_bundle(path: Path) -> Manifest:
    """Check a bundle without importing it: its versions and every file's checksum."""
    with open_bundle(path) as reader:
        manifest = read_manifest(reader)
        verify_files(reader, manifest)
    return manifest


# ---------------------------------------------------------------- writing the tables


def _check_empty(session: Session) -> None:
    connection = session.connection()
    for table in SQLModel.metadata.sorted_tables:
        if connection.execute(select(func.count()).select_from(table)).scalar_one():
            raise KairanError(_("A bundle can only be imported into a new, empty Kairan file; "
                                "this file already holds an association. Choose a new file "
                                "name."))


def _decode_rows(entry: TableEntry, table: Table, raw: bytes) -> list[dict[str, object]]:
    """The rows of one data file, checked against the manifest and decoded for insertion."""
    damaged = _("{file} is damaged: it is not the table the manifest describes. Use an "
                "untouched copy of the bundle.").format(file=entry.file)
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BundleProblem(damaged) from None
    names = column_names(entry)
    if (not isinstance(document, dict) or document.get("table") != entry.name
            or document.get("columns") != names or not isinstance(document.get("rows"), list)
            or len(document["rows"]) != entry.rows):
        raise BundleProblem(damaged)
    ours = {codec.name: codec for codec in codecs(table)}
    used: list[ColumnCodec] = [ours[name] for name in names]
    expected = set(names)
    rows: list[dict[str, object]] = []
    for number, row in enumerate(document["rows"], start=1):
        if not isinstance(row, dict) or set(row) != expected:
            raise BundleProblem(damaged)
        decoded: dict[str, object] = {}
        for codec in used:
            value = row[codec.name]
            try:
                decoded[codec.name] = codec.decode(value)
            except ValueError:
                raise BundleProblem(bad_value_message(
                    file=entry.file, row=number, column=codec.name, kind=codec.kind,
                    value=value)) from None
        rows.append(decoded)
    return rows


def _check_tables(manifest: Manifest) -> list[tuple[TableEntry, Table]]:
    ours = {table.name for table in exported_tables()}
    unknown = [entry.name for entry in manifest.tables if entry.name not in ours]
    if unknown:
        raise NewerBundle(_("This bundle has tables this version of Kairan does not know "
                            "({tables}). It was written by a newer Kairan: install the newest "
                            "Kairan to import it.").format(tables=", ".join(unknown)))
    missing = ours - {entry.name for entry in manifest.tables}
    if missing and manifest.schema_revision == migrate.head_revision():
        raise TamperedBundle(_("The bundle's manifest lacks the tables {tables}. The bundle is "
                               "incomplete: use a complete copy.").format(
            tables=", ".join(sorted(missing))))
    pairs = order_tables(manifest.tables)
    for entry, table in pairs:
        check_columns(entry, table)
    return pairs


def import_bundle(session: Session, bundle: Path, *,
                  progress: Progress | None = None) -> ImportResult:
    """Read the bundle at ``bundle`` into the empty file of ``session`` (its write
    transaction: all or nothing). Refuses a newer, damaged or edited bundle before writing.

    ``progress(done, total)`` counts files checked, then rows written; raising from it
    cancels (the caller's transaction is then rolled back).
    """
    with open_bundle(bundle) as reader:
        manifest = read_manifest(reader)
        pairs = _check_tables(manifest)
        rows_total = sum(entry.rows for entry in manifest.tables)
        total = len(manifest.files) + rows_total
        data = verify_files(reader, manifest, progress=progress, total=total)
    _check_empty(session)
    connection = session.connection()
    # Checked once at commit: rows may refer to rows later in their own table.
    connection.execute(text("PRAGMA defer_foreign_keys = ON"))
    done = len(manifest.files)
    written = 0
    with audit.paused(session):
        for entry, table in pairs:
            rows = _decode_rows(entry, table, data[entry.file])
            for start in range(0, len(rows), _INSERT_BATCH):
                batch = rows[start:start + _INSERT_BATCH]
                _insert(connection, table, batch, entry)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            written += len(rows)
        _check_foreign_keys(connection)
    return ImportResult(manifest.association_name, len(pairs), written)


def _insert(connection: Connection, table: Table, rows: list[dict[str, object]],
            entry: TableEntry) -> None:
    try:
        connection.execute(table.insert(), rows)
    except exc.IntegrityError as error:
        raise BundleProblem(_("The rows of {file} do not fit together (two rows with one id, "
                              "or a value missing): the bundle was changed or damaged. "
                              "Nothing was imported.").format(file=entry.file)) from error


def _check_foreign_keys(connection: Connection) -> None:
    """Name a row that refers to a missing one now, rather than fail at commit."""
    problem = connection.execute(text("PRAGMA foreign_key_check")).first()
    if problem is not None:
        raise BundleProblem(_("In the table {table} of the bundle, a row refers to a row of "
                              "{parent} that is not there: the bundle was changed or damaged. "
                              "Nothing was imported.").format(table=problem[0],
                                                              parent=problem[2]))


def import_into_new_file(bundle: Path, path: Path, *,
                         progress: Progress | None = None) -> ImportResult:
    """Make a new Kairan file at ``path`` and import ``bundle`` into it. When anything goes
    wrong (a refused bundle, a cancel) the new file is removed again: no half file stays."""
    from desktop.store.association_file import create_association_file

    path = path.expanduser().absolute()
    with open_bundle(bundle) as reader:  # refuse a bad bundle before making the file
        read_manifest(reader)
    created = create_association_file(path)
    try:
        with created.write() as session:
            result = import_bundle(session, bundle, progress=progress)
    except BaseException:
        created.close()
        for leftover in (path, path.with_name(path.name + "-wal"),
                         path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise
    created.close()
    return result

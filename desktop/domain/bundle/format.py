"""What a bundle is: its layout, its manifest, and how every column type is written as JSON.

A bundle is a folder (or a zip of one)::

    manifest.json        format and versions, tables with their columns, sha256 of every file
    README.md            the format in Japanese and English
    data/<table>.json    every table, the source of truth for re-import
    tables/<table>.xlsx  the same tables for Excel (long values shortened, see README)
    attachments/…        the circulars' attached files as they were added
    pdf/…                circulars, roster lists and meeting results, as printed

The JSON keeps exact values and types: ids as UUID text, dates and times in ISO 8601 (times in
UTC with their offset), binary data in base64, JSON columns as JSON. The manifest names each
column's type, so the files can be read without Kairan. Sync tables (``outbox_op``,
``sync_state``) and the replication's own tables (``replica_*``) are left out: pairing with
a relay and sharing with the other office PCs belong to one PC.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    LargeBinary,
    String,
    Table,
    TypeDecorator,
    Uuid,
)
from sqlmodel import SQLModel

from desktop.domain import models  # noqa: F401  (registers every table in the metadata)
from desktop.domain.errors import KairanError
from desktop.i18n import _

FORMAT_NAME = "kairan-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
README = "README.md"
DATA_DIR = "data"
XLSX_DIR = "tables"
ATTACHMENTS_DIR = "attachments"
PDF_DIR = "pdf"
# Pairing with a relay is per PC: a bundle restored elsewhere starts unpaired. The mail
# channel's delivery records are rebuilt from the relay's log by each PC, so they stay out too.
EXCLUDED_TABLES = frozenset({"outbox_op", "sync_state", "replica_change", "replica_shadow",
                             "replica_tombstone", "replica_review", "mail_delivery",
                             "mail_problem"})

Progress = Callable[[int, int], None]


class BundleProblem(KairanError):
    """A bundle that cannot be read back: not a bundle, damaged or edited, or too new."""


class NewerBundle(BundleProblem):
    """Written by a newer Kairan (a newer format or schema revision than this one knows)."""


class TamperedBundle(BundleProblem):
    """A file of the bundle is missing or differs from the checksum in its manifest."""


class ColumnType(enum.StrEnum):
    """How a column's values are written in the JSON files."""

    UUID = "uuid"  # "0190f1c2-…", lower case with hyphens
    TEXT = "text"
    ENUM = "enum"  # text, one of the listed values
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"  # "2026-04-01"
    DATETIME = "datetime"  # "2026-04-01T09:30:00.123456+00:00" (UTC)
    JSON = "json"  # any JSON value
    BYTES = "bytes"  # base64


def exported_tables() -> list[Table]:
    """The tables a bundle carries, parents before children (the order to insert them in)."""
    return [table for table in SQLModel.metadata.sorted_tables
            if table.name not in EXCLUDED_TABLES]


# Checked in this order: an Enum is also a String, so it comes first.
_STORED_AS: tuple[tuple[type[Any], ColumnType], ...] = (
    (Uuid, ColumnType.UUID), (Enum, ColumnType.ENUM), (DateTime, ColumnType.DATETIME),
    (Date, ColumnType.DATE), (Boolean, ColumnType.BOOLEAN), (Integer, ColumnType.INTEGER),
    (JSON, ColumnType.JSON), (LargeBinary, ColumnType.BYTES), (String, ColumnType.TEXT),
)


def column_type(column: Column[Any]) -> ColumnType:
    """The bundle type of ``column``; a column type without a codec is a bug, found here."""
    kind = column.type
    while isinstance(kind, TypeDecorator):  # AutoString, UTCDateTime: judged by what they store
        kind = kind.impl_instance
    for stored, bundle_type in _STORED_AS:
        if isinstance(kind, stored):
            return bundle_type
    raise TypeError(f"no bundle codec for {column.table.name}.{column.name}: {kind!r}")


def enum_values(column: Column[Any]) -> list[str]:
    """The values an enum column may hold, as stored."""
    kind = column.type
    assert isinstance(kind, Enum)
    return [str(value) for value in kind.enums]


# ---------------------------------------------------------------- values to and from JSON


def _encode_datetime(moment: datetime) -> str:
    if moment.utcoffset() is None:  # SQLite keeps UTC without an offset
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


_ENCODERS: dict[ColumnType, Callable[[Any], Any]] = {
    ColumnType.UUID: str,
    ColumnType.ENUM: lambda value: value.value if isinstance(value, enum.Enum) else str(value),
    ColumnType.DATETIME: _encode_datetime,
    ColumnType.DATE: lambda value: value.isoformat(),
    ColumnType.BYTES: lambda value: base64.b64encode(value).decode("ascii"),
}


def encode(kind: ColumnType, value: Any) -> Any:
    """``value`` as read from the database, as the JSON file holds it."""
    if value is None:
        return None
    encoder = _ENCODERS.get(kind)
    return value if encoder is None else encoder(value)


class _BadValue(ValueError):
    """A JSON value that does not fit its column (the caller names file, row and column)."""


def _decode_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise _BadValue
    moment = datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _decode_uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise _BadValue
    return uuid.UUID(value)


def _decode_date(value: object) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise _BadValue
    return date.fromisoformat(value)


def _decode_bytes(value: object) -> bytes:
    if not isinstance(value, str):
        raise _BadValue
    return base64.b64decode(value, validate=True)


def _decode_integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _BadValue
    return value


def _decode_boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _BadValue
    return value


def _decode_text(value: object) -> str:
    if not isinstance(value, str):
        raise _BadValue
    return value


_DECODERS: dict[ColumnType, Callable[[object], object]] = {
    ColumnType.UUID: _decode_uuid,
    ColumnType.TEXT: _decode_text,
    ColumnType.INTEGER: _decode_integer,
    ColumnType.BOOLEAN: _decode_boolean,
    ColumnType.DATE: _decode_date,
    ColumnType.DATETIME: _decode_datetime,
    ColumnType.JSON: lambda value: value,
    ColumnType.BYTES: _decode_bytes,
}


@dataclass(frozen=True, slots=True)
class ColumnCodec:
    """Reads one column's JSON values back into what the database takes."""

    name: str
    kind: ColumnType
    nullable: bool
    enum_class: type[enum.Enum] | None = None
    values: tuple[str, ...] = ()

    def decode(self, value: object) -> object:
        """The value to insert; raises ValueError when it does not fit the column."""
        if value is None:
            if not self.nullable:
                raise _BadValue
            return None
        if self.kind is ColumnType.ENUM:
            if not isinstance(value, str) or value not in self.values:
                raise _BadValue
            return self.enum_class(value) if self.enum_class is not None else value
        try:
            return _DECODERS[self.kind](value)
        except (ValueError, TypeError) as error:
            raise _BadValue from error


def codecs(table: Table) -> list[ColumnCodec]:
    """A codec for every column of ``table``, in table order."""
    found = []
    for column in table.columns:
        kind = column_type(column)
        enum_class = None
        values: tuple[str, ...] = ()
        if kind is ColumnType.ENUM:
            assert isinstance(column.type, Enum)
            enum_class = column.type.enum_class
            values = tuple(enum_values(column))
        found.append(ColumnCodec(column.name, kind, bool(column.nullable), enum_class, values))
    return found


def describe_columns(table: Table) -> list[dict[str, object]]:
    """The manifest's description of a table's columns: name, type, nullable, enum values."""
    described: list[dict[str, object]] = []
    for codec in codecs(table):
        entry: dict[str, object] = {"name": codec.name, "type": codec.kind.value,
                                    "nullable": codec.nullable}
        if codec.values:
            entry["values"] = list(codec.values)
        described.append(entry)
    return described


def bad_value_message(*, file: str, row: int, column: str, kind: ColumnType,
                      value: object) -> str:
    """What to tell the officer about a value that does not fit its column."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "…"
    return _("{file}, row {row}, column {column}: {value} is not a valid {kind} value. The "
             "bundle was changed or damaged after it was written; use an untouched copy.").format(
        file=file, row=row, column=column, value=shown, kind=kind.value)


# ---------------------------------------------------------------- the manifest


def sha256_of(data: bytes) -> str:
    """The hex SHA-256 digest the manifest records for a file."""
    return hashlib.sha256(data).hexdigest()


_SAFE_PART = re.compile(r"^[^/\\\x00]+$")


def is_safe_member(name: str) -> bool:
    """Whether a file name from a manifest stays inside the bundle (no absolute paths, no
    ``..``, no drive letters), so reading it can never reach other files."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ":" in name or "\\" in name:
        return False
    return all(part not in ("", ".", "..") and _SAFE_PART.match(part) for part in path.parts)


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One table as the manifest lists it."""

    name: str
    file: str
    rows: int
    columns: tuple[dict[str, object], ...]


@dataclass(frozen=True, slots=True)
class Manifest:
    """The parts of ``manifest.json`` an import relies on."""

    format_version: int
    kairan_version: str
    schema_revision: str
    association_name: str
    tables: tuple[TableEntry, ...]
    files: Mapping[str, str]  # name → sha256


def parse_manifest(raw: Mapping[str, Any], *, where: str) -> Manifest:
    """Check the manifest's shape and read it. Newer versions are refused by the caller."""
    broken = BundleProblem(_(
        "{file} is not a Kairan bundle manifest, or it is damaged. Use the folder or zip file "
        "that 「Export everything」 wrote, untouched.").format(file=where))
    version, revision = raw.get("format_version"), raw.get("schema_revision")
    files, tables = raw.get("files"), raw.get("tables")
    if (raw.get("format") != FORMAT_NAME or not isinstance(version, int)
            or isinstance(version, bool) or not isinstance(revision, str) or not revision
            or not isinstance(files, dict) or not isinstance(tables, dict)):
        raise broken
    checked: dict[str, str] = {}
    for name, entry in files.items():
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not (isinstance(name, str) and is_safe_member(name) and isinstance(digest, str)):
            raise broken
        checked[name] = digest
    entries = []
    for name, entry in tables.items():
        if not isinstance(entry, dict):
            raise broken
        file, rows, columns = entry.get("file"), entry.get("rows"), entry.get("columns")
        if not (isinstance(file, str) and file in checked and isinstance(rows, int)
                and isinstance(columns, list)
                and all(isinstance(column, dict) for column in columns)):
            raise broken
        entries.append(TableEntry(str(name), file, rows, tuple(columns)))
    association = raw.get("association")
    association_name = association.get("name", "") if isinstance(association, dict) else ""
    return Manifest(version, str(raw.get("kairan_version", "")), revision,
                    str(association_name), tuple(entries), checked)


def column_names(entry: TableEntry) -> list[str]:
    """The names of the columns a manifest lists for a table."""
    return [str(column.get("name")) for column in entry.columns]


def check_columns(entry: TableEntry, table: Table) -> None:
    """Refuse a table whose columns this Kairan does not have, or has with another type."""
    ours = {codec.name: codec.kind.value for codec in codecs(table)}
    for column in entry.columns:
        name, kind = column.get("name"), column.get("type")
        if name not in ours or ours[str(name)] != kind:
            raise NewerBundle(_(
                "The table {table} of this bundle has a column {column} that this version of "
                "Kairan does not know. It was written by a newer Kairan: install the newest "
                "Kairan to import it.").format(table=entry.name, column=name))


def order_tables(entries: Sequence[TableEntry]) -> list[tuple[TableEntry, Table]]:
    """The bundle's tables paired with ours, in insertion order (parents first)."""
    by_name = {entry.name: entry for entry in entries}
    return [(by_name[table.name], table) for table in exported_tables()
            if table.name in by_name]

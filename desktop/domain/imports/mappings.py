"""Remembering how an officer mapped a spreadsheet's columns, for the next file like it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session, select

from desktop.domain.imports.model import Field
from desktop.domain.models import ImportMapping


def remembered_mappings(session: Session) -> dict[str, dict[Field, int]]:
    """Every remembered mapping: header signature → field → column."""
    return {
        mapping.signature: {Field(key): column for key, column in mapping.columns.items()
                            if key in Field.__members__.values()}
        for mapping in session.exec(select(ImportMapping)).all()
    }


def remember_mapping(session: Session, *, signature: str, columns: Mapping[Field, int]) -> None:
    """Keep the mapping the officer confirmed for files with these headers."""
    mapping = session.get(ImportMapping, signature) or ImportMapping(signature=signature)
    mapping.columns = {field.value: column for field, column in columns.items()}
    mapping.updated_at = datetime.now(UTC).replace(microsecond=0)
    session.add(mapping)
    session.flush()

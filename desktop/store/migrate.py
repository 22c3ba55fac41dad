"""Schema revisions of the association file: which one a file has, and upgrading it.

Revision ids are the four-digit prefixes of the scripts in ``migrations/versions`` and the
history is linear, so the known revisions and the head are read from the file names: opening
a current file never pays for importing Alembic (a test checks this agrees with Alembic).
"""

from __future__ import annotations

import re
import sqlite3
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.store.engine import IMMEDIATE, make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_SCRIPT_NAME = re.compile(r"^(\d{4})_\w+\.py$")


def alembic_config() -> Config:
    """An Alembic configuration over the shipped migration scripts (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def known_revisions() -> tuple[str, ...]:
    """Every schema revision this version of Kairan knows, oldest first."""
    names = (path.name for path in (MIGRATIONS_DIR / "versions").iterdir())
    return tuple(sorted(match[1] for name in names if (match := _SCRIPT_NAME.match(name))))


def head_revision() -> str:
    """The newest schema revision this version of Kairan knows."""
    return known_revisions()[-1]


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of ours (a newer Kairan may have written one we do not know)."""
    return revision in known_revisions()


def current_revision(connection: sqlite3.Connection) -> str | None:
    """The revision stamped in an open file, or None for a file without one."""
    has_table = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_table:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def upgrade(path: Path, revision: str = "head") -> None:
    """Bring the file at ``path`` to ``revision`` in one transaction.

    Foreign keys are off while tables are rebuilt (SQLite batch migrations copy tables) and
    checked once at the end, as SQLite's documentation prescribes for schema changes.
    """
    from alembic import command

    engine = make_engine(path, foreign_keys=False)
    try:
        with engine.execution_options(**{IMMEDIATE: True}).begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")
    finally:
        engine.dispose()

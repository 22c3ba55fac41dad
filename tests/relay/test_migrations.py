"""The relay's migrations: they build exactly the tables the code declares, on both backends,
and the app refuses a database that is not at the current revision."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sync.relay.app import SchemaOutOfDate, create_app
from sync.relay.config import Settings
from sync.relay.db import current_revision, head_revision, open_database, upgrade
from sync.relay.mail_tables import mail_message as _mail_tables  # noqa: F401  (join the metadata)
from sync.relay.tables import metadata
from tests.relay.relay_server import office_only

if importlib.util.find_spec("sync.relay.resident_tables") is not None:
    import sync.relay.resident_tables  # noqa: F401  (its tables join the metadata)


def test_migrations_build_the_declared_schema(database_url: str) -> None:
    database = open_database(database_url)
    try:
        upgrade(database)
        upgrade(database)  # a second run finds nothing to do
        with database.read() as connection:
            assert current_revision(connection) == head_revision()
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        database.dispose()
    assert differences == []


def test_the_app_refuses_a_database_behind_the_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = open_database(url)
    upgrade(database, "0001")
    app = create_app(Settings(database_url=url), database=database,
                     resident_routes=office_only)

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    import anyio

    if head_revision() == "0001":
        anyio.run(start)
    else:
        with pytest.raises(SchemaOutOfDate, match="kairan-relay upgrade"):
            anyio.run(start)
    database.dispose()

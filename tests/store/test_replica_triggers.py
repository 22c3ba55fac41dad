"""The change-recording triggers cover every column of every shared table as the models
define them (a migration that adds a column must install them again), record nothing while
sharing is off, and the replication schema number follows the migrations."""

from __future__ import annotations

from desktop.store import migrate
from desktop.store.association_file import AssociationFile
from desktop.store.replica_triggers import shared_tables_of_models, trigger_statements
from sync.replica.envelope import REPLICA_SCHEMA


def test_installed_triggers_match_the_models(association_file: AssociationFile) -> None:
    with association_file.read() as session:
        installed = {name: " ".join(sql.split()) for name, sql in session.connection()
                     .exec_driver_sql("SELECT name, sql FROM sqlite_master "
                                      "WHERE type = 'trigger' AND name LIKE 'replica_%'").all()}
    expected = {}
    for table in shared_tables_of_models().values():
        for statement in trigger_statements(table):
            name = statement.split()[2]
            expected[name] = " ".join(statement.split())
    assert installed == expected


def test_nothing_is_recorded_while_sharing_is_off(association_file: AssociationFile) -> None:
    from tests.sync.replica_helpers import add_household

    add_household(association_file, "1", "山田")
    with association_file.read() as session:
        assert session.connection().exec_driver_sql(
            "SELECT count(*) FROM replica_change").scalar() == 0


def test_the_replication_schema_is_the_migration_head() -> None:
    assert int(migrate.head_revision()) == REPLICA_SCHEMA

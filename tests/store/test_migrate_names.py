"""The fast revision look-up from file names agrees with Alembic's own view of the history."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from desktop.store import migrate


def test_file_names_give_alembic_history_and_head() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    history = [script.revision for script in scripts.walk_revisions()]
    assert tuple(reversed(history)) == migrate.known_revisions()
    assert scripts.get_current_head() == migrate.head_revision()
    assert len(scripts.get_heads()) == 1, "history must stay linear"

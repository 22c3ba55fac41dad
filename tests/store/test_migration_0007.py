"""Migration 0007: meetings made before it keep everything and stay paper-only."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from desktop.domain.meeting.meetings import item_records
from desktop.domain.models import Meeting
from desktop.store import migrate
from desktop.store.association_file import open_association
from tests.store.test_migrations import _first_revision_file, _revision


def test_a_0006_meeting_survives_and_takes_no_online_forms(tmp_path: Path) -> None:
    path = _first_revision_file(tmp_path / "old.kairan", "0006")
    meeting_id, item_id = uuid.uuid4(), uuid.uuid4()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(
            "INSERT INTO meeting (id, title, held_on, place, record_date, rules, created_at) "
            "VALUES (?, '定期総会', '2026-06-28', '集会所', '2026-06-01', '{}', "
            "'2026-05-01 00:00:00')", (meeting_id.hex,))
        connection.execute(
            "INSERT INTO meeting_item (id, meeting_id, position, title, majority, "
            "added_after_forms, created_at) VALUES (?, ?, 0, '事業報告', "
            "'{\"numerator\": 1, \"denominator\": 2, \"strict\": true, "
            "\"base\": \"present\"}', 0, '2026-05-01 00:00:00')",
            (item_id.hex, meeting_id.hex))
        connection.commit()
    opened = open_association(path)
    try:
        with opened.read() as session:
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None and meeting.online_forms is False
            assert meeting.place == "集会所"
            assert [i.index for i in item_records(session, meeting_id)] == [0]
    finally:
        opened.close()
    assert _revision(path) == migrate.head_revision()

"""The status bar's word on sync, in English and in the Japanese of the issue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from desktop.i18n import set_language
from desktop.ui.sync_status import SyncStatusLabel, status_details, status_text
from sync.engine import Outcome, SyncStatus

JST = timezone(timedelta(hours=9))
NOW = datetime(2026, 6, 1, 11, 0, tzinfo=JST)
SYNCED = datetime(2026, 6, 1, 1, 42, tzinfo=UTC)  # 10:42 in Japan


@pytest.mark.parametrize(("status", "syncing", "text"), [
    (SyncStatus(paired=False), False, ""),
    (SyncStatus(True, pending=12, outcome=Outcome.OFFLINE), False,
     "Offline・12 waiting to be sent"),
    (SyncStatus(True, outcome=Outcome.SYNCED, synced_at=SYNCED), False, "Synced 10:42"),
    (SyncStatus(True, synced_at=SYNCED - timedelta(days=2)), False, "Synced 5/30 10:42"),
    (SyncStatus(True, pending=3, rejected=1, outcome=Outcome.SYNCED, synced_at=SYNCED), False,
     "Synced 10:42・3 waiting to be sent・1 sync problems"),
    (SyncStatus(True, pending=3, synced_at=SYNCED), True, "Syncing…・3 waiting to be sent"),
    (SyncStatus(True, outcome=Outcome.BUSY, pending=1), False,
     "Relay busy, trying again soon・1 waiting to be sent"),
    (SyncStatus(True, outcome=Outcome.REFUSED, error="revoked"), False, "Sync stopped"),
    (SyncStatus(True, error="no keyring"), False, "Sync stopped"),  # as the file recorded it
    (SyncStatus(True), False, "Not synced yet"),
])
def test_status_text(status: SyncStatus, syncing: bool, text: str) -> None:
    assert status_text(status, syncing=syncing, now=NOW) == text


def test_the_japanese_of_the_issue() -> None:
    set_language("ja")
    assert status_text(SyncStatus(True, pending=12, outcome=Outcome.OFFLINE), syncing=False,
                       now=NOW) == "オフライン・12件送信待ち"
    assert status_text(SyncStatus(True, outcome=Outcome.SYNCED, synced_at=SYNCED),
                       syncing=False, now=NOW) == "同期済み 10:42"


def test_the_label_hides_for_an_unpaired_file_and_explains_in_its_tooltip(qtbot: object
                                                                           ) -> None:
    label = SyncStatusLabel()
    label.show_status(SyncStatus(paired=False), syncing=False, now=NOW)
    assert label.isHidden()
    status = SyncStatus(True, outcome=Outcome.OFFLINE, error="The relay cannot be reached.",
                        relay_url="https://relay.example.jp", synced_at=SYNCED)
    label.show_status(status, syncing=False, now=NOW)
    assert not label.isHidden() and label.text() == "Offline"
    assert label.toolTip() == status_details(status, now=NOW) == (
        "Relay: https://relay.example.jp\nLast synced: 10:42\nThe relay cannot be reached.")

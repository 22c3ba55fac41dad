"""Disaster mode and the safety board: events kept, answers entered by officers, the board per
班 with answered, unanswered, needs contact and needs help now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.models import ReplyChannel, SafetyStatus
from desktop.domain.safety import (
    disaster_state,
    record_safety_answer,
    safety_board,
    set_disaster_mode,
    status_label,
)
from desktop.store.association_file import AssociationFile
from tests.domain.test_circulars import Town, build_town

START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


def test_switching_on_and_off_keeps_every_event(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        assert disaster_state(session) is None
        set_disaster_mode(session, on=True, message=" 避難所は\n公民館 ", at=START, by="会長")
        state = disaster_state(session)
        assert state is not None and state.on and state.message == "避難所は 公民館"
        set_disaster_mode(session, on=False, at=START + timedelta(hours=5))
        over = disaster_state(session)
        assert over is not None and not over.on and over.event_id == state.event_id
        set_disaster_mode(session, on=True, at=START + timedelta(days=30))
        newest = disaster_state(session)
        assert newest is not None and newest.on and newest.event_id != state.event_id
        with pytest.raises(ValidationError, match="longer than"):
            set_disaster_mode(session, on=True, message="あ" * 401, at=START)


def test_the_board_per_han(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        with pytest.raises(ConflictError, match="never been switched on"):
            record_safety_answer(session, entry="0001", status=SafetyStatus.OK, at=START)
        set_disaster_mode(session, on=True, at=START)
        record_safety_answer(session, entry="1", status=SafetyStatus.OK, at=START,
                             channel=ReplyChannel.IN_PERSON, entered_by="田中")
        record_safety_answer(session, entry="0002", status=SafetyStatus.OK, needs_help=True,
                             at=START + timedelta(minutes=1))
        record_safety_answer(session, entry="0004", status=SafetyStatus.URGENT,
                             note="  けが人 あり ", at=START + timedelta(minutes=2))
        # A later answer replaces the earlier one on the board.
        record_safety_answer(session, entry="0006", status=SafetyStatus.CONTACT,
                             at=START + timedelta(minutes=3))
        record_safety_answer(session, entry="0006", status=SafetyStatus.OK,
                             at=START + timedelta(minutes=4))
        with pytest.raises(NotFoundError, match="No household has the number 9999"):
            record_safety_answer(session, entry="9999", status=SafetyStatus.OK, at=START)
        with pytest.raises(ConflictError, match="withdrawn"):
            record_safety_answer(session, entry="0007", status=SafetyStatus.OK, at=START)
        board = safety_board(session)
    lines = {group.group_name: (group.answered, len(group.unanswered), group.needs_contact,
                                group.needs_help_now) for group in board.groups}
    assert lines == {"1班": (2, 1, 1, 0), "2班": (1, 1, 0, 1), "3班": (1, 0, 0, 0),
                     "": (0, 1, 0, 0)}
    assert [group.group_name for group in board.groups] == ["1班", "2班", "3班", ""]
    [han1] = [g for g in board.groups if g.group_name == "1班"]
    assert [h.number for h in han1.households] == ["0003", "0001", "0002"]  # route order
    assert [h.number for h in han1.unanswered] == ["0003"]
    [urgent] = [h for g in board.groups for h in g.households if h.number == "0004"]
    assert (urgent.note, urgent.channel) == ("けが人 あり", ReplyChannel.PHONE)


def test_a_new_event_starts_a_fresh_board(association_file: AssociationFile, town: Town
                                          ) -> None:
    with association_file.write() as session:
        set_disaster_mode(session, on=True, at=START)
        record_safety_answer(session, entry="0001", status=SafetyStatus.OK,
                             at=START + timedelta(minutes=1))
        first = disaster_state(session)
        set_disaster_mode(session, on=False, at=START + timedelta(hours=1))
        set_disaster_mode(session, on=True, at=START + timedelta(days=1))
        assert sum(g.answered for g in safety_board(session).groups) == 0
        assert first is not None
        old = safety_board(session, event_id=first.event_id)  # the record stays
        assert sum(g.answered for g in old.groups) == 1


def test_status_labels_are_plain_words() -> None:
    assert status_label(SafetyStatus.URGENT) == "Needs help now (至急支援要)"

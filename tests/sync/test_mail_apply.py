"""``mail`` log items applied to the file: the latest event per circular, household and
address (by the event's time, so a page applied again changes nothing), bounced and stopped
addresses as mail problems, an opened link as a read mark, and nothing for a household or a
circular this file does not hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, col, select

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.households import (
    HouseholdData,
    create_household,
    get_household,
    purge_household,
    update_household,
)
from desktop.domain.models import (
    Ask,
    MailDelivery,
    MailEvent,
    MailProblem,
    MailProblemKind,
    NoticeChannel,
)
from desktop.store.association_file import AssociationFile
from sync.apply import apply_items, read_markers
from sync.engine import sync_once
from sync.protocol import MAIL_EVENTS, LogItem, LogKind
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import FakeRelay, mark_paired

SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
T1, T2, T3 = (f"2026-06-0{day}T10:00:00+00:00" for day in (2, 3, 4))


class Setup:
    """The town, a sent circular, and 0100: an e-mail household with two addresses."""

    def __init__(self, town: Town, circular_id: uuid.UUID, household_id: uuid.UUID) -> None:
        self.town, self.circular_id, self.household_id = town, circular_id, household_id


@pytest.fixture
def setup(association_file: AssociationFile) -> Setup:
    with association_file.write() as session:
        town = build_town(session)
        household_id = create_household(session, data=HouseholdData(
            number="0100", display_name="世帯0100", channel=NoticeChannel.EMAIL,
            emails=("a@example.jp", "b@example.jp")), group_id=town.han1)
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練", body="", issued_on=date(2026, 6, 1), ask=Ask.READ,
            deadline=date(2026, 6, 15)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    return Setup(town, circular_id, household_id)


def _mail(household_id: uuid.UUID, circular_id: uuid.UUID | None, event: str, *,
          address: str = "a@example.jp", detail: str = "", at: str = T1) -> dict[str, Any]:
    return {"household_id": str(household_id),
            "circular_id": str(circular_id) if circular_id is not None else None,
            "address": address, "event": event, "detail": detail, "at": at}


def _items(*bodies: dict[str, Any]) -> list[LogItem]:
    return [LogItem(seq, LogKind.MAIL, body, body.get("at") or T1)
            for seq, body in enumerate(bodies, start=1)]


def _deliveries(session: Session) -> dict[tuple[uuid.UUID | None, uuid.UUID, str],
                                          tuple[str, str]]:
    rows = session.exec(select(MailDelivery)).all()
    assert len(rows) == len({(r.circular_id, r.household_id, r.address) for r in rows})
    return {(r.circular_id, r.household_id, r.address): (str(r.event), r.detail) for r in rows}


def _problems(session: Session) -> dict[tuple[uuid.UUID, str], tuple[str, str]]:
    return {(r.household_id, r.address): (str(r.problem), r.detail)
            for r in session.exec(select(MailProblem)).all()}


def test_the_events_match_the_wire_contract() -> None:
    assert tuple(str(event) for event in MailEvent) == MAIL_EVENTS
    assert {str(kind) for kind in MailProblemKind} == {"bounced", "unsubscribed"}


def test_the_latest_event_of_each_mail_is_kept(association_file: AssociationFile,
                                               setup: Setup) -> None:
    household, circular = setup.household_id, setup.circular_id
    items = _items(
        _mail(household, circular, "sent", at=T1),
        _mail(household, circular, "sent", address="b@example.jp", at=T1),
        _mail(household, circular, "bounced", address="b@example.jp",
              detail="550 5.1.1 User\n unknown", at=T2),
        _mail(household, circular, "opened", address="", at=T3),
    )
    with association_file.write() as session:
        applied = apply_items(session, items)
        again = apply_items(session, items)  # a page pulled twice
        older = apply_items(session, _items(  # an older event never covers a newer one
            _mail(household, circular, "sent", address="b@example.jp", at=T1)))
        deliveries = _deliveries(session)
        reads = read_markers(session, circular_id=circular)
    assert (applied.mail, applied.reads, applied.skipped) == (4, 1, 0)
    assert (again.changed, older.changed) == (0, 0)
    assert deliveries == {
        (circular, household, "a@example.jp"): ("sent", ""),
        (circular, household, "b@example.jp"): ("bounced", "550 5.1.1 User unknown"),
        (circular, household, ""): ("opened", ""),
    }
    assert reads == {household: datetime.fromisoformat(T3)}  # the link read it


def test_a_read_mark_and_an_opened_link_count_once(association_file: AssociationFile,
                                                   setup: Setup) -> None:
    household, circular = setup.household_id, setup.circular_id
    read = LogItem(1, LogKind.READ, {"circular_id": str(circular),
                                     "household_id": str(household), "at": T1}, T1)
    with association_file.write() as session:
        applied = apply_items(session, [read, *_items(_mail(household, circular, "opened",
                                                            address="", at=T2))])
        reads = read_markers(session, circular_id=circular)
    assert (applied.reads, applied.mail) == (1, 1)
    assert reads == {household: datetime.fromisoformat(T1)}  # the first reading counts


def test_bounced_and_stopped_addresses_become_problems(association_file: AssociationFile,
                                                       setup: Setup) -> None:
    household, circular = setup.household_id, setup.circular_id
    email_0005 = setup.town.households["0005"]
    with association_file.write() as session:
        apply_items(session, _items(
            _mail(household, circular, "bounced", address="b@example.jp", detail="550 no"),
            _mail(household, circular, "failed", detail="451 try later"),  # not for good
            _mail(household, circular, "bounced", address="gone@example.jp"),  # not on record
            _mail(email_0005, None, "unsubscribed", address="", at=T2)))  # every address
        assert _problems(session) == {
            (household, "b@example.jp"): ("bounced", "550 no"),
            (email_0005, "x@example.jp"): ("unsubscribed", ""),
        }
        assert _deliveries(session)[(None, email_0005, "")] == ("unsubscribed", "")
        apply_items(session, _items(_mail(household, None, "unsubscribed",
                                          address="b@example.jp", at=T3)))
        assert _problems(session)[(household, "b@example.jp")] == ("unsubscribed", "")


def test_a_problem_for_a_household_no_longer_mailed_is_not_kept(
    association_file: AssociationFile, setup: Setup
) -> None:
    household, circular = setup.household_id, setup.circular_id
    with association_file.write() as session:
        record = get_household(session, household_id=household)
        update_household(session, household_id=household, members=record.members,
                         data=HouseholdData(number="0100", display_name="世帯0100",
                                            emails=record.data.emails))  # now paper
        applied = apply_items(session, _items(_mail(household, circular, "bounced")))
        assert _problems(session) == {}
    assert applied.mail == 1  # the mail's fate is still shown for the circular


def test_items_for_unknown_or_purged_households_and_circulars_are_skipped(
    association_file: AssociationFile, setup: Setup
) -> None:
    household, circular = setup.household_id, setup.circular_id
    withdrawn = setup.town.households["0007"]
    with association_file.write() as session:
        applied = apply_items(session, _items(
            _mail(uuid.uuid4(), circular, "sent"),
            _mail(household, uuid.uuid4(), "sent"),  # a circular deleted here
            _mail(household, circular, "delivered"),  # an event this version does not know
            {"household_id": "not an id", "event": "sent"},
            _mail(withdrawn, None, "bounced", address="x@example.jp")))
        assert (applied.mail, applied.skipped) == (1, 4)  # the withdrawn one is still here
        assert _problems(session) == {}  # but no longer mailed: nothing to fix
        purge_household(session, household_id=withdrawn)  # its mail rows go with it
        assert not session.exec(select(MailDelivery).where(
            col(MailDelivery.household_id) == withdrawn)).all()
        purged = apply_items(session, _items(_mail(withdrawn, None, "sent")))
    assert (purged.mail, purged.skipped) == (0, 1)


def test_a_pull_applies_mail_items_in_its_transaction(association_file: AssociationFile,
                                                      setup: Setup) -> None:
    with association_file.write() as session:
        mark_paired(session)
    relay = FakeRelay()
    relay.add(LogKind.MAIL, _mail(setup.household_id, setup.circular_id, "sent"))
    relay.add("mail.addresses", {"household_id": str(setup.household_id),
                                 "addresses": ["a@example.jp"]})  # our own op: ignored
    status = sync_once(association_file, relay)
    assert (status.applied.mail, status.applied.skipped) == (1, 1)
    with association_file.read() as session:
        assert _deliveries(session) == {
            (setup.circular_id, setup.household_id, "a@example.jp"): ("sent", "")}

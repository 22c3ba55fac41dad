"""What the office tells the relay for the e-mail channel: ``mail.addresses`` right after a
household's upsert when its addresses (or channel) change, for every e-mail household in the
pairing snapshot, never an implausible address; ``mail.resend``; and mail problems forgotten
when the relay is no longer given the address."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from desktop.domain.groups import rename_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
    create_household,
    delete_new_household,
    get_household,
    move_household,
    readmit_household,
    update_household,
    withdraw_household,
)
from desktop.domain.models import (
    Household,
    MailProblem,
    MailProblemKind,
    NoticeChannel,
    OutboxOp,
)
from desktop.domain.text import is_plausible_email
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.protocol import Op, OpKind, check_op, is_mail_address
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import mark_paired

AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _queued(session: Session) -> list[tuple[str, dict[str, Any]]]:
    ops = session.exec(select(OutboxOp).order_by(col(OutboxOp.position))).all()
    for op in ops:  # every queued body is one the relay takes
        check_op(Op(str(op.id), op.kind, op.body))
    return [(op.kind, dict(op.body)) for op in ops]


def _take(session: Session) -> list[tuple[str, Any]]:
    """The queued ops as (kind, addresses or number), emptying the queue."""
    queued = [(kind, body["addresses"] if kind == OpKind.MAIL_ADDRESSES else body.get("number"))
              for kind, body in _queued(session)]
    outbox.clear(session)
    return queued


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


def _email(number: str, *emails: str, channel: NoticeChannel = NoticeChannel.EMAIL
           ) -> HouseholdData:
    return HouseholdData(number=number, display_name=f"世帯{number}", channel=channel,
                         emails=emails)


def _edit(session: Session, household_id: uuid.UUID, **changes: Any) -> None:
    record = get_household(session, household_id=household_id)
    data = HouseholdData(**{**{name: getattr(record.data, name) for name in (
        "number", "display_name", "channel", "emails")}, **changes})
    update_household(session, household_id=household_id, data=data, members=record.members)


def test_addresses_follow_the_upsert_only_when_they_change(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        mark_paired(session)
        household = create_household(session, data=_email("0100", "a@example.jp",
                                                          "b@example.jp"))
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100"),
                                  (OpKind.MAIL_ADDRESSES, ["a@example.jp", "b@example.jp"])]
        _edit(session, household, display_name="新しい名前")  # the relay's addresses stay
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100")]
        _edit(session, household, emails=("b@example.jp", "c@example.jp"))
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100"),
                                  (OpKind.MAIL_ADDRESSES, ["b@example.jp", "c@example.jp"])]
        _edit(session, household, channel=NoticeChannel.PAPER)  # no more mail
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100"),
                                  (OpKind.MAIL_ADDRESSES, [])]
        _edit(session, household, emails=("d@example.jp",))  # paper still: nothing to mail
        move_household(session, household_id=household, group_id=town.han1)
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100")] * 2
        _edit(session, household, channel=NoticeChannel.EMAIL)
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100"),
                                  (OpKind.MAIL_ADDRESSES, ["d@example.jp"])]
        withdraw_household(session, household_id=household, left_on=date(2026, 3, 31))
        assert _take(session) == [(OpKind.HOUSEHOLD_PURGE, None)]  # the purge is enough
        readmit_household(session, household_id=household)  # the relay forgot them
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0100"),
                                  (OpKind.MAIL_ADDRESSES, ["d@example.jp"])]
        paper = create_household(session, data=_email("0101", "p@example.jp",
                                                      channel=NoticeChannel.PAPER))
        delete_new_household(session, household_id=paper)
        assert _take(session) == [(OpKind.HOUSEHOLD_UPSERT, "0101"),
                                  (OpKind.HOUSEHOLD_PURGE, None)]


def test_two_changes_in_one_edit_are_compared_with_before_the_first(
    association_file: AssociationFile, town: Town
) -> None:
    """The window saves an edit and a move in one transaction; undo does both back."""
    with association_file.write() as session:
        mark_paired(session)
        household = create_household(session, data=_email("0100", "a@example.jp"))
        outbox.clear(session)
    with association_file.write() as session:
        _edit(session, household, channel=NoticeChannel.PAPER)
        move_household(session, household_id=household, group_id=town.han2)
        _edit(session, household, channel=NoticeChannel.EMAIL)  # and back again
        kinds = [kind for kind, _value in _take(session)]
    assert kinds == [OpKind.HOUSEHOLD_UPSERT, OpKind.MAIL_ADDRESSES,  # [] after the first
                     OpKind.HOUSEHOLD_UPSERT,  # the move: no change of addresses
                     OpKind.HOUSEHOLD_UPSERT, OpKind.MAIL_ADDRESSES]  # the address again


@pytest.mark.parametrize("address", [
    "bad@", "@example.jp", "a b@example.jp", "山田＠example.jp", "a@example", "a@@example.jp",
    "a@example..jp", f"{'x' * 250}@example.jp", "",
])
def test_an_implausible_address_is_never_sent(
    association_file: AssociationFile, town: Town, address: str
) -> None:
    """Neither check lets it through; a file may hold one (older Kairan, another PC)."""
    assert not (is_plausible_email(address) and is_mail_address(address))
    household = town.households["0005"]
    with association_file.write() as session:
        mark_paired(session)
        session.execute(update(Household).where(col(Household.id) == household).values(
            emails=[address, " ok@example.jp ", "ok@example.jp"]))
        outbox.household_changed(session, household_id=household)  # changed outside the ORM
        outbox.enqueue_snapshot(session, today=date(2026, 6, 1))
        session.execute(update(Household).where(col(Household.id) == household).values(
            emails=[address]))
        outbox.household_changed(session, household_id=household)
        sent = [body["addresses"] for kind, body in _queued(session)
                if kind == OpKind.MAIL_ADDRESSES]
    assert sent == [["ok@example.jp"], ["ok@example.jp"], []]


def test_the_two_checks_agree_on_plausible_addresses() -> None:
    for address in ("taro@example.jp", "t.yamada+kairan@mail.example.co.jp", "山田@例え.jp",
                    "x@a.b"):
        assert is_plausible_email(address) and is_mail_address(address)
    assert outbox.mail_addresses(channel=NoticeChannel.EMAIL, emails=[
        "a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp", "e@example.jp",
        None, 5]) == ("a@example.jp", "b@example.jp", "c@example.jp", "d@example.jp")
    assert outbox.mail_addresses(channel=NoticeChannel.APP, emails=["a@example.jp"]) == ()
    assert outbox.mail_addresses(channel=NoticeChannel.EMAIL, emails=["a@example.jp"],
                                 left_on=date(2026, 1, 1)) == ()


def test_an_import_sends_the_addresses_of_its_email_households(
    association_file: AssociationFile, town: Town
) -> None:
    new = [NewHousehold(uuid.uuid4(), town.han3, 10 + index, data, (MemberData(name="住人"),))
           for index, data in enumerate((
               _email("0200", "m@example.jp", "n@example.jp"),
               _email("0201", "p@example.jp", channel=NoticeChannel.PAPER),
               _email("0202", channel=NoticeChannel.APP)))]
    with association_file.write() as session:
        mark_paired(session)
        bulk_add_households(session, new)
        assert _take(session) == [
            (OpKind.HOUSEHOLD_UPSERT, "0200"),
            (OpKind.MAIL_ADDRESSES, ["m@example.jp", "n@example.jp"]),
            (OpKind.HOUSEHOLD_UPSERT, "0201"), (OpKind.HOUSEHOLD_UPSERT, "0202")]
        rename_group(session, group_id=town.han3, name="三班")  # names only
        assert {kind for kind, _value in _take(session)} == {OpKind.HOUSEHOLD_UPSERT}


def test_the_snapshot_gives_each_email_household_its_addresses(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        paper = create_household(session, data=_email("0300", "old@example.jp",
                                                      channel=NoticeChannel.PAPER))
        mark_paired(session)
        count = outbox.enqueue_snapshot(session, today=date(2026, 6, 1))
        queued = _queued(session)
    assert count == len(queued)
    kinds = [kind for kind, _body in queued]
    assert kinds.count(OpKind.HOUSEHOLD_UPSERT) == 8 and kinds.count(OpKind.MAIL_ADDRESSES) == 2
    for index, (kind, body) in enumerate(queued):
        if kind == OpKind.MAIL_ADDRESSES:  # right after the upsert of the same household
            assert queued[index - 1][0] == OpKind.HOUSEHOLD_UPSERT
            assert queued[index - 1][1]["household_id"] == body["household_id"]
    mailed = {body["household_id"]: body["addresses"] for kind, body in queued
              if kind == OpKind.MAIL_ADDRESSES}
    # A relay paired before may still hold the paper household's old address: told [].
    assert mailed == {str(town.households["0005"]): ["x@example.jp"], str(paper): []}


def test_resend_names_the_circular_and_households_in_lists_the_relay_takes(
    association_file: AssociationFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    circular, households = uuid.uuid4(), [uuid.uuid4() for _ in range(5)]
    with association_file.write() as session:
        assert outbox.mail_resend(session, circular_id=circular, household_ids=households) == 0
        mark_paired(session)
        monkeypatch.setattr(outbox, "MAX_LIST", 2)
        assert outbox.mail_resend(session, circular_id=circular, household_ids=households) == 3
        queued = _queued(session)
    assert [kind for kind, _body in queued] == [OpKind.MAIL_RESEND] * 3
    assert {body["circular_id"] for _kind, body in queued} == {str(circular)}
    assert [id_ for _kind, body in queued for id_ in body["household_ids"]] == [
        str(h) for h in households]


def _problems(session: Session) -> set[tuple[uuid.UUID, str]]:
    return {(row.household_id, row.address) for row in session.exec(select(MailProblem))}


def test_a_problem_ends_when_the_relay_is_no_longer_given_the_address(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        one = create_household(session, data=_email("0100", "a@example.jp", "b@example.jp"))
        two = create_household(session, data=_email("0101", "c@example.jp"))
        for household, address in ((one, "a@example.jp"), (one, "b@example.jp"),
                                   (two, "c@example.jp")):
            session.add(MailProblem(household_id=household, address=address,
                                    problem=MailProblemKind.BOUNCED, detail="550", at=AT))
        session.flush()
        _edit(session, one, display_name="名前だけ")  # not paired: still kept in step
        assert _problems(session) == {(one, "a@example.jp"), (one, "b@example.jp"),
                                      (two, "c@example.jp")}
        _edit(session, one, emails=("a@example.jp", "new@example.jp"))  # b edited away
        assert _problems(session) == {(one, "a@example.jp"), (two, "c@example.jp")}
        _edit(session, one, channel=NoticeChannel.PAPER)  # 紙に切り替える
        withdraw_household(session, household_id=two, left_on=date(2026, 3, 31))
        assert _problems(session) == set()

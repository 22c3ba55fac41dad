"""What the handover carries besides roles: circulars awaiting answers, memos per role; the
role rules it checks (required roles, conflicting pairs); earlier circulars as templates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from desktop.domain.circulars import (
    CircularData,
    copy_circular_as_draft,
    create_circular,
    get_circular,
    send_circular,
)
from desktop.domain.errors import NotFoundError, ValidationError
from desktop.domain.groups import create_group, delete_group
from desktop.domain.handover import apply_handover, plan_handover
from desktop.domain.handover_items import (
    MAX_MEMO_LENGTH,
    add_memo,
    delete_memo,
    list_memos,
    open_circulars,
    restore_memo,
    update_memo,
)
from desktop.domain.households import HouseholdData, MemberData, create_household, get_household
from desktop.domain.models import Ask, ReplyChannel, RoleConflict, TargetKind
from desktop.domain.replies import record_reply
from desktop.domain.roles import (
    DEFAULT_CONFLICTS,
    DEFAULT_REQUIRED,
    add_conflict,
    assign_role,
    conflicts_of,
    create_role,
    delete_role,
    list_conflicts,
    list_roles,
    remove_conflict,
    role_board,
    set_conflicts,
    set_role_required,
    update_role,
    years_on_record,
)
from desktop.store.association_file import AssociationFile


def _roles(session: Session) -> dict[str, uuid.UUID]:
    return {role.name: role.id for role in list_roles(session)}


def _households(session: Session, group: uuid.UUID, numbers: list[str]) -> dict[str, uuid.UUID]:
    return {number: create_household(
        session, data=HouseholdData(number=number, display_name=f"住民 {number}"),
        members=(MemberData(name=f"住民 {number}", is_head=True),), group_id=group)
        for number in numbers}


def _member(session: Session, household_id: uuid.UUID) -> uuid.UUID:
    member_id = get_household(session, household_id=household_id).members[0].id
    assert member_id is not None
    return member_id


# ---------------------------------------------------------------- circulars awaiting answers


def test_open_circulars_list_the_unanswered_by_han(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han_1, han_2 = create_group(session, name="1班"), create_group(session, name="2班")
        _households(session, han_1, ["01", "02", "03"])
        _households(session, han_2, ["11", "12"])

        def sent(title: str, issued_on: date, ask: Ask = Ask.ATTENDANCE) -> uuid.UUID:
            circular_id = create_circular(session, data=CircularData(
                title=title, body="", issued_on=issued_on, ask=ask,
                deadline=issued_on if ask != Ask.NOTHING else None))
            send_circular(session, circular_id=circular_id,
                          sent_at=datetime(issued_on.year, issued_on.month, issued_on.day,
                                           tzinfo=UTC))
            return circular_id

        old = sent("昨年度の回覧", date(2025, 6, 1))
        notice = sent("お知らせ", date(2026, 6, 1), Ask.NOTHING)
        done = sent("全員回答済み", date(2026, 7, 1))
        open_one = sent("夏祭り", date(2026, 8, 1))
        for number in ("01", "02", "03", "11", "12"):
            record_reply(session, circular_id=done, entry=number, answers=["出席"],
                         channel=ReplyChannel.PAPER, received_at=datetime(2026, 7, 2,
                                                                          tzinfo=UTC))
        record_reply(session, circular_id=open_one, entry="02", answers=["欠席"],
                     channel=ReplyChannel.PAPER, received_at=datetime(2026, 8, 2, tzinfo=UTC))
        found = open_circulars(session, since=date(2026, 4, 1))
    assert [item.circular_id for item in found] == [open_one]
    [item] = found
    assert (item.recipients, item.answered, item.unanswered) == (5, 1, 4)
    assert [(g.group_name, g.count) for g in item.by_group] == [("1班", 2), ("2班", 2)]
    assert old not in {i.circular_id for i in found} and notice != open_one


# ---------------------------------------------------------------- memos


def test_memos_are_written_edited_deleted_and_put_back(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        roles = _roles(session)
        chair = add_memo(session, year=2027, role_id=roles["会長"],
                         text="  会館の鍵は金庫に。\r\n印鑑は会計。\n\n", written_by=" 山田 ")
        office = add_memo(session, year=2027, role_id=None, text="全体の申し送り")
        add_memo(session, year=2026, role_id=None, text="去年の分")
        memos = list_memos(session, year=2027)
        assert [(m.role_name, m.text, m.written_by) for m in memos] == [
            ("", "全体の申し送り", ""), ("会長", "  会館の鍵は金庫に。\n印鑑は会計。", "山田")]
        assert memos[1].written_at.tzinfo is not None
        before = update_memo(session, memo_id=chair, text="鍵は書記に。", role_id=roles["書記"],
                             written_by="")
        assert before.text.endswith("印鑑は会計。")
        [memo] = [m for m in list_memos(session, year=2027) if m.id == chair]
        assert (memo.role_name, memo.text, memo.written_by) == ("書記", "鍵は書記に。", "山田")
        removed = delete_memo(session, memo_id=office)
        assert [m.id for m in list_memos(session, year=2027)] == [chair]
        restore_memo(session, memo=removed)
        assert {m.id for m in list_memos(session, year=2027)} == {chair, office}


def test_bad_memos_are_refused_with_what_to_do(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        for text in ("", "  \n "):
            with pytest.raises(ValidationError, match="empty") as caught:
                add_memo(session, year=2027, role_id=None, text=text)
            assert caught.value.field == "text"
        with pytest.raises(ValidationError, match="longer"):
            add_memo(session, year=2027, role_id=None, text="あ" * (MAX_MEMO_LENGTH + 1))
        with pytest.raises(NotFoundError):
            add_memo(session, year=2027, role_id=uuid.uuid4(), text="x")
        with pytest.raises(NotFoundError):
            delete_memo(session, memo_id=uuid.uuid4())


# ---------------------------------------------------------------- role rules


def test_a_new_association_has_the_usual_rules(association_file: AssociationFile) -> None:
    with association_file.read() as session:
        roles = list_roles(session)
        pairs = {(p.role_name, p.other_role_name) for p in list_conflicts(session)}
        board = {slot.role_name: slot for slot in role_board(session, year=2027)}
    assert {r.name for r in roles if r.required} == set(DEFAULT_REQUIRED)
    assert pairs == set(DEFAULT_CONFLICTS)
    assert board["会長"].required and board["会長"].conflicts == ("会計",)
    assert board["会計"].conflicts == ("会長", "監事")


def test_conflicts_and_required_can_be_changed(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        roles = _roles(session)
        add_conflict(session, role_id=roles["書記"], other_role_id=roles["会長"])
        add_conflict(session, role_id=roles["会長"], other_role_id=roles["書記"])  # same pair
        assert len(session.exec(select(RoleConflict)).all()) == len(DEFAULT_CONFLICTS) + 1
        assert set(conflicts_of(session, role_id=roles["会長"])) == {roles["会計"], roles["書記"]}
        with pytest.raises(ValidationError, match="itself"):
            add_conflict(session, role_id=roles["会長"], other_role_id=roles["会長"])
        before = set_conflicts(session, role_id=roles["会長"], other_role_ids=[roles["監事"]])
        assert set(before) == {roles["会計"], roles["書記"]}
        assert conflicts_of(session, role_id=roles["会長"]) == (roles["監事"],)
        remove_conflict(session, role_id=roles["監事"], other_role_id=roles["会長"])
        assert conflicts_of(session, role_id=roles["会長"]) == ()

        assert set_role_required(session, role_id=roles["書記"], required=True) is False
        update_role(session, role_id=roles["書記"], name="書記", max_holders=1)  # kept
        assert next(r for r in list_roles(session) if r.name == "書記").required
        new = create_role(session, name="広報", required=True)
        add_conflict(session, role_id=new, other_role_id=roles["会計"])
        delete_role(session, role_id=new)  # its conflicts go with it
        assert all(new not in (c.role_id, c.other_role_id)
                   for c in session.exec(select(RoleConflict)).all())


def test_years_on_record_include_every_past_year(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        member = _member(session, _households(session, han, ["01"])["01"])
        for year in (2015, 2020, 2026):
            assign_role(session, role_id=_roles(session)["会長"], year=year, member_id=member)
        assert years_on_record(session) == [2015, 2020, 2026]


# ---------------------------------------------------------------- earlier circulars as templates


def test_an_earlier_circular_as_a_template_names_the_new_officers(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        roles = _roles(session)
        han_1, han_2 = create_group(session, name="1班"), create_group(session, name="2班")
        homes = _households(session, han_1, ["01", "02"])
        old_chair, new_chair = _member(session, homes["01"]), _member(session, homes["02"])
        assign_role(session, role_id=roles["会長"], year=2026, member_id=old_chair)
        source = create_circular(session, data=CircularData(
            title="夏祭り", body="本文", issued_on=date(2026, 7, 1), issuer="会長　住民 01",
            target_kind=TargetKind.GROUPS, target_group_ids=(han_1, han_2),
            ask=Ask.ATTENDANCE, deadline=date(2026, 7, 15)))
        delete_group(session, group_id=han_2)
        choices = plan_handover(session, new_year=2027).choices().with_slot(
            (roles["会長"], None), [])
        apply_handover(session, choices, done_by="")
        assign_role(session, role_id=roles["会長"], year=2027, member_id=new_chair)
        made = copy_circular_as_draft(session, circular_id=source, issued_on=date(2027, 7, 3))
        copy = get_circular(session, circular_id=made.circular_id)
        unchanged = copy_circular_as_draft(session, circular_id=made.circular_id,
                                           issued_on=date(2027, 7, 4))
    assert copy.data.issuer == "会長 住民 02"
    assert copy.data.target_group_ids == (han_1,)
    assert copy.data.deadline == date(2027, 7, 17)
    assert len(made.notes) == 2
    assert any("住民 02" in note for note in made.notes)
    assert any("no longer exist" in note for note in made.notes)
    assert unchanged.notes == ()  # nothing stale in a copy of this year's circular

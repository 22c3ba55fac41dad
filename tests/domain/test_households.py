"""Households and members: validation, writing, moving, withdrawing, purging and searching."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, func, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    add_member,
    clean_household,
    clean_members,
    create_household,
    get_household,
    han_route,
    move_household,
    purge_household,
    readmit_household,
    set_circulation_order,
    update_household,
    withdraw_household,
)
from desktop.domain.models import GroupKind, Household, Member, NoticeChannel
from desktop.domain.roles import assign_role, list_roles
from desktop.domain.roster import COLUMN_KEYS, filter_rows, load_roster
from desktop.store.association_file import AssociationFile


def _data(number: str = "001", name: str = "山田 太郎", **changes: object) -> HouseholdData:
    return replace(HouseholdData(number=number, display_name=name), **changes)  # type: ignore[arg-type]


def _add(
    session: Session,
    number: str = "001",
    name: str = "山田 太郎",
    *,
    members: tuple[MemberData, ...] = (),
    group_id: uuid.UUID | None = None,
    **changes: object,
) -> uuid.UUID:
    return create_household(
        session, data=_data(number, name, **changes), members=members, group_id=group_id
    )


def _order(session: Session, group_id: uuid.UUID) -> list[str]:
    rows = session.exec(
        select(Household.number)
        .where(Household.group_id == group_id)
        .order_by(Household.circulation_order)  # type: ignore[arg-type]
    ).all()
    return list(rows)


# ---------------------------------------------------------------- create, read, update


def test_create_and_get_household_with_members(association_file: AssociationFile) -> None:
    members = (
        MemberData(
            name=" 山田 太郎 ",
            furigana="ヤマダ タロウ",
            relation="世帯主",
            is_head=True,
            phone="090-1234-5678",
            email="taro@example.jp",
            app_access=True,
        ),
        MemberData(name="山田 花子", furigana="やまだ　はなこ", relation="妻"),
    )
    with association_file.write() as session:
        household_id = _add(
            session,
            furigana="ヤマダ",
            postal_code="〒１２３４５６７",
            address=" 桜町1-2-3 ",
            phone="03-1234-5678",
            channel=NoticeChannel.EMAIL,
            emails=("taro@example.jp", "ＨＡＮＡ@example.jp"),
            joined_on=date(2020, 4, 1),
            members=members,
        )
    with association_file.read() as session:
        record = get_household(session, household_id=household_id)
    assert record.id == household_id
    assert record.data.number == "001"
    assert record.data.display_name == "山田 太郎"
    assert record.data.postal_code == "123-4567"
    assert record.data.address == "桜町1-2-3"
    assert record.data.phone == "03-1234-5678"  # shown as written
    assert record.data.channel == NoticeChannel.EMAIL
    assert record.data.emails == ("taro@example.jp", "HANA@example.jp")
    assert record.data.joined_on == date(2020, 4, 1)
    assert record.left_on is None
    assert [m.name for m in record.members] == ["山田 太郎", "山田 花子"]
    assert record.members[0].is_head and record.members[0].app_access
    assert record.members[1].furigana == "やまだ はなこ"  # full-width space made single ASCII
    assert all(m.id is not None for m in record.members)


def test_update_replaces_facts_and_members(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(
            session,
            members=(MemberData(name="山田 太郎", is_head=True), MemberData(name="山田 花子")),
        )
    with association_file.read() as session:
        taro, hanako = get_household(session, household_id=household_id).members
    with association_file.write() as session:
        update_household(
            session,
            household_id=household_id,
            data=_data("002", "山田 花子", address="桜町2丁目"),
            members=(replace(hanako, is_head=True), MemberData(name="山田 一郎")),
        )
    with association_file.read() as session:
        record = get_household(session, household_id=household_id)
        member_count = session.exec(select(func.count()).select_from(Member)).one()
    assert record.data.number == "002"
    assert record.data.address == "桜町2丁目"
    assert [m.name for m in record.members] == ["山田 花子", "山田 一郎"]
    assert record.members[0].id == hanako.id  # kept, not re-created
    assert record.members[0].is_head
    assert taro.id not in {m.id for m in record.members}
    assert member_count == 2


def test_get_missing_household_is_not_found(association_file: AssociationFile) -> None:
    with association_file.read() as session, pytest.raises(NotFoundError):
        get_household(session, household_id=uuid.uuid4())


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_name": "  "}, "display_name"),
        ({"number": " 　"}, "number"),
        ({"furigana": "山田"}, "furigana"),
        ({"postal_code": "123-456"}, "postal_code"),
        ({"postal_code": "abc-defg"}, "postal_code"),
        ({"phone": "1234-5678"}, "phone"),
        ({"phone": "03-1234"}, "phone"),
        ({"emails": ("taro.example.jp",)}, "emails"),
        ({"emails": tuple(f"u{i}@example.jp" for i in range(5))}, "emails"),
        ({"channel": NoticeChannel.EMAIL}, "emails"),
        ({"channel": NoticeChannel.EMAIL, "emails": ("  ",)}, "emails"),
    ],
)
def test_invalid_household_is_refused_naming_the_field(
    association_file: AssociationFile, changes: dict[str, object], field: str
) -> None:
    with association_file.write() as session, pytest.raises(ValidationError) as caught:
        _add(session, **changes)
    assert caught.value.field == field
    assert caught.value.message


def test_postal_code_is_normalised(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        first = _add(session, "1", postal_code="1234567")
        second = _add(session, "2", postal_code="〒１２３－４５６７")
    with association_file.read() as session:
        assert get_household(session, household_id=first).data.postal_code == "123-4567"
        assert get_household(session, household_id=second).data.postal_code == "123-4567"


def test_four_emails_are_allowed_and_duplicates_collapse(
    association_file: AssociationFile,
) -> None:
    emails = (*(f"u{i}@example.jp" for i in range(4)), "u0@example.jp")
    with association_file.write() as session:
        household_id = _add(session, emails=emails)
    with association_file.read() as session:
        assert len(get_household(session, household_id=household_id).data.emails) == 4


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ((MemberData(name=" "),), "Member 1: the name is empty"),
        ((MemberData(name="太郎"), MemberData(name="花子", furigana="花子")), "Member 2"),
        ((MemberData(name="太郎", phone="12345"),), "not a telephone number"),
        ((MemberData(name="太郎", email="taro@"),), "not an e-mail address"),
        (
            (MemberData(name="太郎", is_head=True), MemberData(name="花子", is_head=True)),
            "Only one member",
        ),
        (tuple(MemberData(name=f"人{i}", app_access=True) for i in range(5)), "At most 4"),
    ],
)
def test_invalid_members_are_refused(
    association_file: AssociationFile, members: tuple[MemberData, ...], fragment: str
) -> None:
    with association_file.write() as session, pytest.raises(ValidationError) as caught:
        _add(session, members=members)
    assert caught.value.field == "members"
    assert fragment in caught.value.message


def test_four_app_members_are_allowed(association_file: AssociationFile) -> None:
    members = tuple(MemberData(name=f"人{i}", app_access=True) for i in range(4))
    with association_file.write() as session:
        household_id = _add(session, members=members)
    with association_file.read() as session:
        assert len(get_household(session, household_id=household_id).members) == 4


# ---------------------------------------------------------------- 世帯番号


def test_duplicate_number_names_the_other_household(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        _add(session, "012", "佐藤 一郎")
    with association_file.write() as session, pytest.raises(ConflictError) as caught:
        _add(session, "012", "鈴木 次郎")
    assert caught.value.field == "number"
    assert "佐藤 一郎" in caught.value.message
    assert "012" in caught.value.message
    assert "withdrawn" not in caught.value.message


def test_duplicate_number_of_withdrawn_household_is_refused(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        old = _add(session, "012", "佐藤 一郎")
        withdraw_household(session, household_id=old, left_on=date(2024, 3, 31))
    with association_file.write() as session, pytest.raises(ConflictError) as caught:
        _add(session, "012", "鈴木 次郎")
    assert "佐藤 一郎 (withdrawn)" in caught.value.message


def test_update_to_another_households_number_is_refused(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        _add(session, "001", "佐藤 一郎")
        second = _add(session, "002", "鈴木 次郎")
    with association_file.write() as session:
        update_household(
            session, household_id=second, data=_data("002", "鈴木 次郎"), members=()
        )  # keeping its own number is fine
        with pytest.raises(ConflictError, match="佐藤 一郎"):
            update_household(
                session, household_id=second, data=_data("001", "鈴木 次郎"), members=()
            )


def test_full_width_number_is_stored_half_width(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session, "０１２")
    with association_file.read() as session:
        assert get_household(session, household_id=household_id).data.number == "012"
    with association_file.write() as session, pytest.raises(ConflictError):
        _add(session, " 012 ", "別の 世帯")


# ---------------------------------------------------------------- 班 and the 回覧 route


def test_new_households_go_to_the_end_of_their_han(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        for number in ("3", "1", "2"):
            _add(session, number, f"世帯{number}", group_id=han)
        assert _order(session, han) == ["3", "1", "2"]


def test_move_appends_to_the_end_of_the_new_han(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        first = create_group(session, name="1班")
        second = create_group(session, name="2班")
        mover = _add(session, "1", "移動 する", group_id=first)
        _add(session, "2", "残る 世帯", group_id=first)
        _add(session, "3", "二班 a", group_id=second)
        _add(session, "4", "二班 b", group_id=second)
        move_household(session, household_id=mover, group_id=second)
        assert _order(session, second) == ["3", "4", "1"]
        assert _order(session, first) == ["2"]
        assert get_household(session, household_id=mover).group_id == second


def test_move_into_a_district_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han = create_group(session, name="1班", parent_id=district)
        household_id = _add(session, group_id=han)
        with pytest.raises(ValidationError) as caught:
            move_household(session, household_id=household_id, group_id=district)
        assert caught.value.field == "group"
        assert "東地区" in caught.value.message
        with pytest.raises(ValidationError):
            _add(session, "2", "別", group_id=district)
        assert get_household(session, household_id=household_id).group_id == han


def test_move_to_missing_group_is_not_found(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session)
        with pytest.raises(NotFoundError):
            move_household(session, household_id=household_id, group_id=uuid.uuid4())


def test_set_circulation_order(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        ids = [_add(session, n, f"世帯{n}", group_id=han) for n in ("a", "b", "c")]
        set_circulation_order(session, group_id=han, household_ids=[ids[2], ids[0], ids[1]])
    with association_file.read() as session:
        assert _order(session, han) == ["c", "a", "b"]
        assert get_household(session, household_id=ids[2]).circulation_order == 1


def test_set_circulation_order_refuses_a_household_of_another_han(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        other = create_group(session, name="2班")
        mine = _add(session, "1", "一", group_id=han)
        theirs = _add(session, "2", "二", group_id=other)
    with association_file.write() as session, pytest.raises(ConflictError, match="changed"):
        set_circulation_order(session, group_id=han, household_ids=[theirs, mine])


def test_set_circulation_order_refuses_a_partial_route(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        first = _add(session, "1", "一", group_id=han)
        _add(session, "2", "二", group_id=han)
    with association_file.write() as session, pytest.raises(ConflictError, match="changed"):
        set_circulation_order(session, group_id=han, household_ids=[first])


def test_a_member_of_another_household_is_refused_with_a_message(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        one = _add(session, "1", "一", members=(MemberData(name="一 花子"),))
        two = _add(session, "2", "二")
        stranger = get_household(session, household_id=one).members[0]
        record = get_household(session, household_id=two)
    with association_file.write() as session, pytest.raises(ConflictError, match="another"):
        update_household(session, household_id=two, data=record.data,
                         members=[*record.members, stranger])


# ---------------------------------------------------------------- withdraw, readmit, purge


def test_withdraw_and_readmit(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        household_id = _add(session, "1", "退会 する", group_id=han)
        _add(session, "2", "残る", group_id=han)
        withdraw_household(session, household_id=household_id, left_on=date(2025, 3, 31))
        assert get_household(session, household_id=household_id).left_on == date(2025, 3, 31)
        with pytest.raises(ConflictError, match="already withdrawn"):
            withdraw_household(session, household_id=household_id, left_on=date(2025, 4, 1))
        readmit_household(session, household_id=household_id)
        record = get_household(session, household_id=household_id)
        assert record.left_on is None
        assert _order(session, han) == ["2", "1"]  # back at the end of the route
        with pytest.raises(ConflictError, match="a member already"):
            readmit_household(session, household_id=household_id)


def test_withdrawal_before_joining_is_refused(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session, joined_on=date(2024, 4, 1))
        with pytest.raises(ValidationError) as caught:
            withdraw_household(session, household_id=household_id, left_on=date(2024, 3, 31))
        assert caught.value.field == "left_on"


def test_purge_only_withdrawn_and_removes_members(association_file: AssociationFile) -> None:
    members = (MemberData(name="山田 太郎", is_head=True), MemberData(name="山田 花子"))
    with association_file.write() as session:
        keep = _add(session, "1", "残る", members=(MemberData(name="残る 人"),))
        household_id = _add(session, "2", members=members)
        with pytest.raises(ConflictError, match="still a member"):
            purge_household(session, household_id=household_id)
        withdraw_household(session, household_id=household_id, left_on=date(2025, 1, 1))
        purge_household(session, household_id=household_id)
    with association_file.read() as session:
        with pytest.raises(NotFoundError):
            get_household(session, household_id=household_id)
        remaining = session.exec(select(Member.household_id)).all()
    assert remaining == [keep]


def test_purge_removes_role_history(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session, members=(MemberData(name="元 会長"),))
        member_id = get_household(session, household_id=household_id).members[0].id
        assert member_id is not None
        chair = next(role for role in list_roles(session) if role.name == "会長")
        assign_role(session, role_id=chair.id, year=2023, member_id=member_id)
        withdraw_household(session, household_id=household_id, left_on=date(2025, 1, 1))
        purge_household(session, household_id=household_id)
    with association_file.read() as session:
        assert session.get(Member, member_id) is None


def test_removing_a_member_who_holds_a_role_is_refused(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        household_id = _add(
            session, members=(MemberData(name="山田 太郎"), MemberData(name="山田 花子"))
        )
        taro, hanako = get_household(session, household_id=household_id).members
        assert taro.id is not None
        treasurer = next(role for role in list_roles(session) if role.name == "会計")
        assign_role(session, role_id=treasurer.id, year=2025, member_id=taro.id)
    with association_file.write() as session, pytest.raises(ConflictError) as caught:
        update_household(session, household_id=household_id, data=_data(), members=(hanako,))
    assert caught.value.field == "members"
    assert "山田 太郎" in caught.value.message
    assert "会計" in caught.value.message
    assert "2025" in caught.value.message
    assert "Remove the role first" in caught.value.message
    with association_file.read() as session:
        assert len(get_household(session, household_id=household_id).members) == 2


# ---------------------------------------------------------------- transactions


def test_failing_write_leaves_nothing_half_written(association_file: AssociationFile) -> None:
    created: list[uuid.UUID] = []
    with pytest.raises(RuntimeError, match="power cut"), association_file.write() as session:
        created.append(_add(session, members=(MemberData(name="山田 太郎"),)))
        raise RuntimeError("power cut")
    with association_file.read() as session:
        with pytest.raises(NotFoundError):
            get_household(session, household_id=created[0])
        assert session.exec(select(func.count()).select_from(Member)).one() == 0


def test_failing_update_keeps_the_old_household(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session, "1", "元の 名前")
    with pytest.raises(ConflictError), association_file.write() as session:
        update_household(
            session, household_id=household_id, data=_data("1", "新しい 名前"), members=()
        )
        _add(session, "1", "重複")  # fails after the update was flushed
    with association_file.read() as session:
        assert get_household(session, household_id=household_id).data.display_name == "元の 名前"


# ---------------------------------------------------------------- search text


@pytest.fixture
def searchable(association_file: AssociationFile) -> AssociationFile:
    with association_file.write() as session:
        _add(
            session,
            "101",
            "田中 一郎",
            furigana="タナカ イチロウ",
            phone="03-1234-5678",
            members=(
                MemberData(name="田中 一郎"),
                MemberData(name="田中 美咲", phone="090-8765-4321"),
            ),
        )
        _add(session, "102", "佐藤 次郎", furigana="さとう じろう", address="桜町2丁目")
    return association_file


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("たなか", "101"),  # hiragana finds a katakana furigana
        ("ﾀﾅｶ", "101"),  # half-width katakana too
        ("たなかいちろう", "101"),  # without the space
        ("0312345678", "101"),  # half-width digits of a phone typed with hyphens
        ("１２３４５６７８", "101"),  # full-width digits
        ("美咲", "101"),  # a member's name
        ("09087654321", "101"),  # a member's phone
        ("サトウ", "102"),  # katakana finds a hiragana furigana
        ("桜町２丁目", "102"),  # the address, full-width digit
        ("102", "102"),
    ],
)
def test_search_text_finds_households(searchable: AssociationFile, text: str, number: str) -> None:
    with searchable.read() as session:
        table = load_roster(session)
    rows = filter_rows(table, text=text)
    assert [table.value(row, COLUMN_KEYS.index("number")) for row in rows] == [number]


def test_search_text_follows_an_update(searchable: AssociationFile) -> None:
    with searchable.read() as session:
        table = load_roster(session)
        household_id = table.household_id(filter_rows(table, text="さとう")[0])
    with searchable.write() as session:
        update_household(
            session,
            household_id=household_id,
            data=_data("102", "佐藤 次郎", furigana="さとう じろう"),
            members=(MemberData(name="佐藤 桜子"),),
        )
        table = load_roster(session)
    assert filter_rows(table, text="桜子") == [table.row_of(household_id)]
    assert filter_rows(table, text="桜町") == []  # the address was cleared
    assert table.value(table.row_of(household_id) or 0, COLUMN_KEYS.index("members")) == 1


def test_a_member_needs_an_existing_household(association_file: AssociationFile) -> None:
    with association_file.write() as session, pytest.raises(NotFoundError) as caught:
        add_member(session, household_id=uuid.uuid4(), member=MemberData(name="山田 花子"))
    assert "山田 花子" in caught.value.message and caught.value.field == "household"


def test_add_member_appends_to_the_household(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        household_id = _add(session, "1", "山田 太郎", members=(MemberData(name="山田 太郎"),))
        add_member(session, household_id=household_id, member=MemberData(name="山田 花子"))
        record = get_household(session, household_id=household_id)
    assert [member.name for member in record.members] == ["山田 太郎", "山田 花子"]


def test_han_route_lists_members_in_circulation_order(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        han = create_group(session, name="1班")
        first = _add(session, "1", "一", group_id=han)
        second = _add(session, "2", "二", group_id=han)
        gone = _add(session, "3", "三", group_id=han)
        withdraw_household(session, household_id=gone, left_on=date(2025, 5, 1))
        set_circulation_order(session, group_id=han, household_ids=[second, first])
        route = han_route(session, group_id=han)
    assert [stop.household_id for stop in route] == [second, first]


def test_cleaning_members_keeps_every_field() -> None:
    """clean_members builds members field by field: a field added later must not be lost."""
    member = MemberData(name="青木 一郎", furigana="あおき いちろう", relation="本人",
                        is_head=True, phone="090-1234-5678", email="a@example.jp",
                        app_access=True, notes="メモ", id=uuid.uuid4())
    defaults = MemberData(name="x")
    assert all(getattr(member, f.name) != getattr(defaults, f.name)
               for f in dataclasses.fields(MemberData)), "give every field a non-default value"
    assert clean_members([member]) == (member,)


def test_cleaning_keeps_every_field_it_does_not_clean() -> None:
    data = HouseholdData(
        number="12", display_name="山田 太郎", furigana="やまだ", postal_code="123-4567",
        address="桜町1-2", phone="03-1234-5678", channel=NoticeChannel.EMAIL,
        emails=("yamada@example.jp",), joined_on=date(2020, 4, 1), exempt_han_leader=True,
        exempt_duties=True, notes="高齢")
    assert dataclasses.asdict(clean_household(data)) == dataclasses.asdict(data)

"""The roster table: 50音順 loading, filtering and machine-readable export."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date

import pytest

from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    withdraw_household,
)
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.domain.roster import (
    COLUMN_KEYS,
    RosterTable,
    count_households,
    export_rows,
    filter_rows,
    load_roster,
    load_roster_head,
)
from desktop.store.association_file import AssociationFile

NUMBER, NAME, FURIGANA, GROUP = (
    COLUMN_KEYS.index(k) for k in ("number", "name", "furigana", "group")
)


def _numbers(table: RosterTable, rows: list[int]) -> list[str]:
    return [str(table.value(row, NUMBER)) for row in rows]


def _column(table: RosterTable, column: int) -> list[object]:
    return [table.value(row, column) for row in range(len(table))]


@pytest.fixture
def roster(association_file: AssociationFile) -> tuple[RosterTable, dict[str, uuid.UUID]]:
    """Five households in two 班 of one 地区 and one without a 班; 金子 has withdrawn."""
    with association_file.write() as session:
        district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han_1 = create_group(session, name="1班", parent_id=district)
        han_2 = create_group(session, name="2班", parent_id=district)
        rows = [
            ("5", "金子 健", "かねこ", han_1, NoticeChannel.PAPER),
            ("3", "我藤 剛", "ガトウ", han_2, NoticeChannel.APP),
            ("1", "加藤 一", "かとう", han_1, NoticeChannel.PAPER),
            ("4", "青木 葵", "あおき", None, NoticeChannel.PAPER),
            ("2", "名無 し", "", han_2, NoticeChannel.PAPER),
        ]
        ids = {}
        for number, name, furigana, group_id, channel in rows:
            ids[number] = create_household(
                session,
                data=HouseholdData(
                    number=number,
                    display_name=name,
                    furigana=furigana,
                    address="桜町",
                    phone="03-1111-2222",
                    channel=channel,
                ),
                members=(MemberData(name=name), MemberData(name="家族")),
                group_id=group_id,
            )
        withdraw_household(session, household_id=ids["5"], left_on=date(2025, 3, 31))
        table = load_roster(session)
    return table, {"district": district, "han_1": han_1, "han_2": han_2, **ids}


def test_load_roster_in_50on_order(roster: tuple[RosterTable, dict[str, uuid.UUID]]) -> None:
    table, ids = roster
    # あおき, かとう, がとう (dakuten sorts right after the plain kana), かねこ; no furigana last.
    assert _column(table, FURIGANA) == ["あおき", "かとう", "ガトウ", "かねこ", ""]
    assert _numbers(table, list(range(len(table)))) == ["4", "1", "3", "5", "2"]
    assert len(table) == 5
    assert table.household_id(1) == ids["1"]
    assert table.row_of(ids["3"]) == 2
    assert table.row_of(uuid.uuid4()) is None
    assert table.withdrawn(3) and not table.withdrawn(0)
    assert _column(table, GROUP) == ["", "1班", "2班", "1班", "2班"]  # the 班's name
    assert [table.group_id(row) for row in range(len(table))] == [
        None,
        ids["han_1"].hex,
        ids["han_2"].hex,
        ids["han_1"].hex,
        ids["han_2"].hex,
    ]
    assert _column(table, COLUMN_KEYS.index("members")) == [2, 2, 2, 2, 2]


def test_empty_roster(association_file: AssociationFile) -> None:
    with association_file.read() as session:
        table = load_roster(session)
    assert len(table) == 0
    assert filter_rows(table, text="x") == []
    assert json.loads(export_rows(table, [], fmt="json")) == []


def test_filter_hides_withdrawn_unless_asked(
    roster: tuple[RosterTable, dict[str, uuid.UUID]],
) -> None:
    table, _ids = roster
    assert _numbers(table, filter_rows(table)) == ["4", "1", "3", "2"]
    assert _numbers(table, filter_rows(table, include_withdrawn=True)) == ["4", "1", "3", "5", "2"]


def test_filter_by_group_set(roster: tuple[RosterTable, dict[str, uuid.UUID]]) -> None:
    table, ids = roster
    han_1, han_2 = ids["han_1"].hex, ids["han_2"].hex
    assert _numbers(table, filter_rows(table, group_ids={han_1})) == ["1"]
    assert _numbers(table, filter_rows(table, group_ids={han_1}, include_withdrawn=True)) == [
        "1",
        "5",
    ]
    assert _numbers(table, filter_rows(table, group_ids={han_1, han_2})) == ["1", "3", "2"]
    assert filter_rows(table, group_ids=set()) == []
    assert _numbers(table, filter_rows(table, text="かとう", group_ids={han_2})) == []


def test_filter_by_text(roster: tuple[RosterTable, dict[str, uuid.UUID]]) -> None:
    table, _ids = roster
    assert _numbers(table, filter_rows(table, text="カトウ")) == ["1"]
    assert _numbers(table, filter_rows(table, text="がとう")) == ["3"]
    assert _numbers(table, filter_rows(table, text="家族")) == ["4", "1", "3", "2"]
    assert _numbers(table, filter_rows(table, text="  ")) == ["4", "1", "3", "2"]


@pytest.mark.parametrize("typed", ["か", "かと", "かとう", "かね"])
def test_within_narrowing_equals_a_full_filter(
    roster: tuple[RosterTable, dict[str, uuid.UUID]], typed: str
) -> None:
    table, ids = roster
    groups = {ids["han_1"].hex, ids["han_2"].hex}
    for include_withdrawn in (False, True):
        earlier = filter_rows(
            table, text=typed[:1], group_ids=groups, include_withdrawn=include_withdrawn
        )
        narrowed = filter_rows(
            table, text=typed, group_ids=groups, include_withdrawn=include_withdrawn, within=earlier
        )
        full = filter_rows(table, text=typed, group_ids=groups, include_withdrawn=include_withdrawn)
        assert narrowed == full


def test_export_json(roster: tuple[RosterTable, dict[str, uuid.UUID]]) -> None:
    table, _ids = roster
    records = json.loads(export_rows(table, filter_rows(table, include_withdrawn=True), fmt="json"))
    assert [r["number"] for r in records] == ["4", "1", "3", "5", "2"]
    assert list(records[0]) == list(COLUMN_KEYS)
    assert records[1] == {
        "number": "1",
        "name": "加藤 一",
        "furigana": "かとう",
        "group": "1班",
        "address": "桜町",
        "phone": "03-1111-2222",
        "channel": "paper",
        "members": 2,
        "withdrawn": False,
    }
    assert records[3]["withdrawn"] is True
    assert records[0]["group"] == ""
    assert records[2]["channel"] == "app"


def test_export_csv(roster: tuple[RosterTable, dict[str, uuid.UUID]]) -> None:
    table, _ids = roster
    text = export_rows(table, [1, 3], fmt="csv")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == list(COLUMN_KEYS)
    assert lines[1:] == [
        ["1", "加藤 一", "かとう", "1班", "桜町", "03-1111-2222", "paper", "2", "False"],
        ["5", "金子 健", "かねこ", "1班", "桜町", "03-1111-2222", "paper", "2", "True"],
    ]


def test_the_head_is_the_first_screenful_of_members_in_50on_order(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        for number, name, reading in [("1", "金子 健", "かねこ"), ("2", "加藤 一", "かとう"),
                                      ("3", "後藤 二", "ごとう"), ("4", "我妻 三", "がとう")]:
            create_household(
                session, data=HouseholdData(number=number, display_name=name, furigana=reading)
            )
        head = load_roster_head(session, limit=3)
        assert count_households(session) == 4
    assert not head.complete and head.search is None
    assert [head.value(row, 2) for row in range(len(head))] == ["かとう", "がとう", "かねこ"]
    assert filter_rows(head) == [0, 1, 2]  # no text: search texts not needed
    with pytest.raises(ValueError, match="search texts"):
        filter_rows(head, text="かとう")

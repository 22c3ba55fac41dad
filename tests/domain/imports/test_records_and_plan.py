"""From mapped rows to households, the import plan, and applying it in one transaction."""

from __future__ import annotations

from datetime import date

import pytest

from desktop.domain.errors import ConflictError
from desktop.domain.groups import create_group, group_tree
from desktop.domain.households import get_household
from desktop.domain.imports.model import Field, RawRow
from desktop.domain.imports.plan import Outcome, apply_import, plan_import
from desktop.domain.imports.records import build_households, group_key, normalise_group
from desktop.domain.roster import load_roster
from desktop.store.association_file import AssociationFile

F = Field


def rows(*records: dict[Field, object], sheet: str = "名簿", start: int = 3) -> list[RawRow]:
    return [RawRow(sheet, start + index, dict(record)) for index, record in enumerate(records)]


HOUSEHOLDS = rows(
    {
        F.NUMBER: "０００１",
        F.GROUP: "第1班",
        F.NAME: "山田 太郎",
        F.FURIGANA: "ﾔﾏﾀﾞ ﾀﾛｳ",
        F.ADDRESS: "桜町1-2-3",
        F.PHONE: "03-1111-2222",
        F.CHANNEL: "紙",
    },
    {
        F.NUMBER: 2.0,
        F.GROUP: "１",
        F.NAME: "佐藤 花子",
        F.FURIGANA: "さとう はなこ",
        F.ADDRESS: "桜町1-2-4",
        F.POSTAL_CODE: "〒1230004",
        F.CHANNEL: "アプリ",
    },
    {
        F.NUMBER: "0003",
        F.GROUP: "2班",
        F.NAME: "鈴木 一郎",
        F.FURIGANA: "スズキ イチロウ",
        F.ADDRESS: "桜町2-1-1",
        F.JOINED_ON: "令和2年4月1日",
    },
)
COLUMNS = {
    F.NUMBER,
    F.GROUP,
    F.NAME,
    F.FURIGANA,
    F.ADDRESS,
    F.PHONE,
    F.CHANNEL,
    F.POSTAL_CODE,
    F.JOINED_ON,
}


def test_group_names_are_normalised_to_one_group() -> None:
    assert {normalise_group(v) for v in ("３班", "第3班", "3", 3.0, " 3班 ")} == {"3班"}
    assert group_key("第3班") == group_key("3") == "3"
    assert normalise_group("東1組") == "東1組"
    assert normalise_group(None) is None


def test_one_row_per_household_is_normalised() -> None:
    households, problems = build_households(HOUSEHOLDS, COLUMNS)
    assert not problems
    first, second, third = households
    assert first.data.number == "0001" and first.group == "1班"
    assert first.data.furigana == "ヤマダ タロウ"  # half width → full width
    assert first.members is None  # the file says nothing about members
    assert second.data.number == "2" and second.data.postal_code == "123-0004"
    assert second.data.channel == "app"
    assert third.data.joined_on == date(2020, 4, 1)


def test_member_rows_group_into_households() -> None:
    member_rows = rows(
        {F.NUMBER: "10", F.NAME: "田中 一", F.RELATION: "世帯主", F.GROUP: "1"},
        {F.NUMBER: None, F.NAME: "田中 二", F.RELATION: "妻"},
        {F.NUMBER: "11", F.NAME: "木村 三", F.RELATION: "本人", F.GROUP: "1"},
        {F.NUMBER: "11", F.NAME: "木村 四", F.RELATION: "長男"},
    )
    households, problems = build_households(member_rows, {F.NUMBER, F.NAME, F.RELATION, F.GROUP})
    assert not problems
    assert [h.data.number for h in households] == ["10", "11"]
    assert [m.name for m in households[0].members or ()] == ["田中 一", "田中 二"]
    assert [m.is_head for m in households[1].members or ()] == [True, False]
    assert households[0].rows == (3, 4)


def test_bad_values_name_sheet_row_and_column() -> None:
    bad = rows(
        {F.NUMBER: "1", F.NAME: "山田 太郎", F.FURIGANA: "山田"},
        {F.NUMBER: "2", F.NAME: None},
        {F.NUMBER: "3", F.NAME: "木村", F.JOINED_ON: "きのう"},
    )
    households, problems = build_households(bad, {F.NUMBER, F.NAME, F.FURIGANA, F.JOINED_ON})
    assert not households
    assert [(p.row, p.field) for p in problems] == [(3, F.FURIGANA), (4, F.NAME), (5, F.JOINED_ON)]
    assert "名簿" in problems[0].where("roster.xlsx") and "フリガナ" in problems[0].where("r")


def _plan(association_file: AssociationFile, source: list[RawRow], columns: set[Field] = COLUMNS):
    households, problems = build_households(source, columns)
    with association_file.read() as session:
        return plan_import(session, households, problems, file="roster.xlsx")


def test_first_import_adds_everything_and_again_changes_nothing(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        create_group(session, name="1班")
    plan = _plan(association_file, HOUSEHOLDS)
    assert [row.outcome for row in plan.rows] == [Outcome.NEW] * 3
    assert plan.new_groups == ["2班"]
    with association_file.write() as session:
        result = apply_import(session, plan)
    assert (result.added, result.groups_created) == (3, 1)
    with association_file.read() as session:
        table = load_roster(session)
        names = {node.name: node.households for node in group_tree(session)}
    assert len(table) == 3 and names == {"1班": 2, "2班": 1}
    again = _plan(association_file, HOUSEHOLDS)
    assert [row.outcome for row in again.rows] == [Outcome.UNCHANGED] * 3
    assert not again.changes_anything and not again.missing and not again.new_groups


def test_changes_moves_and_missing_households_are_planned(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        apply_import(session, _plan(association_file, HOUSEHOLDS))
    changed = rows(
        {
            F.NUMBER: "0001",
            F.GROUP: "2",
            F.NAME: "山田 太郎",
            F.FURIGANA: "ヤマダ タロウ",
            F.ADDRESS: "桜町9-9-9",
            F.PHONE: "03-1111-2222",
            F.CHANNEL: "紙",
        },
        {
            F.NUMBER: "2",
            F.GROUP: "1",
            F.NAME: "佐藤 花子",
            F.FURIGANA: "さとう はなこ",
            F.ADDRESS: "桜町1-2-4",
            F.POSTAL_CODE: "123-0004",
            F.CHANNEL: "アプリ",
        },
    )
    plan = _plan(association_file, changed)
    update, unchanged = plan.rows
    assert update.outcome == Outcome.UPDATE and unchanged.outcome == Outcome.UNCHANGED
    assert {change.title for change in update.changes} == {"住所", "班"}
    assert [row.number for row in plan.moved] == ["0001"]
    assert [missing.number for missing in plan.missing] == ["0003"]
    with association_file.write() as session:
        result = apply_import(session, plan, withdraw_missing=True, today=date(2026, 6, 1))
    assert (result.updated, result.withdrawn) == (1, 1)
    with association_file.read() as session:
        record = get_household(session, household_id=update.household_id)  # type: ignore[arg-type]
        assert record.data.address == "桜町9-9-9"
        assert (
            len([r for r in range(len(load_roster(session))) if load_roster(session).withdrawn(r)])
            == 1
        )


def test_errors_block_the_import_and_nothing_is_written(
    association_file: AssociationFile,
) -> None:
    bad = [*HOUSEHOLDS, *rows({F.NUMBER: "9", F.NAME: "誤り", F.FURIGANA: "漢字"}, start=6)]
    plan = _plan(association_file, bad)
    assert len(plan.errors) == 1 and "row 6" in plan.errors[0].message
    with association_file.write() as session, pytest.raises(ConflictError, match="1 rows"):
        apply_import(session, plan)
    with association_file.read() as session:
        assert len(load_roster(session)) == 0


def test_a_failure_half_way_leaves_the_roster_as_it_was(
    association_file: AssociationFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(association_file, HOUSEHOLDS)
    import desktop.domain.imports.plan as planning

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(planning, "bulk_add_households", broken)
    with pytest.raises(RuntimeError), association_file.write() as session:
        apply_import(session, plan)
    with association_file.read() as session:
        assert len(load_roster(session)) == 0
        assert not group_tree(session)  # the new 班 was rolled back too


def test_one_number_twice_in_the_file_is_an_error(association_file: AssociationFile) -> None:
    twice = rows({F.NUMBER: "1", F.NAME: "一"}, {F.NUMBER: "1", F.NAME: "二"})
    plan = _plan(association_file, twice, {F.NUMBER, F.NAME})
    # A repeated number with no 続柄 column reads as one household listing two members.
    assert len(plan.rows) == 1 and plan.rows[0].outcome == Outcome.NEW
    households, _problems = build_households(twice, {F.NUMBER, F.NAME}, member_per_row=False)
    with association_file.read() as session:
        plan = plan_import(session, households, [], file="f.csv")
    assert [row.outcome for row in plan.rows] == [Outcome.NEW, Outcome.ERROR]
    assert "also on row 3" in plan.rows[1].message


def test_a_file_without_numbers_gets_numbers_and_matches_by_name_and_address(
    association_file: AssociationFile,
) -> None:
    plain = rows(
        {F.NAME: "山田 太郎", F.ADDRESS: "桜町1"}, {F.NAME: "佐藤 花子", F.ADDRESS: "桜町2"}
    )
    plan = _plan(association_file, plain, {F.NAME, F.ADDRESS})
    assert [row.number for row in plan.rows] == ["0001", "0002"]
    with association_file.write() as session:
        apply_import(session, plan)
    again = _plan(association_file, plain, {F.NAME, F.ADDRESS})
    assert [row.outcome for row in again.rows] == [Outcome.UNCHANGED] * 2


def test_a_confirmed_mapping_is_remembered(association_file: AssociationFile) -> None:
    from desktop.domain.imports.mappings import remember_mapping, remembered_mappings

    with association_file.write() as session:
        remember_mapping(session, signature="No.\x1f氏名", columns={F.NUMBER: 0, F.NAME: 1})
        remember_mapping(session, signature="No.\x1f氏名", columns={F.NUMBER: 0, F.NAME: 2})
    with association_file.read() as session:
        assert remembered_mappings(session) == {"No.\x1f氏名": {F.NUMBER: 0, F.NAME: 2}}


def test_a_household_with_a_problem_is_not_proposed_for_withdrawal(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        apply_import(session, _plan(association_file, HOUSEHOLDS))
    broken = [HOUSEHOLDS[0], HOUSEHOLDS[1],
              RawRow("名簿", 5, {**HOUSEHOLDS[2].values, F.FURIGANA: "漢字"})]
    plan = _plan(association_file, broken)
    assert len(plan.errors) == 1 and plan.errors[0].number == "0003"
    assert not plan.missing

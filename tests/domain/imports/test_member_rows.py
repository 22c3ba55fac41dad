"""A roster with a row per member as Kairan exports it — the household's 世帯主 and フリガナ
beside the member's 氏名, 続柄 and 氏名フリガナ — imports with the right household and member
names and readings, and export → import changes nothing."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    update_household,
)
from desktop.domain.imports.headers import find_header
from desktop.domain.imports.model import Field, SheetData
from desktop.domain.imports.pipeline import columns_of, plan_file, read_roster, rows_of
from desktop.domain.imports.plan import ImportPlan, Outcome, apply_import
from desktop.domain.imports.records import build_households
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.domain.roster import load_roster
from desktop.store.association_file import AssociationFile, open_association
from reports.roster_xlsx import export_roster

F = Field


def _household(session: Session, number: str, name: str, furigana: str, *,
               group_id: uuid.UUID | None = None, members: tuple[MemberData, ...] = (),
               **facts: object) -> uuid.UUID:
    data = HouseholdData(number=number, display_name=name, furigana=furigana,
                         **facts)  # type: ignore[arg-type]
    return create_household(session, data=data, members=members, group_id=group_id)


@pytest.fixture
def roster(association_file: AssociationFile) -> AssociationFile:
    """A 地区 with two 班, households with and without members (members with their own phone
    and e-mail, which the export does not carry), one in no 班."""
    with association_file.write() as session:
        district = create_group(session, name="北地区", kind=GroupKind.DISTRICT)
        first = create_group(session, name="1班", parent_id=district)
        second = create_group(session, name="2班", parent_id=district)
        _household(session, "0003", "渡辺 一郎", "わたなべ いちろう", group_id=first,
                   channel=NoticeChannel.EMAIL, emails=("a@example.jp", "b@example.jp"),
                   phone="03-1234-5678", postal_code="1500001", joined_on=date(2025, 4, 1),
                   exempt_han_leader=True, address="桜町1-2-3",
                   members=(MemberData(name="渡辺 一郎", furigana="ワタナベ イチロウ",
                                       relation="本人", is_head=True, phone="090-1111-2222",
                                       email="ichiro@example.jp"),
                            MemberData(name="渡辺 花子", furigana="ワタナベ ハナコ",
                                       relation="妻", phone="080-3333-4444")))
        _household(session, "0001", "相川 次郎", "アイカワ ジロウ", group_id=first,
                   channel=NoticeChannel.APP)  # no members
        _household(session, "0002", "伊藤 三郎", "いとう さぶろう", group_id=second,
                   members=(MemberData(name="伊藤 三郎", furigana="いとう さぶろう",
                                       relation="世帯主", is_head=True),
                            MemberData(name="伊藤 陽菜", furigana="ｲﾄｳ ﾋﾅ", relation="長女",
                                       phone="090-5555-6666"),
                            MemberData(name="伊藤 蓮", relation="長男")))  # no reading
        _household(session, "0005", "江口 五郎", "エグチ ゴロウ",  # in no 班; head unmarked
                   members=(MemberData(name="江口 五郎", furigana="エグチ ゴロウ"),))
    return association_file


@pytest.fixture
def fresh(tmp_path: Path, association_template: Path) -> Iterator[AssociationFile]:
    """A second, empty association file."""
    path = tmp_path / "fresh.kairan"
    shutil.copyfile(association_template, path)
    opened = open_association(path)
    yield opened
    opened.close()


def _export(association_file: AssociationFile, path: Path, **options: object) -> Path:
    with association_file.read() as session:
        export_roster(session, path, members=True, **options)  # type: ignore[arg-type]
    return path


def _plan(association_file: AssociationFile, path: Path) -> ImportPlan:
    read = read_roster(path)
    with association_file.read() as session:
        return plan_file(session, read)


def _cells(path: Path) -> list[list[tuple[object, ...]]]:
    book = openpyxl.load_workbook(path)
    sheets = [sheet for sheet in book.worksheets if isinstance(sheet, Worksheet)]
    return [list(sheet.iter_rows(values_only=True)) for sheet in sheets]


def _people(association_file: AssociationFile, number: str) -> tuple[HouseholdData,
                                                                     list[tuple[object, ...]]]:
    with association_file.read() as session:
        table = load_roster(session)
        row = next(row for row in range(len(table)) if table.value(row, 0) == number)
        record = get_household(session, household_id=table.household_id(row))
    return record.data, [(m.name, m.furigana, m.relation, m.is_head, m.phone, m.email)
                         for m in record.members]


def test_the_export_maps_household_and_member_columns(roster: AssociationFile,
                                                      tmp_path: Path) -> None:
    read = read_roster(_export(roster, tmp_path / "members.xlsx"))
    layout = read.layouts["名簿"]
    mapped = {layout.titles[column]: which for which, column in layout.columns.items()}
    assert mapped == {
        "世帯番号": F.NUMBER, "班": F.GROUP, "世帯主": F.HOUSEHOLD_NAME,
        "フリガナ": F.HOUSEHOLD_FURIGANA, "氏名": F.NAME, "続柄": F.RELATION,
        "氏名フリガナ": F.FURIGANA, "郵便番号": F.POSTAL_CODE, "住所": F.ADDRESS,
        "電話": F.PHONE, "メール": F.EMAIL, "配布方法": F.CHANNEL, "入会日": F.JOINED_ON,
        "班長免除": F.EXEMPT_HAN_LEADER, "備考": F.NOTES,
    }
    assert [layout.titles[column] for column in layout.unmapped] == ["地区", "人数"]


def test_export_then_import_of_member_rows_changes_nothing(roster: AssociationFile,
                                                           tmp_path: Path) -> None:
    for options in ({}, {"per_group": True}):
        plan = _plan(roster, _export(roster, tmp_path / "members.xlsx", **options))
        assert not plan.errors
        assert [row.outcome for row in plan.rows] == [Outcome.UNCHANGED] * 4, options
        assert not plan.missing and not plan.new_groups and not plan.duplicates


def test_member_rows_import_into_a_new_association_as_they_were(
    roster: AssociationFile, fresh: AssociationFile, tmp_path: Path
) -> None:
    exported = _export(roster, tmp_path / "members.xlsx")
    plan = _plan(fresh, exported)
    assert [row.outcome for row in plan.rows] == [Outcome.NEW] * 4
    with fresh.write() as session:
        result = apply_import(session, plan)
    assert (result.added, result.groups_created) == (4, 2)

    data, people = _people(fresh, "0003")
    assert (data.display_name, data.furigana, data.phone, data.emails) == (
        "渡辺 一郎", "わたなべ いちろう", "03-1234-5678", ("a@example.jp", "b@example.jp"))
    assert (data.channel, data.postal_code, data.joined_on, data.exempt_han_leader) == (
        NoticeChannel.EMAIL, "150-0001", date(2025, 4, 1), True)
    # The 電話 and メール columns are the household's: members get none from them.
    assert people == [("渡辺 一郎", "ワタナベ イチロウ", "本人", True, "", ""),
                      ("渡辺 花子", "ワタナベ ハナコ", "妻", False, "", "")]
    assert _people(fresh, "0001") == (_people(roster, "0001")[0], [])  # still no members
    assert _people(fresh, "0002")[1] == [("伊藤 三郎", "いとう さぶろう", "世帯主", True, "", ""),
                                         ("伊藤 陽菜", "イトウ ヒナ", "長女", False, "", ""),
                                         ("伊藤 蓮", "", "長男", False, "", "")]
    # No 続柄 marks the head: the member named like the 世帯主 is.
    assert _people(fresh, "0005")[1] == [("江口 五郎", "エグチ ゴロウ", "", True, "", "")]

    again = _export(fresh, tmp_path / "again.xlsx")
    # The new association has no 地区: the same file, without that column.
    assert [[row[:1] + row[2:] for row in rows] for rows in _cells(exported)] == _cells(again)
    for path in (exported, again):
        replan = _plan(fresh, path)
        assert [row.outcome for row in replan.rows] == [Outcome.UNCHANGED] * 4
        assert not replan.missing and not replan.new_groups


def test_a_member_changed_in_the_file_is_an_update_of_the_household(
    roster: AssociationFile, tmp_path: Path
) -> None:
    exported = _export(roster, tmp_path / "members.xlsx")
    book = openpyxl.load_workbook(exported)
    sheet = book.active
    assert isinstance(sheet, Worksheet)
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("氏名")].value == "渡辺 花子":
            row[header.index("氏名フリガナ")].value = "ﾜﾀﾅﾍﾞ ﾊﾅ"
    book.save(exported)
    plan = _plan(roster, exported)
    [update] = [row for row in plan.rows if row.outcome == Outcome.UPDATE]
    assert update.number == "0003" and [c.key for c in update.changes] == ["members"]
    with roster.write() as session:
        apply_import(session, plan)
    _data, people = _people(roster, "0003")
    # The reading changed; the members' own phones and e-mail, not in the file, stay.
    assert people == [("渡辺 一郎", "ワタナベ イチロウ", "本人", True, "090-1111-2222",
                       "ichiro@example.jp"),
                      ("渡辺 花子", "ワタナベ ハナ", "妻", False, "080-3333-4444", "")]


def test_a_member_file_without_a_phone_column_keeps_the_members_phones(
    roster: AssociationFile, tmp_path: Path
) -> None:
    path = tmp_path / "hand-made.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["世帯番号", "氏名", "フリガナ", "続柄"])
    sheet.append(["0002", "伊藤 三郎", "いとう さぶろう", "世帯主"])
    sheet.append(["0002", "伊藤 陽菜", "イトウ ヒナ", "長女"])
    sheet.append(["0002", "伊藤 蓮", None, "長男"])
    book.save(path)
    read = read_roster(path)
    assert read.layouts["Sheet"].columns == {F.NUMBER: 0, F.NAME: 1, F.FURIGANA: 2,
                                             F.RELATION: 3}
    with roster.read() as session:
        plan = plan_file(session, read, sheets=["Sheet"])
    assert [row.outcome for row in plan.rows] == [Outcome.UNCHANGED]
    # With a phone column, the members' phones are the file's.
    sheet.cell(row=1, column=5, value="電話")
    sheet.cell(row=3, column=5, value="090-7777-8888")
    book.save(path)
    with roster.read() as session:
        plan = plan_file(session, read_roster(path))
    [row] = plan.rows
    assert row.outcome == Outcome.UPDATE and [c.key for c in row.changes] == ["members"]


@pytest.mark.parametrize(("titles", "expected"), [
    # Kairan's export: the plain reading beside 世帯主 is the household's.
    (("世帯番号", "世帯主", "フリガナ", "氏名", "続柄", "氏名フリガナ"),
     {F.NUMBER: 0, F.HOUSEHOLD_NAME: 1, F.HOUSEHOLD_FURIGANA: 2, F.NAME: 3, F.RELATION: 4,
      F.FURIGANA: 5}),
    # One reading, not titled for the 世帯主: the member's.
    (("世帯主", "氏名", "フリガナ", "続柄"),
     {F.HOUSEHOLD_NAME: 0, F.NAME: 1, F.FURIGANA: 2, F.RELATION: 3}),
    (("世帯主", "フリガナ（世帯主）", "氏名", "続柄"),
     {F.HOUSEHOLD_NAME: 0, F.HOUSEHOLD_FURIGANA: 1, F.NAME: 2, F.RELATION: 3}),
    # Two plain readings: the one nearer the 世帯主 is the household's.
    (("世帯主", "フリガナ", "氏名", "フリガナ", "続柄"),
     {F.HOUSEHOLD_NAME: 0, F.HOUSEHOLD_FURIGANA: 1, F.NAME: 2, F.FURIGANA: 3, F.RELATION: 4}),
    (("氏名", "ふりがな", "続柄", "世帯主氏名", "世帯主ふりがな"),
     {F.NAME: 0, F.FURIGANA: 1, F.RELATION: 2, F.HOUSEHOLD_NAME: 3, F.HOUSEHOLD_FURIGANA: 4}),
    # Without 続柄 nothing changes: the first name column is the name.
    (("世帯主", "氏名", "フリガナ"), {F.NAME: 0, F.FURIGANA: 2}),
    # A 連合自治会's roster: 地区 is the 班 only when no column says 班.
    (("地区", "班", "氏名"), {F.GROUP: 1, F.NAME: 2}),
    (("地区", "氏名"), {F.GROUP: 0, F.NAME: 1}),
])
def test_household_and_member_columns(titles: tuple[str, ...],
                                      expected: dict[Field, int]) -> None:
    assert find_header(SheetData("名簿.xlsx", "名簿", [titles, ("x",) * len(titles)])
                       ).columns == expected


def test_member_rows_without_numbers_group_by_the_household_name(tmp_path: Path) -> None:
    rows = [("世帯主", "氏名", "続柄"), ("田中 一", "田中 一", "夫"), ("田中 一", "田中 二", "妻"),
            ("木村 三", "木村 三", "夫"), ("木村 三", "木村 四", "長男")]
    read = SheetData("名簿.xlsx", "名簿", list(rows))
    layout = find_header(read)
    from desktop.domain.imports.headers import data_rows

    households, problems = build_households(data_rows(read, layout), set(layout.columns))
    assert not problems
    assert [(h.data.display_name, [m.name for m in h.members or ()], h.rows)
            for h in households] == [("田中 一", ["田中 一", "田中 二"], (2, 3)),
                                     ("木村 三", ["木村 三", "木村 四"], (4, 5))]
    assert [[m.is_head for m in h.members or ()] for h in households] == [[True, False],
                                                                          [True, False]]


def test_the_column_path_gives_what_the_row_path_gives(tmp_path: Path) -> None:
    """``plan_file`` goes column by column (``columns_of``); ``rows_of`` row by row: the same
    households and problems, here over per-班 sheets, a totals row and a bad row."""
    path = tmp_path / "per-han.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "1班"
    first.append(["令和7年度 名簿"])
    first.append(["No.", "氏名", "フリガナ", "続柄", "電話"])
    first.append([1, "山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "世帯主", "03-1111-2222"])
    first.append([None, "山田 花子", "やまだ はなこ", "妻", None])
    first.append([2, "佐藤 一", "漢字", "本人", None])  # a bad reading
    first.append(["合計", None, None, None, None])
    second = book.create_sheet("2班")
    second.append(["No.", "氏名", "フリガナ", "続柄"])
    second.append([3, "鈴木 三郎", "スズキ サブロウ", "世帯主"])
    book.save(path)
    read = read_roster(path)
    by_row = build_households(*rows_of(read))
    by_column = build_households(*columns_of(read))
    assert by_row == by_column
    households, problems = by_column
    assert [(h.data.number, h.group, h.rows) for h in households] == [("1", "1班", (3, 4)),
                                                                     ("3", "2班", (2,))]
    assert [(p.sheet, p.row) for p in problems] == [("1班", 5)]


def test_members_the_file_brings_back_are_added_and_the_others_keep_their_ids(
    roster: AssociationFile, tmp_path: Path
) -> None:
    exported = _export(roster, tmp_path / "members.xlsx")
    with roster.read() as session:
        table = load_roster(session)
        row = next(row for row in range(len(table)) if table.value(row, 0) == "0002")
        before = get_household(session, household_id=table.household_id(row))
    with roster.write() as session:  # 伊藤 蓮 is removed in Kairan; the file still lists him
        update_household(session, household_id=before.id, data=before.data,
                         members=before.members[:2])
    plan = _plan(roster, exported)
    [update] = [row for row in plan.rows if row.outcome == Outcome.UPDATE]
    assert update.number == "0002" and [c.key for c in update.changes] == ["members"]
    with roster.write() as session:
        apply_import(session, plan)
    with roster.read() as session:
        after = get_household(session, household_id=before.id)
    assert [m.name for m in after.members] == ["伊藤 三郎", "伊藤 陽菜", "伊藤 蓮"]
    assert [m.id for m in after.members[:2]] == [m.id for m in before.members[:2]]
    assert after.members[2].id is not None and after.members[2].id != before.members[2].id


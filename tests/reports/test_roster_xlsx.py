"""The roster as an .xlsx file: columns, order, sheets, print set-up, safety of the write."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from desktop.cli import EXIT_PROBLEM, main
from desktop.domain.errors import KairanError
from desktop.domain.groups import create_group, group_tree
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    han_route,
    withdraw_household,
)
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.domain.text import kana_sort_key
from desktop.domain.wareki import format_wareki
from desktop.i18n import set_language
from desktop.store.association_file import AssociationFile, open_association
from desktop.store.demo_file import create_demo_file
from reports.roster_xlsx import (
    EXPORT_COLUMNS,
    UnknownColumnError,
    export_roster,
    sheet_names,
)

DEMO_HOUSEHOLDS = 40
TITLES = dict(EXPORT_COLUMNS)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo association of 40 households for the module; tests open copies."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:  # the per-test KAIRAN_HOME is not set yet
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        return create_demo_file(folder / "demo.kairan", households=DEMO_HOUSEHOLDS)


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[AssociationFile]:
    path = tmp_path / "demo.kairan"
    shutil.copyfile(demo_template, path)
    opened = open_association(path)
    yield opened
    opened.close()


def _export(association_file: AssociationFile, path: Path, **options: object) -> int:
    with association_file.read() as session:
        return export_roster(session, path, **options)  # type: ignore[arg-type]


def _sheet(path: Path, index: int = 0) -> Worksheet:
    sheet = openpyxl.load_workbook(path).worksheets[index]
    assert isinstance(sheet, Worksheet)
    return sheet


def _header(sheet: Worksheet) -> list[object]:
    return [cell.value for cell in sheet[1]]


def _column(sheet: Worksheet, title: str) -> list[object]:
    index = _header(sheet).index(title)
    return [row[index] for row in sheet.iter_rows(min_row=2, values_only=True)]


def _household(session: Session, number: str, name: str, furigana: str, *,
               group_id: uuid.UUID | None = None, members: tuple[MemberData, ...] = (),
               **facts: object) -> uuid.UUID:
    data = HouseholdData(number=number, display_name=name, furigana=furigana,
                         **facts)  # type: ignore[arg-type]
    return create_household(session, data=data, members=members, group_id=group_id)


@pytest.fixture
def small(association_file: AssociationFile) -> AssociationFile:
    """Two 班 with households of every kind of value, and one withdrawn household."""
    with association_file.write() as session:
        east = create_group(session, name="東1班")
        west = create_group(session, name="西/2班")
        _household(session, "003", "渡辺 一郎", "わたなべ いちろう", group_id=east,
                   channel=NoticeChannel.EMAIL, emails=("a@example.jp", "b@example.jp"),
                   phone="03-1234-5678", postal_code="1500001", joined_on=date(2025, 4, 1),
                   exempt_han_leader=True, notes="=SUM(A1:A3)",
                   members=(MemberData(name="渡辺 一郎", furigana="ワタナベ イチロウ",
                                       relation="本人", is_head=True),
                            MemberData(name="渡辺 花子", furigana="ワタナベ ハナコ",
                                       relation="妻")))
        _household(session, "001", "相川 次郎", "アイカワ ジロウ", group_id=east,
                   channel=NoticeChannel.APP)
        _household(session, "002", "伊藤 三郎", "イトウ サブロウ", group_id=west)
        gone = _household(session, "004", "上野 四郎", "ウエノ シロウ", group_id=west)
        withdraw_household(session, household_id=gone, left_on=date(2025, 5, 1))
        _household(session, "005", "江口 五郎", "エグチ ゴロウ")  # in no 班
    return association_file


# ---------------------------------------------------------------- the one-sheet roster


def test_header_rows_and_50on_order(demo: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "roster.xlsx"
    assert _export(demo, target) == DEMO_HOUSEHOLDS
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["名簿"]
    sheet = _sheet(target)
    assert _header(sheet) == [
        "世帯番号", "班", "世帯主", "フリガナ", "郵便番号", "住所", "電話", "メール", "配布方法",
        "人数", "入会日", "班長免除", "備考",
    ]
    assert sheet.max_row == DEMO_HOUSEHOLDS + 1
    readings = [kana_sort_key(str(value)) for value in _column(sheet, "フリガナ")]
    assert readings == sorted(readings)
    assert all(isinstance(number, str) for number in _column(sheet, "世帯番号"))
    assert set(_column(sheet, "配布方法")) <= {"アプリ", "メール", "紙"}
    assert sheet["A1"].font.bold
    assert sheet.auto_filter.ref == f"A1:M{DEMO_HOUSEHOLDS + 1}"
    assert sheet.column_dimensions["F"].width >= 24  # 住所 is wide enough to read


def test_frozen_panes_and_print_set_up(demo: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "roster.xlsx"
    _export(demo, target)
    sheet = _sheet(target)
    assert sheet.freeze_panes == "D2"  # header row, and 世帯番号 / 班 / 世帯主
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.page_setup.orientation == "portrait"
    assert sheet.page_setup.fitToWidth == 1
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr is not None
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    header, footer = sheet.oddHeader, sheet.oddFooter
    assert header is not None and footer is not None
    assert header.left.text == "桜町自治会 会員名簿"
    assert header.right.text == f"{format_wareki(date.today())}現在"
    assert footer.center.text == "&P / &N"


def test_values_are_written_in_their_fixed_form(small: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "roster.xlsx"
    assert _export(small, target) == 4  # the withdrawn household is left out
    sheet = _sheet(target)
    assert _header(sheet)[-1] == "備考"  # no 状態 column without withdrawn households
    rows = {row[0]: dict(zip(_header(sheet), row, strict=True))
            for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert list(rows) == ["001", "002", "005", "003"]  # アイカワ イトウ エグチ ワタナベ
    watanabe = rows["003"]
    assert watanabe["班"] == "東1班"
    assert watanabe["メール"] == "a@example.jp、b@example.jp"
    assert watanabe["配布方法"] == "メール"
    assert watanabe["郵便番号"] == "150-0001"
    assert watanabe["電話"] == "03-1234-5678"
    assert watanabe["班長免除"] == "○"
    assert watanabe["備考"] == "=SUM(A1:A3)"  # text, not a formula
    assert watanabe["人数"] == 2
    joined = watanabe["入会日"]
    assert isinstance(joined, datetime) and joined.date() == date(2025, 4, 1)
    date_cell = sheet.cell(row=5, column=_header(sheet).index("入会日") + 1)
    assert date_cell.number_format == "yyyy/mm/dd"
    assert rows["001"]["配布方法"] == "アプリ"
    assert rows["002"]["配布方法"] == "紙"
    assert rows["005"]["班"] is None  # empty, not ""
    assert rows["002"]["班長免除"] is None


def test_file_words_do_not_follow_the_ui_language(small: AssociationFile,
                                                  tmp_path: Path) -> None:
    set_language("ja")
    _export(small, tmp_path / "ja.xlsx")
    set_language("en")
    _export(small, tmp_path / "en.xlsx")
    ja, en = _sheet(tmp_path / "ja.xlsx"), _sheet(tmp_path / "en.xlsx")
    assert list(ja.values) == list(en.values)


def test_withdrawn_households_only_when_asked(small: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "all.xlsx"
    assert _export(small, target, include_withdrawn=True) == 5
    sheet = _sheet(target)
    assert _header(sheet)[-1] == "状態"
    states = dict(zip(_column(sheet, "世帯番号"), _column(sheet, "状態"), strict=True))
    assert states == {"001": None, "002": None, "003": None, "004": "退会", "005": None}


# ---------------------------------------------------------------- columns


def test_chosen_columns_only_in_file_order(demo: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "hancho.xlsx"
    _export(demo, target, columns=["name", "address", "number", "group", "name"])
    sheet = _sheet(target)
    assert _header(sheet) == ["世帯番号", "班", "世帯主", "住所"]
    assert "電話" not in _header(sheet)
    assert sheet.max_row == DEMO_HOUSEHOLDS + 1


def test_unknown_columns_are_refused_with_the_valid_keys(demo: AssociationFile,
                                                         tmp_path: Path) -> None:
    target = tmp_path / "x.xlsx"
    with pytest.raises(UnknownColumnError, match="telephone") as raised:
        _export(demo, target, columns=["number", "telephone"])
    assert isinstance(raised.value, ValueError)
    assert raised.value.unknown == ("telephone",)
    assert "phone" in str(raised.value)
    with pytest.raises(ValueError, match="members=True"):
        _export(demo, target, columns=["number", "member_name"])
    assert not target.exists()


def test_freezing_follows_the_chosen_columns(demo: AssociationFile, tmp_path: Path) -> None:
    _export(demo, tmp_path / "a.xlsx", columns=["address", "phone"])
    assert _sheet(tmp_path / "a.xlsx").freeze_panes == "A2"
    _export(demo, tmp_path / "b.xlsx", columns=["number", "address"])
    assert _sheet(tmp_path / "b.xlsx").freeze_panes == "B2"


# ---------------------------------------------------------------- members


def test_one_row_per_member(small: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "members.xlsx"
    # 渡辺 has two members; the others have none and keep one row each.
    assert _export(small, target, members=True) == 5
    sheet = _sheet(target)
    header = _header(sheet)
    assert header[:8] == ["世帯番号", "班", "世帯主", "フリガナ", "氏名", "続柄", "氏名フリガナ",
                          "郵便番号"]
    assert sheet.freeze_panes == "F2"  # through 氏名
    rows = [dict(zip(header, row, strict=True))
            for row in sheet.iter_rows(min_row=2, values_only=True)]
    watanabe = [row for row in rows if row["世帯番号"] == "003"]
    assert [(row["氏名"], row["続柄"], row["氏名フリガナ"]) for row in watanabe] == [
        ("渡辺 一郎", "本人", "ワタナベ イチロウ"), ("渡辺 花子", "妻", "ワタナベ ハナコ")]
    assert {row["世帯主"] for row in watanabe} == {"渡辺 一郎"}
    assert {row["電話"] for row in watanabe} == {"03-1234-5678"}
    lone = next(row for row in rows if row["世帯番号"] == "001")
    assert lone["氏名"] is None and lone["世帯主"] == "相川 次郎"


def test_demo_members(demo: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "members.xlsx"
    rows = _export(demo, target, members=True, columns=["number", "member_name", "relation"])
    sheet = _sheet(target)
    assert rows == sheet.max_row - 1 > DEMO_HOUSEHOLDS
    assert _header(sheet) == ["世帯番号", "氏名", "続柄"]


# ---------------------------------------------------------------- one sheet per 班


def test_one_sheet_per_group_in_circulation_order(demo: AssociationFile, tmp_path: Path) -> None:
    target = tmp_path / "per-group.xlsx"
    assert _export(demo, target, per_group=True) == DEMO_HOUSEHOLDS
    book = openpyxl.load_workbook(target)
    with demo.read() as session:
        groups = [node for node in group_tree(session) if node.households]
        routes = [[stop.number for stop in han_route(session, group_id=node.id)]
                  for node in groups]
    assert book.sheetnames == [node.name for node in groups]
    for index, route in enumerate(routes):
        sheet = _sheet(target, index)
        assert _column(sheet, "世帯番号") == route
        assert sheet.freeze_panes == "D2"
        header = sheet.oddHeader
        assert header is not None
        assert header.center.text == groups[index].name


def test_per_group_sheets_with_odd_names_and_no_group(small: AssociationFile,
                                                      tmp_path: Path) -> None:
    target = tmp_path / "per-group.xlsx"
    _export(small, target, per_group=True, include_withdrawn=True)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["東1班", "西／2班", "班なし"]
    west = _sheet(target, 1)
    assert _column(west, "世帯番号") == ["002", "004"]  # the withdrawn one last
    assert _column(_sheet(target, 2), "世帯番号") == ["005"]


def test_districts_add_a_column_and_name_the_sheets(association_file: AssociationFile,
                                                    tmp_path: Path) -> None:
    with association_file.write() as session:
        for district, number in (("東地区", "1"), ("西地区", "2")):
            parent = create_group(session, name=district, kind=GroupKind.DISTRICT)
            han = create_group(session, name="1班", parent_id=parent)
            _household(session, number, f"世帯 {number}", "セタイ", group_id=han)
    target = tmp_path / "districts.xlsx"
    _export(association_file, target, per_group=True)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["東地区 1班", "西地区 1班"]
    sheet = _sheet(target)
    assert _header(sheet)[:4] == ["世帯番号", "地区", "班", "世帯主"]
    assert _column(sheet, "地区") == ["東地区"]
    assert sheet.freeze_panes == "E2"


def test_sheet_names_are_valid_and_unique() -> None:
    names = sheet_names(["1班", "1班", "a[b]:c*d?e/f\\g", "x" * 40, "X" * 40, "History", "'q'"])
    assert names[:2] == ["1班", "1班(2)"]
    assert names[2] == "a［b］：c＊d？e／f＼g"
    assert names[3] == "x" * 31
    assert names[4] == "X" * 28 + "(2)"  # Excel compares sheet names without case
    assert names[5] == "History(2)"
    assert names[6] == "q"
    assert all(len(name) <= 31 for name in names)


# ---------------------------------------------------------------- writing safely


def test_a_failed_save_leaves_no_file(demo: AssociationFile, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_save(_workbook: openpyxl.Workbook, filename: Path) -> None:
        Path(filename).write_bytes(b"PK half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    target = tmp_path / "out" / "roster.xlsx"
    target.parent.mkdir()
    scratch = set(ALL_TEMP_FILES)
    with pytest.raises(KairanError, match="No space left on device"):
        _export(demo, target)
    assert list(target.parent.iterdir()) == []  # neither the target nor a temporary file
    assert set(ALL_TEMP_FILES) == scratch

    target.write_bytes(b"the previous export")
    with pytest.raises(KairanError):
        _export(demo, target)
    assert target.read_bytes() == b"the previous export"
    assert list(target.parent.iterdir()) == [target]


def test_a_target_open_in_excel_gives_a_clear_message(
    demo: AssociationFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(_self: Path, _target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    target = tmp_path / "roster.xlsx"
    monkeypatch.setattr(Path, "replace", locked)
    with pytest.raises(KairanError, match="open in another program") as raised:
        _export(demo, target)
    assert str(target) in raised.value.message
    monkeypatch.undo()
    assert [path.name for path in tmp_path.iterdir() if ".xlsx" in path.name] == []


def test_cancelling_through_progress_leaves_no_file(demo: AssociationFile,
                                                    tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))

    target = tmp_path / "roster.xlsx"
    _export(demo, target, progress=progress)
    assert seen[0] == (0, DEMO_HOUSEHOLDS) and seen[-1] == (DEMO_HOUSEHOLDS, DEMO_HOUSEHOLDS)

    class Cancelled(Exception):
        pass

    def cancel(done: int, _total: int) -> None:
        if done:
            raise Cancelled

    target.unlink()
    scratch = set(ALL_TEMP_FILES)
    with pytest.raises(Cancelled):
        _export(demo, target, progress=cancel)
    assert list(tmp_path.glob("*.xlsx*")) == []
    assert set(ALL_TEMP_FILES) == scratch  # openpyxl's per-sheet scratch files are gone too


def test_bad_targets(demo: AssociationFile, tmp_path: Path) -> None:
    with pytest.raises(KairanError, match=r"\.xlsx"):
        _export(demo, tmp_path / "roster.xls")
    with pytest.raises(KairanError, match="does not exist"):
        _export(demo, tmp_path / "missing" / "roster.xlsx")


def test_an_empty_roster_still_makes_a_workbook(association_file: AssociationFile,
                                                tmp_path: Path) -> None:
    target = tmp_path / "empty.xlsx"
    assert _export(association_file, target, per_group=True) == 0
    assert openpyxl.load_workbook(target).sheetnames == ["名簿"]
    assert _header(_sheet(target))[0] == "世帯番号"


# ---------------------------------------------------------------- command line


def test_cli_export(demo: AssociationFile, tmp_path: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    db = demo.path
    demo.close()
    target = tmp_path / "hancho.xlsx"
    code = main(["--lang", "en", "--db", str(db), "export", str(target), "--per-group",
                 "--columns", "number, name,group"])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    assert f"Wrote {DEMO_HOUSEHOLDS} rows to {target}." in captured.out
    assert _header(_sheet(target)) == ["世帯番号", "班", "世帯主"]
    assert len(openpyxl.load_workbook(target).sheetnames) > 1

    code = main(["--lang", "en", "--db", str(db), "export", str(target),
                 "--columns", "number,member_name"])  # member columns imply --members
    captured = capsys.readouterr()
    assert code == 0
    assert _header(_sheet(target)) == ["世帯番号", "氏名"]
    assert _sheet(target).max_row - 1 > DEMO_HOUSEHOLDS


def test_cli_export_unknown_column(demo: AssociationFile, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = demo.path
    demo.close()
    target = tmp_path / "x.xlsx"
    code = main(["--lang", "en", "--db", str(db), "export", str(target), "--columns", "tel"])
    captured = capsys.readouterr()
    assert code == EXIT_PROBLEM
    assert "Unknown column: tel" in captured.err
    assert "phone" in captured.err
    assert not target.exists()

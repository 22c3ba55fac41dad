"""Cells merged over data rows: a 班 or 世帯番号 merged down counts for every row it covers."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from desktop.domain.imports.headers import data_rows, find_header
from desktop.domain.imports.model import Field, SheetData
from desktop.domain.imports.pipeline import read_roster, rows_of
from desktop.domain.imports.records import build_households
from desktop.domain.imports.sheets import read_file
from tests.domain.imports.ods_writer import write_ods


def _workbook(path: Path, rows: list[list[object]], merges: list[str]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    book.save(path)
    return path


def test_the_reader_reports_merged_ranges(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "m.xlsx", [["名簿"], ["班", "氏名"], ["1班", "甲"], [None, "乙"]],
                     ["A1:B1", "A3:A4"])
    (sheet,) = read_file(path)
    assert set(sheet.merges) == {(0, 0, 0, 1), (2, 0, 3, 0)}


def test_a_han_merged_down_over_households_applies_to_each(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "han.xlsx", [
        ["令和7年度 会員名簿"],
        ["班", "世帯番号", "世帯主", "住所"],
        ["1班", "101", "青木 一郎", "本町1-1"],
        [None, "102", "石田 花子", "本町1-2"],
        [None, "103", "上野 次郎", "本町1-3"],
        ["2班", "201", "江藤 三郎", "本町2-1"],
        [None, "202", "小川 四郎", "本町2-2"],
    ], ["A1:D1", "A3:A5", "A6:A7"])
    rows, columns = rows_of(read_roster(path))
    assert [row.values[Field.GROUP] for row in rows] == ["1班", "1班", "1班", "2班", "2班"]
    households, problems = build_households(rows, columns)
    assert not problems
    assert [h.group for h in households] == ["1班", "1班", "1班", "2班", "2班"]


def test_a_cell_merged_sideways_gives_nothing_to_the_next_column() -> None:
    sheet = SheetData("f.xlsx", "名簿", [
        ("世帯番号", "氏名", "住所", "電話"),
        ("1", "青木 一郎", "本町1-1 (電話なし)", None),
        ("2", "石田 花子", "本町1-2", "03-1234-5678"),
    ], merges=((1, 2, 1, 3),))
    rows = data_rows(sheet, find_header(sheet))
    assert rows[0].values.get(Field.PHONE) is None
    assert rows[1].values[Field.PHONE] == "03-1234-5678"


def test_a_number_merged_down_over_member_rows_makes_one_household(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "members.xlsx", [
        ["世帯番号", "氏名", "続柄"],
        ["1", "青木 一郎", "世帯主"],
        [None, "青木 花子", "妻"],
        ["2", "石田 次郎", "世帯主"],
    ], ["A2:A3"])
    rows, columns = rows_of(read_roster(path))
    households, problems = build_households(rows, columns)
    assert not problems
    assert [(h.data.number, len(h.members)) for h in households] == [("1", 2), ("2", 1)]


def test_merged_cells_of_an_ods_file_are_read_from_its_xml(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "han.ods", {"名簿": [
        [("令和7年度 会員名簿", 1, 3), "covered", "covered"],
        ["班", "世帯番号", "世帯主"],
        [("1班", 2, 1), "101", "青木 一郎"],
        ["covered", "102", "石田 花子"],
        ["2班", "201", "江藤 三郎"],
    ]})
    (sheet,) = read_file(path)
    assert set(sheet.merges) == {(0, 0, 0, 2), (2, 0, 3, 0)}
    rows, _columns = rows_of(read_roster(path))
    assert [row.values[Field.GROUP] for row in rows] == ["1班", "1班", "2班"]

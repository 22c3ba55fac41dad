"""Finding the header of officers' rosters (title rows, two-row and merged headers, per-班
sheets), mapping columns to fields, and the data rows under the header."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest

from desktop.domain.errors import KairanError
from desktop.domain.imports.headers import (
    HEADER_SCAN_ROWS,
    data_rows,
    describe_columns,
    field_for_title,
    find_header,
    header_key,
    layout_for_rows,
    remap,
)
from desktop.domain.imports.model import Field, HeaderLayout, RawRow, SheetData
from desktop.domain.imports.sheets import read_file
from desktop.i18n import set_language

F = Field


def sheet(*rows: tuple[object, ...], name: str = "名簿", file: str = "名簿.xlsx") -> SheetData:
    return SheetData(file, name, list(rows))


# --- whole files made with openpyxl ------------------------------------------------------

def test_title_rows_blank_rows_and_a_totals_row(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "会員名簿"
    ws["A1"] = "令和7年度 桜町自治会 会員名簿"
    ws.merge_cells("A1:F1")
    ws["A2"] = "令和7年4月1日現在"
    ws.append([])
    ws.append(["No.", "班", "世帯主氏名", "フリガナ", "住所", "電話番号（自宅）", "備考"])
    ws.append([1, "1班", "山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "桜町1-2-3", "03-1111-2222", None])
    ws.append([])
    ws.append([2, "1班", "\u3000佐藤 花子 ", "さとう はなこ", "桜町1-2-4", "", "  "])
    ws.append([3, "２班", "鈴木 一郎", None, "桜町2-1-1", None, "転入"])
    ws.append([None, "合計", None, None, None, None, "3世帯"])
    ws.append(["※ 転出された方は線を引いてください"])
    workbook.save(tmp_path / "会員名簿.xlsx")

    [read] = read_file(tmp_path / "会員名簿.xlsx")
    layout = find_header(read)
    assert layout.header_rows == (4,)
    assert layout.columns == {F.NUMBER: 0, F.GROUP: 1, F.NAME: 2, F.FURIGANA: 3,
                              F.ADDRESS: 4, F.PHONE: 5, F.NOTES: 6}
    assert layout.unmapped == ()
    rows = data_rows(read, layout)
    assert [row.row for row in rows] == [5, 7, 8]  # blank row 6 skipped, stop at 合計 (row 9)
    assert rows[0] == RawRow("会員名簿", 5, {
        F.NUMBER: 1.0, F.GROUP: "1班", F.NAME: "山田 太郎", F.FURIGANA: "ﾔﾏﾀﾞ ﾀﾛｳ",
        F.ADDRESS: "桜町1-2-3", F.PHONE: "03-1111-2222", F.NOTES: None})
    # Trimmed (U+3000 too), "" → None; everything else exactly as read.
    assert rows[1].values[F.NAME] == "佐藤 花子"
    assert rows[1].values[F.PHONE] is None and rows[1].values[F.NOTES] is None
    assert rows[2].values[F.GROUP] == "２班" and rows[2].values[F.FURIGANA] is None


def test_two_row_header_with_merged_cells(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "名簿"
    ws.append(["桜町自治会 名簿"])
    ws.append(["世帯番号", "氏名", "連絡先", None, "住所", None])
    ws.append([None, None, "電話", "メール", "〒", "所在地"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws.merge_cells("E2:F2")
    ws.append(["0001", "山田 太郎", "03-1111-2222", "taro@example.jp", "123-4567", "桜町1-2-3"])
    workbook.save(tmp_path / "二段.xlsx")

    [read] = read_file(tmp_path / "二段.xlsx")
    layout = find_header(read)
    assert layout.header_rows == (2, 3)
    assert layout.titles == ("世帯番号", "氏名", "連絡先／電話", "連絡先／メール", "住所／〒",
                             "住所／所在地")
    assert layout.columns == {F.NUMBER: 0, F.NAME: 1, F.PHONE: 2, F.EMAIL: 3,
                              F.POSTAL_CODE: 4, F.ADDRESS: 5}
    [row] = data_rows(read, layout)
    assert row.row == 4 and row.values[F.EMAIL] == "taro@example.jp"


def test_one_sheet_per_group(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    for group in ("1班", "2班", "3班"):
        ws = workbook.create_sheet(group)
        ws.append([f"{group} 名簿"])
        ws.append(["番号", "お名前", "ふりがな", "TEL"])
        ws.append([f"{group[0]}01", f"{group}の会員", "かいいん", None])
    workbook.save(tmp_path / "班別.xlsx")

    found = {}
    for read in read_file(tmp_path / "班別.xlsx"):
        layout = find_header(read)
        assert layout.header_rows == (2,)
        found[read.name] = data_rows(read, layout)
    assert {name: [(row.sheet, row.row, row.values[F.NAME]) for row in rows]
            for name, rows in found.items()} == {
        "1班": [("1班", 3, "1班の会員")], "2班": [("2班", 3, "2班の会員")],
        "3班": [("3班", 3, "3班の会員")]}


def test_samples_in_xls_and_ods() -> None:
    samples = Path(__file__).parent / "samples"
    [xls] = read_file(samples / "roster.xls")
    layout = find_header(xls)
    assert layout.header_rows == (3, 4)
    assert [row.row for row in data_rows(xls, layout)] == [5, 6]  # the 合計 row is left out
    [ods] = read_file(samples / "roster.ods")
    layout = find_header(ods)
    assert layout.header_rows == (3,)
    rows = data_rows(ods, layout)
    assert [row.row for row in rows] == [4, 6]
    assert rows[0].values[F.JOINED_ON] == date(2021, 4, 1)


# --- column titles -------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "expected"), [
    ("世帯番号", F.NUMBER), ("No.", F.NUMBER), ("Ｎｏ", F.NUMBER), ("世帯No", F.NUMBER),
    ("会員番号", F.NUMBER), ("整理 番号", F.NUMBER),
    ("班", F.GROUP), ("組", F.GROUP), ("地区", F.GROUP), ("所属班", F.GROUP), ("班・組", F.GROUP),
    ("氏名", F.NAME), ("お名前", F.NAME), ("世帯主", F.NAME), ("世帯主氏名", F.NAME),
    ("名前（漢字）", F.NAME), ("Name", F.NAME),
    ("フリガナ", F.FURIGANA), ("ﾌﾘｶﾞﾅ", F.FURIGANA), ("よみがな", F.FURIGANA),
    ("氏名カナ", F.FURIGANA), ("名前(カナ)", F.FURIGANA), ("フリガナ（世帯主）", F.FURIGANA),
    ("続柄", F.RELATION), ("世帯主との続柄", F.RELATION),
    ("住所", F.ADDRESS), ("所在地", F.ADDRESS), ("Address", F.ADDRESS),
    ("郵便番号", F.POSTAL_CODE), ("〒", F.POSTAL_CODE),
    ("電話", F.PHONE), ("電話番号（自宅）", F.PHONE), ("ＴＥＬ", F.PHONE), ("携帯電話", F.PHONE),
    ("Phone No.", F.PHONE), ("連絡先", F.PHONE),
    ("メール", F.EMAIL), ("Eメールアドレス", F.EMAIL), ("E-mail", F.EMAIL),
    ("メール（携帯）", F.EMAIL),
    ("備考", F.NOTES), ("メモ", F.NOTES), ("特記事項", F.NOTES), ("Notes", F.NOTES),
    ("配布方法", F.CHANNEL), ("回覧", F.CHANNEL), ("受取方法", F.CHANNEL),
    ("入会日", F.JOINED_ON), ("加入日", F.JOINED_ON),
    ("令和7年度 桜町自治会 会員名簿", None), ("班長", None), ("hotel", None), ("", None),
])
def test_column_titles(title: str, expected: Field | None) -> None:
    assert field_for_title(title) == expected


def test_header_key_drops_width_case_spaces_and_punctuation() -> None:
    assert header_key("Ｅ－ｍａｉｌ") == "email"
    assert header_key(" 電話番号（自宅） ") == "電話番号自宅"
    assert header_key("メール・アドレス") == "メールアドレス"


def test_first_strongest_column_wins_and_the_rest_is_unmapped() -> None:
    layout = find_header(sheet(("世帯主", "氏名", "電話番号", "連絡先", "住所1", "住所2")))
    assert layout.columns == {F.NAME: 0, F.PHONE: 2, F.ADDRESS: 4}
    assert layout.unmapped == (1, 3, 5)
    # An exact title beats a longer one that only contains a synonym, wherever it stands.
    layout = find_header(sheet(("氏名", "電話（携帯）", "電話")))
    assert layout.columns == {F.NAME: 0, F.PHONE: 2}
    # 連絡先 is the phone only when no column says 電話.
    assert find_header(sheet(("氏名", "連絡先"))).columns == {F.NAME: 0, F.PHONE: 1}


def test_member_rows_take_the_name_from_shimei_not_from_the_head_of_household() -> None:
    layout = find_header(sheet(("世帯番号", "世帯主", "氏名", "続柄")))
    # The 世帯主 column is the household's own name, beside the members' (Kairan's export).
    assert layout.columns == {F.NUMBER: 0, F.HOUSEHOLD_NAME: 1, F.NAME: 2, F.RELATION: 3}
    assert layout.unmapped == ()


def test_a_title_row_naming_an_address_book_is_not_taken_for_a_header() -> None:
    read = sheet(("桜町自治会 住所録",), (None,), ("氏名", "住所", "電話"), ("山田", "桜町", None))
    layout = find_header(read)
    assert layout.header_rows == (3,)
    assert layout.titles == ("氏名", "住所", "電話")


def test_a_data_row_is_not_taken_for_a_second_header_row() -> None:
    read = sheet(("氏名", "配布方法", "電話"), ("山田", "メール", "03-1111-2222"))
    layout = find_header(read)
    assert layout.header_rows == (1,)
    assert len(data_rows(read, layout)) == 1


# --- remembered and corrected mappings ------------------------------------------------------

def test_a_remembered_mapping_is_used_for_the_same_headers() -> None:
    read = sheet(("令和7年度 名簿",), ("コード", "名", "メモ欄"), ("A1", "山田", "x"))
    with pytest.raises(KairanError):
        find_header(read)
    signature = HeaderLayout((2,), {}, ("コード", "名", "メモ欄")).signature()
    layout = find_header(read, remembered={signature: {F.NUMBER: 0, F.NAME: 1}})
    assert layout.header_rows == (2,)
    assert layout.columns == {F.NUMBER: 0, F.NAME: 1}
    assert layout.unmapped == (2,)
    assert data_rows(read, layout) == [RawRow("名簿", 3, {F.NUMBER: "A1", F.NAME: "山田"})]
    # A mapping remembered for other headers is not used.
    other = find_header(sheet(("氏名", "電話")), remembered={signature: {F.NAME: 1}})
    assert other.columns == {F.NAME: 0, F.PHONE: 1}


def test_officer_chosen_header_rows_and_mapping() -> None:
    read = sheet(("氏名", "電話"), ("番号", "名前", "メモ"), (1, "山田", "x"))
    layout = layout_for_rows(read, (2,))
    assert layout.columns == {F.NUMBER: 0, F.NAME: 1, F.NOTES: 2}
    changed = remap(layout, {F.NAME: 1, F.PHONE: 2})
    assert changed.columns == {F.NAME: 1, F.PHONE: 2} and changed.unmapped == (0,)
    assert data_rows(read, changed)[0].values == {F.NAME: "山田", F.PHONE: "x"}
    with pytest.raises(ValueError, match=r"two fields"):
        remap(layout, {F.NAME: 1, F.PHONE: 1})
    with pytest.raises(ValueError, match=r"out of range"):
        layout_for_rows(read, (4,))


def test_describe_columns_for_the_mapping_page() -> None:
    read = sheet(("No.", "氏名", "", "趣味", "住所"))
    layout = find_header(read)
    assert describe_columns(layout) == [
        (0, "No.", F.NUMBER), (1, "氏名", F.NAME), (2, "", None), (3, "趣味", None),
        (4, "住所", F.ADDRESS)]
    assert layout.unmapped == (3,)
    assert describe_columns(remap(layout, {F.NAME: 1, F.PHONE: 6}))[-2:] == [
        (5, "", None), (6, "", F.PHONE)]


# --- sheets without a usable header ---------------------------------------------------------

def test_no_recognisable_header_names_file_and_sheet_and_says_what_to_add() -> None:
    read = sheet(("令和7年度 名簿",), ("あ", "い", "う"), ("山田", "桜町", "1"), name="1班")
    with pytest.raises(KairanError) as raised:
        find_header(read)
    message = raised.value.message
    assert "“名簿.xlsx”, sheet “1班”" in message
    assert "氏名, 世帯番号, 班, 住所" in message and f"first {HEADER_SCAN_ROWS} rows" in message
    assert "Add such a row above the data" in message


def test_csv_header_messages_name_the_file_only() -> None:
    with pytest.raises(KairanError, match=r"No header row was found in “名簿.csv”\. "):
        find_header(sheet(("a", "b"), name="", file="名簿.csv"))


def test_a_header_without_a_name_column_says_so_with_its_row() -> None:
    read = sheet(("桜町",), ("番号", "住所", "電話"), (1, "桜町", None))
    with pytest.raises(KairanError, match=r"sheet “名簿”, row 2 looks like the header "
                                          r"\(番号、住所、電話\), but no column holds the names"):
        find_header(read)


def test_a_header_below_the_scanned_rows_is_not_found() -> None:
    rows = [("メモ",)] * HEADER_SCAN_ROWS + [("氏名", "住所")]
    with pytest.raises(KairanError, match=r"No header row"):
        find_header(sheet(*rows))
    assert find_header(sheet(*rows[1:])).header_rows == (HEADER_SCAN_ROWS,)


def test_an_empty_sheet() -> None:
    with pytest.raises(KairanError, match=r"“名簿.xlsx”, sheet “空” is empty"):
        find_header(sheet(name="空"))


# --- data rows ------------------------------------------------------------------------------

def test_subtotals_are_skipped_and_a_grand_total_ends_the_data() -> None:
    read = sheet(
        ("班", "氏名", "人数"),
        ("1班", "山田", 3),
        ("小計", None, 3),
        ("2班", "計良 一郎", 2),  # a surname starting with 計 is not a total
        (None, "【 小 計 】", 2),
        ("2班", "佐藤", 1),
        ("総計", None, 6),
        ("3班", "メモの後の行", 1),
    )
    rows = data_rows(read, find_header(read))
    assert [row.values[F.NAME] for row in rows] == ["山田", "計良 一郎", "佐藤"]


@pytest.mark.parametrize("label", ["合計", "計", "計 3世帯", "Total", "ＴＯＴＡＬ", "総計："])
def test_totals_labels(label: str) -> None:
    read = sheet(("氏名", "電話"), ("山田", 3), (label, 3), ("後", 1))
    assert [row.row for row in data_rows(read, find_header(read))] == [2]


def test_an_unlabelled_total_at_the_bottom_is_left_out() -> None:
    read = sheet(("世帯番号", "氏名", "人数"), (1, "山田", 3), (2, "佐藤", 2), (None, None, 5),
                 (2, None, 5))
    assert [row.row for row in data_rows(read, find_header(read))] == [2, 3]
    csv_like = sheet(("世帯番号", "氏名"), ("1", "山田"), ("1", None), name="", file="a.csv")
    assert [row.row for row in data_rows(csv_like, find_header(csv_like))] == [2]
    # A row without a name but with text stays, for the next step to report.
    read = sheet(("世帯番号", "氏名", "住所"), (1, "山田", "桜町"), (2, None, "桜町"))
    assert [row.row for row in data_rows(read, find_header(read))] == [2, 3]


def test_repeated_headers_and_rows_with_only_unmapped_data_are_skipped() -> None:
    read = sheet(
        ("氏名", "住所", "趣味"),
        ("山田", "桜町", None),
        (None, None, "囲碁"),
        ("\u3000", " ", None),
        ("氏名", "住所", "趣味"),
        ("佐藤", "桜町", "将棋"),
    )
    rows = data_rows(read, find_header(read))
    assert [(row.row, row.values) for row in rows] == [
        (2, {F.NAME: "山田", F.ADDRESS: "桜町"}), (6, {F.NAME: "佐藤", F.ADDRESS: "桜町"})]


def test_short_csv_rows_give_none_for_missing_cells() -> None:
    read = sheet(("氏名", "電話", "メール"), ("山田",), name="", file="a.csv")
    assert data_rows(read, find_header(read)) == [
        RawRow("", 2, {F.NAME: "山田", F.PHONE: None, F.EMAIL: None})]


def test_header_messages_in_japanese() -> None:
    set_language("ja")
    with pytest.raises(KairanError) as raised:
        find_header(sheet(("a", "b"), name="1班"))
    assert "1班" in raised.value.message and "名簿.xlsx" in raised.value.message
    assert "No header" not in raised.value.message

"""Reading roster files: xlsx/xlsm/xls/ods through calamine, CSV in the encodings offices use,
and a clear message for every file that cannot be read."""

from __future__ import annotations

import codecs
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from desktop.domain.errors import KairanError
from desktop.domain.imports.sheets import MAX_ROWS, ReadCancelled, read_file
from desktop.i18n import set_language

SAMPLES = Path(__file__).parent / "samples"


def make_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = openpyxl.Workbook(write_only=True)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_values_keep_their_types_and_positions(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "名簿"
    sheet["B2"] = "令和7年度 桜町自治会 会員名簿"
    sheet["B4"], sheet["C4"], sheet["D4"], sheet["E4"], sheet["F4"] = (
        "氏名", "世帯番号", "入会日", "在籍", "電話")
    sheet["B5"], sheet["C5"], sheet["D5"], sheet["E5"] = (
        "  山田 太郎\u3000", 12, datetime(2025, 4, 1), True)
    sheet["C6"], sheet["E6"] = 0, False
    workbook.save(tmp_path / "名簿.xlsx")

    [read] = read_file(tmp_path / "名簿.xlsx")
    assert (read.file, read.name) == ("名簿.xlsx", "名簿")
    # Leading empty rows and columns are kept: rows[i] is Excel's row i + 1, column A is 0.
    assert read.rows[0] == (None,) * 6
    assert read.rows[1][1] == "令和7年度 桜町自治会 会員名簿"
    assert read.rows[3] == (None, "氏名", "世帯番号", "入会日", "在籍", "電話")
    name, number, joined, member = read.rows[4][1:5]
    assert name == "  山田 太郎\u3000"  # nothing is stripped while reading
    assert number == 12 and isinstance(number, float)  # Excel keeps numbers as floats
    assert joined == date(2025, 4, 1)  # calamine gives a date for a date-formatted cell
    assert member is True and read.rows[4][5] is None  # empty cell → None
    assert read.rows[5][2] == 0 and read.rows[5][4] is False  # 0 and FALSE are values
    assert len(read.rows) == 6


def test_sheets_in_order_without_hidden_chart_or_empty_ones(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "1班"
    first.append(["氏名"])
    workbook.create_sheet("空のシート")
    hidden = workbook.create_sheet("旧名簿")
    hidden.append(["氏名"])
    hidden.sheet_state = "hidden"
    workbook.create_chartsheet("グラフ")
    second = workbook.create_sheet("2班")
    second.append(["氏名"])
    workbook.save(tmp_path / "班別.xlsx")

    assert [sheet.name for sheet in read_file(tmp_path / "班別.xlsx")] == ["1班", "2班"]


def test_xlsm_and_a_renamed_workbook_are_read_by_their_content(tmp_path: Path) -> None:
    make_xlsx(tmp_path / "macro.xlsm", {"名簿": [["氏名"], ["山田"]]})
    assert read_file(tmp_path / "macro.xlsm")[0].rows == [("氏名",), ("山田",)]
    make_xlsx(tmp_path / "本当はxlsx.xls", {"名簿": [["氏名"], ["佐藤"]]})
    assert read_file(tmp_path / "本当はxlsx.xls")[0].rows[1] == ("佐藤",)
    make_xlsx(tmp_path / "ブック.csv", {"名簿": [["氏名"], ["鈴木"]]})
    assert read_file(tmp_path / "ブック.csv")[0].name == "名簿"


def test_formula_cells_give_the_value_excel_saved(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "formula.xlsx", {"名簿": [["氏名", "人数"], ["山田", "=1+2"]]})
    # openpyxl cannot calculate, so it saves the formula without a value: it reads as empty.
    assert read_file(path)[0].rows[1] == ("山田", None)
    # Excel saves the last calculated value next to the formula: <f>1+2</f><v>3</v>.
    cached = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(cached, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<f>1+2</f><v />" in data
                data = data.replace(b"<f>1+2</f><v />", b"<f>1+2</f><v>3</v>")
            target.writestr(item, data)
    assert read_file(cached)[0].rows[1] == ("山田", 3.0)


def test_xls_sample_with_a_merged_two_row_header() -> None:
    # Made once with xlwt (not a dependency): a title row, 連絡先 merged over 電話/メール.
    [sheet] = read_file(SAMPLES / "roster.xls")
    assert sheet.name == "1班"
    assert sheet.rows[2] == ("世帯番号", "氏名", "連絡先", None, "入会日")
    assert sheet.rows[3] == (None, None, "電話", "メール", None)
    assert sheet.rows[4] == (1, "山田 太郎", "03-1111-2222", "taro@example.jp", date(2020, 4, 1))
    assert sheet.rows[-1][1] == "合計"


def test_ods_sample_skips_its_empty_sheet() -> None:
    # Made once with odfpy (not a dependency); its second sheet 「空」 is empty.
    [sheet] = read_file(SAMPLES / "roster.ods")
    assert sheet.name == "2班"
    assert sheet.rows[0] == ("令和7年度 桜町自治会 会員名簿", None, None, None)
    assert sheet.rows[3] == (11.0, "田中 一郎", "ﾀﾅｶ ｲﾁﾛｳ", date(2021, 4, 1))
    assert sheet.rows[4] == (None, None, None, None)


def test_progress_is_reported_per_sheet_and_cancel_stops_between_sheets(
        tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "班別.xlsx",
                     {f"{n}班": [["氏名"], [f"会員{n}"]] for n in range(1, 4)})
    seen: list[tuple[int, int]] = []
    assert len(read_file(path, progress=lambda done, total: seen.append((done, total)))) == 3
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]

    seen.clear()
    with pytest.raises(ReadCancelled):
        read_file(path, progress=lambda done, total: seen.append((done, total)),
                  cancelled=lambda: len(seen) > 2)
    assert seen == [(0, 3), (1, 3), (2, 3)]


def test_a_sheet_over_the_row_limit_is_refused_naming_file_sheet_and_limit(
        tmp_path: Path) -> None:
    assert MAX_ROWS == 200_000
    path = make_xlsx(tmp_path / "大きい.xlsx",
                     {"小": [["氏名"]], "全員": [["氏名"]] + [[f"会員{n}"] for n in range(12)]})
    with pytest.raises(KairanError, match=r"“大きい.xlsx”, sheet “全員” has more than 10 rows"):
        read_file(path, max_rows=10)
    assert len(read_file(path, max_rows=13)) == 2

    csv_path = tmp_path / "大きい.csv"
    csv_path.write_text("氏名\n" + "".join(f"会員{n}\n" for n in range(12)), encoding="utf-8")
    with pytest.raises(KairanError, match=r"“大きい.csv” has more than 10 rows"):
        read_file(csv_path, max_rows=10)


# --- CSV ---------------------------------------------------------------------------------

ROSTER_CSV = "氏名,フリガナ,電話\n山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,03-1111-2222\n佐藤 花子,,\n,,\n\n"
ROSTER_ROWS = [("氏名", "フリガナ", "電話"), ("山田 太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "03-1111-2222"),
               ("佐藤 花子", None, None)]


@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp932", b""), ("utf-16-le", codecs.BOM_UTF16_LE),
])
def test_csv_in_the_encodings_offices_save(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "名簿.csv"
    path.write_bytes(bom + ROSTER_CSV.encode(encoding))
    [sheet] = read_file(path)
    assert (sheet.file, sheet.name) == ("名簿.csv", "")
    assert sheet.rows == ROSTER_ROWS  # trailing blank rows dropped, "" → None


def test_tab_separated_text_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "名簿.txt"
    path.write_text('氏名\t備考\n山田\t"1行目\n2行目"\n鈴木\t\n', encoding="cp932")
    assert read_file(path)[0].rows == [("氏名", "備考"), ("山田", "1行目\n2行目"), ("鈴木", None)]


def test_csv_in_another_encoding_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "名簿.csv"
    path.write_bytes(ROSTER_CSV.encode("utf-16-le"))  # no BOM: could be anything
    with pytest.raises(KairanError, match=r"“名簿.csv” is not written in UTF-8 or Shift_JIS"):
        read_file(path)
    path.write_bytes("氏名\n".encode("euc-jp") + bytes([0x8E, 0xFF]))
    with pytest.raises(KairanError, match=r"CSV UTF-8"):
        read_file(path)


# --- files that cannot be read -------------------------------------------------------------

def test_unknown_ending_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "名簿.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(KairanError, match=r"cannot read “名簿.pdf”.*xlsx.*csv"):
        read_file(tmp_path / "名簿.pdf")
    with pytest.raises(KairanError, match=r"“ない.xlsx” was not found"):
        read_file(tmp_path / "ない.xlsx")


def test_empty_truncated_and_junk_files(tmp_path: Path) -> None:
    (tmp_path / "空.xlsx").write_bytes(b"")
    with pytest.raises(KairanError, match=r"“空.xlsx” is empty \(0 bytes\)"):
        read_file(tmp_path / "空.xlsx")
    whole = make_xlsx(tmp_path / "whole.xlsx", {"名簿": [["氏名"], ["山田"]]}).read_bytes()
    (tmp_path / "途中.xlsx").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(KairanError, match=r"“途中.xlsx” could not be read: it is damaged.*save"):
        read_file(tmp_path / "途中.xlsx")
    (tmp_path / "ごみ.xls").write_bytes(b"\x01\x02 not a spreadsheet")
    with pytest.raises(KairanError, match=r"“ごみ.xls” could not be read"):
        read_file(tmp_path / "ごみ.xls")


@pytest.mark.parametrize("start", [
    b"<!DOCTYPE html>\n<html>", b"\xef\xbb\xbf  <html><body><table>", b"<table border=1>",
])
def test_an_xlsx_that_is_a_web_page(tmp_path: Path, start: bytes) -> None:
    (tmp_path / "名簿.xlsx").write_bytes(start + "<tr><td>氏名</td></tr>".encode())
    with pytest.raises(KairanError, match=r"“名簿.xlsx” is not a real Excel workbook: it was "
                                          "saved as a web page.*save it again as"):
        read_file(tmp_path / "名簿.xlsx")


def test_an_xml_spreadsheet_2003(tmp_path: Path) -> None:
    (tmp_path / "名簿.xls").write_bytes(
        b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">')
    with pytest.raises(KairanError, match=r"“名簿.xls” was saved as “XML Spreadsheet 2003”"):
        read_file(tmp_path / "名簿.xls")


def test_password_protected_workbook() -> None:
    # Encrypted with the password "kairan" (msoffcrypto-tool, as Excel does it).
    with pytest.raises(KairanError, match=r"“password.xlsx” is protected by a password.*"
                                          "remove the password"):
        read_file(SAMPLES / "password.xlsx")


def test_compound_file_named_xlsx_holding_an_encrypted_package(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    (tmp_path / "暗号.xlsx").write_bytes(ole2 + "EncryptedPackage".encode("utf-16-le"))
    with pytest.raises(KairanError, match=r"protected by a password"):
        read_file(tmp_path / "暗号.xlsx")
    (tmp_path / "壊れ.xlsx").write_bytes(ole2)
    with pytest.raises(KairanError, match=r"“壊れ.xlsx” could not be read: it is damaged"):
        read_file(tmp_path / "壊れ.xlsx")


def test_a_workbook_with_only_empty_sheets(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "白紙.xlsx", {"Sheet1": [], "Sheet2": []})
    with pytest.raises(KairanError, match=r"“白紙.xlsx” contains no data: every sheet is empty"):
        read_file(path)
    (tmp_path / "白紙.csv").write_bytes(codecs.BOM_UTF8 + b",,\r\n\r\n")
    with pytest.raises(KairanError, match=r"“白紙.csv” contains no data"):
        read_file(tmp_path / "白紙.csv")


def test_messages_are_translated(tmp_path: Path) -> None:
    set_language("ja")
    with pytest.raises(KairanError) as raised:
        read_file(tmp_path / "ない.xlsx")
    assert "ない.xlsx" in raised.value.message
    assert "not found" not in raised.value.message

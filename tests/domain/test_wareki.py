"""Japanese era dates, Excel serials and the association year (年度)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from desktop.domain.wareki import (
    ERAS,
    association_year,
    association_year_bounds,
    era_of,
    format_dual,
    format_iso,
    format_nendo,
    format_wareki,
    parse_date,
    parse_date_value,
)

# --- formatting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2025, 4, 1), "令和7年4月1日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1868, 10, 23), "明治元年10月23日"),
        (date(1868, 10, 22), "1868年10月22日"),  # before 明治: western year
    ],
)
def test_format_wareki(d: date, expected: str) -> None:
    assert format_wareki(d) == expected


def test_format_iso_and_dual() -> None:
    assert format_iso(date(2025, 4, 1)) == "2025-04-01"
    assert format_dual(date(2025, 4, 1)) == "令和7年4月1日 (2025-04-01)"
    assert format_dual(date(2019, 5, 1)) == "令和元年5月1日 (2019-05-01)"


def test_eras_and_era_of() -> None:
    assert [e.name for e in ERAS] == ["明治", "大正", "昭和", "平成", "令和"]
    assert era_of(date(2019, 4, 30)) == ERAS[3]
    assert era_of(date(2019, 5, 1)) == ERAS[4]
    assert era_of(date(1800, 1, 1)) is None


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-01", date(2025, 4, 1)),
        ("2025/4/1", date(2025, 4, 1)),
        ("2025.4.1", date(2025, 4, 1)),
        ("2025年4月1日", date(2025, 4, 1)),
        ("2025年04月01日", date(2025, 4, 1)),
        ("20250401", date(2025, 4, 1)),
        ("令和7年4月1日", date(2025, 4, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("令和1年5月1日", date(2019, 5, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("R7/4/1", date(2025, 4, 1)),
        ("r7-4-1", date(2025, 4, 1)),
        ("令7.4.1", date(2025, 4, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("S50.1.1", date(1975, 1, 1)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("T15.12.24", date(1926, 12, 24)),
        ("M45.7.29", date(1912, 7, 29)),
        ("㍻31.4.30", date(2019, 4, 30)),  # the one-character era sign
        ("２０２５／４／１", date(2025, 4, 1)),
        ("令和７年４月１日", date(2025, 4, 1)),
        (" 令和 7年 4月 1日 ", date(2025, 4, 1)),
        ("2025 / 4 / 1", date(2025, 4, 1)),
        ("\u30002025-04-01\u3000", date(2025, 4, 1)),
        ("2025/4/1 0:00", date(2025, 4, 1)),  # as spreadsheets export it
        ("2025-04-01T13:45:10", date(2025, 4, 1)),
        ("45748", date(2025, 4, 1)),
        ("４５７４８", date(2025, 4, 1)),
        ("45748.75", date(2025, 4, 1)),
        ("1", date(1900, 1, 1)),
        ("59", date(1900, 2, 28)),
        ("61", date(1900, 3, 1)),
        ("2958465", date(9999, 12, 31)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "2025-13-01",
        "2025-02-29",
        "2025/4",
        "2025-04-01-01",
        "平成32年5月1日",  # 平成 ended on 2019-04-30
        "H31.5.1",
        "令和元年4月30日",  # 令和 began on 2019-05-01
        "平成元年1月7日",  # 平成 began on 1989-01-08
        "昭和64年1月8日",
        "M1.1.1",  # before 明治 began
        "R0.1.1",
        "X7.4.1",
        "令和7年13月1日",
        "0",
        "60",  # Excel's fake 1900-02-29
        "2958466",
        "-5",
    ],
)
def test_parse_date_refuses_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        parse_date(text)


def test_parse_date_error_message_is_short_english() -> None:
    with pytest.raises(ValueError) as caught:
        parse_date("平成32年5月1日")
    message = str(caught.value)
    assert "平成32年5月1日" in message
    assert len(message) < 80


def test_round_trip_through_wareki_text() -> None:
    for d in [date(2019, 4, 30), date(2019, 5, 1), date(1989, 1, 8), date(2025, 4, 1)]:
        assert parse_date(format_wareki(d)) == d
        assert parse_date(format_dual(d).split(" ")[0]) == d


# --- parse_date_value -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2025, 4, 1), date(2025, 4, 1)),
        (datetime(2025, 4, 1, 23, 59), date(2025, 4, 1)),
        (45748, date(2025, 4, 1)),
        (45748.0, date(2025, 4, 1)),
        (45748.99, date(2025, 4, 1)),
        (61, date(1900, 3, 1)),
        (1.5, date(1900, 1, 1)),
        ("R7.4.1", date(2025, 4, 1)),
        ("45748", date(2025, 4, 1)),
    ],
)
def test_parse_date_value(value: object, expected: date) -> None:
    result = parse_date_value(value)
    assert result == expected
    assert type(result) is date


@pytest.mark.parametrize(
    "value", [None, True, False, 0, 60, -1, 0.5, 2958466, float("nan"), float("inf"), b"2025", []]
)
def test_parse_date_value_refuses_bad_values(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date_value(value)


# --- association year -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "start_month", "expected"),
    [
        (date(2026, 3, 31), 4, 2025),
        (date(2026, 4, 1), 4, 2026),
        (date(2025, 12, 31), 4, 2025),
        (date(2025, 1, 1), 1, 2025),
        (date(2025, 12, 31), 1, 2025),
        (date(2025, 9, 30), 10, 2024),
        (date(2025, 10, 1), 10, 2025),
    ],
)
def test_association_year(d: date, start_month: int, expected: int) -> None:
    assert association_year(d, start_month) == expected


def test_association_year_default_starts_in_april() -> None:
    assert association_year(date(2026, 3, 31)) == 2025
    assert association_year(date(2026, 4, 1)) == 2026


@pytest.mark.parametrize(
    ("year", "start_month", "expected"),
    [
        (2025, 4, (date(2025, 4, 1), date(2026, 3, 31))),
        (2023, 4, (date(2023, 4, 1), date(2024, 3, 31))),
        (2025, 1, (date(2025, 1, 1), date(2025, 12, 31))),
        (2023, 3, (date(2023, 3, 1), date(2024, 2, 29))),
        (2025, 12, (date(2025, 12, 1), date(2026, 11, 30))),
    ],
)
def test_association_year_bounds(year: int, start_month: int, expected: tuple[date, date]) -> None:
    assert association_year_bounds(year, start_month) == expected
    first, last = expected
    assert association_year(first, start_month) == year
    assert association_year(last, start_month) == year


@pytest.mark.parametrize("start_month", [0, 13, -1])
def test_association_year_refuses_bad_start_month(start_month: int) -> None:
    with pytest.raises(ValueError, match="start month"):
        association_year(date(2025, 4, 1), start_month)
    with pytest.raises(ValueError, match="start month"):
        association_year_bounds(2025, start_month)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, "令和7年度"),
        (2020, "令和2年度"),
        (2019, "令和元年度"),  # by convention, though it began in 平成
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        (1988, "昭和63年度"),
        (1867, "1867年度"),
    ],
)
def test_format_nendo(year: int, expected: str) -> None:
    assert format_nendo(year) == expected


def test_format_nendo_with_calendar_year() -> None:
    assert format_nendo(2019, start_month=1) == "令和元年度"
    assert format_nendo(1989, start_month=1) == "昭和64年度"  # 1989-01-01 was still 昭和

"""Japanese era dates (和暦) and the association year (年度).

Officers read and type dates as 令和7年4月1日, R7.4.1 or 2025/4/1, and spreadsheets hand
over Excel serial day numbers; everything is parsed into ``datetime.date`` here and written
back in the form the UI wants.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import NamedTuple

__all__ = [
    "ERAS",
    "Era",
    "association_year",
    "association_year_bounds",
    "era_of",
    "format_dual",
    "format_iso",
    "format_nendo",
    "format_wareki",
    "parse_date",
    "parse_date_value",
]


class Era(NamedTuple):
    """A Japanese era: its name, the letter used in short dates, and its first day."""

    name: str
    letter: str
    start: date


ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1868, 10, 23)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("令和", "R", date(2019, 5, 1)),
)

_ERA_BY_KEY: dict[str, int] = {}
for _index, _era in enumerate(ERAS):
    # Full name, Latin letter in either case, and the one-kanji abbreviation (令7.4.1).
    for _key in (_era.name, _era.letter, _era.letter.lower(), _era.name[0]):
        _ERA_BY_KEY[_key] = _index

# Excel's 1900 date system counts 1900-01-01 as 1 and pretends 1900-02-29 (serial 60) exists.
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 0 for serials after the fake leap day
_EXCEL_FAKE_LEAP_DAY = 60
_EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31

_SEP = r"[-/.]"
_WESTERN = re.compile(rf"(\d{{4}})(?:{_SEP}(\d{{1,2}}){_SEP}|年(\d{{1,2}})月)(\d{{1,2}})日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ERA_NAMES = "|".join(sorted(_ERA_BY_KEY, key=len, reverse=True))
_ERA_DATE = re.compile(
    rf"({_ERA_NAMES})(元|\d{{1,2}})(?:{_SEP}(\d{{1,2}}){_SEP}|年(\d{{1,2}})月)(\d{{1,2}})日?"
)
_SERIAL = re.compile(r"(\d{1,7})(?:\.\d*)?")
# A trailing clock time, as spreadsheets export dates ("2025/4/1 0:00"); it is ignored.
_TIME_SUFFIX = re.compile(r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")
_SPACES = re.compile(r"\s+")


def era_of(d: date) -> Era | None:
    """Return the era in force on ``d``, or None before 明治."""
    for era in reversed(ERAS):
        if d >= era.start:
            return era
    return None


def _era_year(era: Era, d: date) -> int:
    return d.year - era.start.year + 1


def _year_text(year: int) -> str:
    return "元" if year == 1 else str(year)


def format_wareki(d: date) -> str:
    """Return ``d`` as 令和7年4月1日 (元年 for year 1); dates before 明治 are written in 西暦."""
    era = era_of(d)
    if era is None:
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{era.name}{_year_text(_era_year(era, d))}年{d.month}月{d.day}日"


def format_iso(d: date) -> str:
    """Return ``d`` as 2025-04-01."""
    return d.isoformat()


def format_dual(d: date) -> str:
    """Return ``d`` as 令和7年4月1日 (2025-04-01)."""
    return f"{format_wareki(d)} ({d.isoformat()})"


def parse_date(text: str) -> date:
    """Read a date the way officers and spreadsheets write it.

    Accepts 2025-04-01, 2025/4/1, 2025.4.1, 20250401, 2025年4月1日, 令和7年4月1日, 令和元年5月1日,
    R7.4.1, r7/4/1, 令7.4.1, H31.4.30, full-width digits and spaces, an ignored trailing
    time ("2025/4/1 0:00"), and Excel serial day numbers ("45748", "45748.5").
    Raises ``ValueError`` quoting ``text`` when it is none of these or is not a real day,
    including an era year outside its era (平成32年).
    """
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = _SPACES.sub("", _TIME_SUFFIX.sub("", cleaned, count=1))
    if match := _WESTERN.fullmatch(cleaned):
        year, month_a, month_b, day = match.groups()
        return _make_date(int(year), int(month_a or month_b), int(day), text)
    if match := _ERA_DATE.fullmatch(cleaned):
        return _era_date(match, text)
    if match := _COMPACT.fullmatch(cleaned):
        return _make_date(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _SERIAL.fullmatch(cleaned):
        return _from_excel_serial(int(match[1]), text)
    raise ValueError(f"unrecognised date: {text!r}")


def _make_date(year: int, month: int, day: int, original: object) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"no such day: {original!r}") from None


def _era_date(match: re.Match[str], text: str) -> date:
    era_key, year_text, month_a, month_b, day = match.groups()
    index = _ERA_BY_KEY[era_key]
    era = ERAS[index]
    era_year = 1 if year_text == "元" else int(year_text)
    if era_year < 1:
        raise ValueError(f"era year out of range: {text!r}")
    result = _make_date(era.start.year + era_year - 1, int(month_a or month_b), int(day), text)
    next_start = ERAS[index + 1].start if index + 1 < len(ERAS) else None
    if result < era.start or (next_start is not None and result >= next_start):
        raise ValueError(f"date outside the {era.name} era: {text!r}")
    return result


def _from_excel_serial(serial: int, original: object) -> date:
    if serial < 1 or serial > _EXCEL_MAX_SERIAL:
        raise ValueError(f"Excel serial out of range: {original!r}")
    if serial == _EXCEL_FAKE_LEAP_DAY:
        raise ValueError(f"Excel serial for the non-existent 1900-02-29: {original!r}")
    if serial < _EXCEL_FAKE_LEAP_DAY:
        return _EXCEL_EPOCH + timedelta(days=serial + 1)
    return _EXCEL_EPOCH + timedelta(days=serial)


def parse_date_value(value: object) -> date:
    """Turn a cell value into a date: a date, a datetime (its day), an Excel serial, or text.

    Raises ``ValueError`` quoting the value for anything else, including None and bools, so
    importers need to catch only one exception.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):  # bool is an int, but True is never meant as 1900-01-01
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int):
        return _from_excel_serial(value, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a date: {value!r}")
        return _from_excel_serial(math.floor(value), value)
    if isinstance(value, str):
        return parse_date(value)
    raise ValueError(f"not a date: {value!r}")


def _check_start_month(start_month: int) -> None:
    if not 1 <= start_month <= 12:
        raise ValueError(f"start month must be 1-12: {start_month!r}")


def association_year(d: date, start_month: int = 4) -> int:
    """Return the 年度 ``d`` falls in, named by the western year in which that 年度 starts."""
    _check_start_month(start_month)
    return d.year if d.month >= start_month else d.year - 1


def association_year_bounds(year: int, start_month: int = 4) -> tuple[date, date]:
    """Return the first and last day of the 年度 ``year``."""
    _check_start_month(start_month)
    first = date(year, start_month, 1)
    if start_month == 1:
        return first, date(year, 12, 31)
    return first, date(year + 1, start_month, 1) - timedelta(days=1)


def format_nendo(year: int, start_month: int = 4) -> str:
    """Return the customary name of the 年度 ``year``, e.g. 令和7年度 for 2025.

    The era is the one in force on the 年度's first day, except that 2019 is 令和元年度 by
    convention (the era changed a month in). Years before 明治 are written 1867年度.
    """
    if year == 2019:
        return "令和元年度"
    first, _last = association_year_bounds(year, start_month)
    era = era_of(first)
    if era is None:
        return f"{year}年度"
    return f"{era.name}{_year_text(year - era.start.year + 1)}年度"

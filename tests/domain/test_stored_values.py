"""The values the driver-level paths write are the ones the ORM would write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from desktop.domain.stored_values import stored_time

_JST = timezone(timedelta(hours=9))


def _as_the_orm_stores(value: datetime) -> str:
    dialect = sqlite.dialect()
    process = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    return str(process(value))


def test_a_time_is_stored_in_utc_without_its_zone_as_the_orm_stores_it() -> None:
    in_tokyo = datetime(2026, 11, 24, 9, 30, 15, 120, tzinfo=_JST)
    in_utc = in_tokyo.astimezone(UTC).replace(tzinfo=None)
    assert stored_time(in_tokyo) == stored_time(in_utc) == _as_the_orm_stores(in_utc)
    assert stored_time(in_tokyo) == "2026-11-24 00:30:15.000120"
    whole_second = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # microseconds always written
    assert stored_time(whole_second) == "2026-01-02 03:04:05.000000"

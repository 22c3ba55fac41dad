"""Full-jitter exponential backoff: 1 s base, 5 min cap, Retry-After as a floor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sync.backoff import Backoff, full_jitter, parse_retry_after


def test_the_ceiling_doubles_from_one_second_up_to_five_minutes() -> None:
    ceilings = [full_jitter(n, rng=lambda: 1.0) for n in range(0, 12)]
    assert ceilings == [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert full_jitter(10_000, rng=lambda: 1.0) == 300  # no overflow after days offline


def test_the_wait_is_anywhere_between_zero_and_the_ceiling() -> None:
    waits = [Backoff().failed() for _ in range(200)]  # the first failure: up to 1 s
    assert all(0 <= wait <= 1 for wait in waits)
    assert min(waits) < 0.2 and max(waits) > 0.8  # really spread out, not a fixed delay


def test_retry_after_is_a_floor_and_success_starts_over() -> None:
    backoff = Backoff(rng=lambda: 0.5)
    assert backoff.failed() == 0.5
    assert backoff.failed() == 1.0
    assert backoff.failed(retry_after=30) == 30
    assert backoff.failed(retry_after=1) == 4.0  # the backoff is longer than asked
    backoff.succeeded()
    assert backoff.failed() == 0.5
    assert Backoff().failed(retry_after=86_400) == 3600  # an absurd wait is bounded


@pytest.mark.parametrize(("header", "seconds"), [
    ("120", 120.0), (" 7 ", 7.0), ("Fri, 05 Jun 2026 10:00:30 GMT", 30.0),
    ("Fri, 05 Jun 2026 09:00:00 GMT", 0.0), ("soon", None), ("", None), (None, None),
])
def test_retry_after_in_seconds_or_as_a_date(header: str | None, seconds: float | None
                                             ) -> None:
    now = datetime(2026, 6, 5, 10, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds

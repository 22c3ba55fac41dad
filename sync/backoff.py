"""When to try the relay again after a passing failure: full-jitter exponential backoff.

After the n-th failure in a row the wait is a random time between 0 and
``min(cap, base · 2^(n-1))`` (1 s base, 5 min cap: "full jitter", so many office PCs that
lost the relay at once do not all come back at the same moment). A ``Retry-After`` from the
relay (429, 503) is a floor: never try sooner than it asks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

BASE_SECONDS = 1.0
CAP_SECONDS = 300.0
MAX_RETRY_AFTER_SECONDS = 3600.0  # a relay asking for more than an hour is taken as an hour


def full_jitter(failures: int, *, base: float = BASE_SECONDS, cap: float = CAP_SECONDS,
                rng: Callable[[], float] = random.random) -> float:
    """The wait after ``failures`` failures in a row (0 failures: no wait)."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 62))
    return ceiling * rng()


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None when
    it is absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass(slots=True)
class Backoff:
    """Failures in a row, and the wait they call for; a success starts over."""

    base: float = BASE_SECONDS
    cap: float = CAP_SECONDS
    rng: Callable[[], float] = field(default=random.random, repr=False)
    failures: int = 0

    def failed(self, *, retry_after: float | None = None) -> float:
        """Count one more failure; returns the seconds to wait before the next try."""
        self.failures += 1
        wait = full_jitter(self.failures, base=self.base, cap=self.cap, rng=self.rng)
        if retry_after is not None:
            wait = max(wait, min(retry_after, MAX_RETRY_AFTER_SECONDS))
        return wait

    def succeeded(self) -> None:
        """The relay answered: the next failure waits little again."""
        self.failures = 0

"""Per-key rate limiting (token bucket) for the relay's endpoints.

Keys are token hashes for authenticated requests and client addresses for pairing. Buckets live
in this process's memory: with several relay processes each one allows the configured rate,
which still stops a runaway client or someone guessing pairing codes.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

_PRUNE_AT = 100_000  # buckets kept before idle (full) ones are dropped


@dataclass(slots=True)
class RateLimiter:
    """``burst`` requests at once per key, refilled at ``per_second``."""

    burst: int
    per_second: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, when
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, key: str) -> int:
        """Take one request from ``key``'s bucket: 0 when allowed, else the whole seconds to
        wait before the next one is (the ``Retry-After`` value, at least 1)."""
        moment = time.monotonic()
        with self._lock:
            tokens, since = self._buckets.get(key, (float(self.burst), moment))
            tokens = min(float(self.burst), tokens + (moment - since) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, moment)
                if len(self._buckets) > _PRUNE_AT:
                    self._prune(moment)
                return 0
            self._buckets[key] = (tokens, moment)
        if self.per_second <= 0:
            return 3600
        return max(1, math.ceil((1.0 - tokens) / self.per_second))

    def _prune(self, moment: float) -> None:
        full = [key for key, (tokens, since) in self._buckets.items()
                if tokens + (moment - since) * self.per_second >= self.burst]
        for key in full:
            del self._buckets[key]

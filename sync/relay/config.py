"""The relay's settings, declared once with their defaults (the command line fills them in)."""

from __future__ import annotations

from dataclasses import dataclass

from sync.protocol import MAX_BODY_BYTES, PAIRING_CODE_HOURS

DEFAULT_DATABASE_URL = "sqlite:///kairan-relay.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """How one relay process runs.

    ``rate_burst`` requests may come at once per token (or per address for pairing), refilled
    at ``rate_per_second``; an office PC flushing 1,000 queued ops needs ten requests, so the
    defaults only ever stop a runaway client or someone guessing codes. The limit is kept per
    process: several processes behind a balancer each allow this much.
    """

    database_url: str = DEFAULT_DATABASE_URL
    max_body_bytes: int = MAX_BODY_BYTES
    rate_burst: int = 120
    rate_per_second: float = 20.0
    pair_rate_burst: int = 10  # pairing attempts per client address: codes must not be guessed
    pair_rate_per_second: float = 0.2
    pairing_code_hours: float = PAIRING_CODE_HOURS

"""Residents' invitation codes: made on the office PC, hashed the same way on both sides.

The office prints a code like ``K7QM-2XTA`` (and its QR link) on each household's slip and
sends the relay only ``sha256(canonical_invitation_code(code))``. The canonical form folds
what a phone or an elderly hand may change — full-width letters, lower case, spaces and
dashes — so ``ｋ７ｑｍ　２ｘｔａ`` still matches. The alphabet leaves out letters and digits
that are easily mistaken for one another on paper (0/O, 1/I/L, 5/S, 2/Z, 8/B, U/V).
Standard library only: the relay can use it as well as the desktop.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from typing import Final
from urllib.parse import quote

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "PHONES_PER_HOUSEHOLD",
    "canonical_invitation_code",
    "invitation_code_hash",
    "join_link",
    "new_invitation_code",
]

CODE_ALPHABET: Final = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH: Final = 8  # 23**8 ≈ 7.8e10: guessing is hopeless behind the relay's rate limit
PHONES_PER_HOUSEHOLD: Final = 4  # what the relay allows (sync.relay.residents.MAX_SESSIONS)
_GROUP: Final = 4


def new_invitation_code() -> str:
    """A fresh random code, shown in groups of four: ``ABCD-EFGH``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + _GROUP] for i in range(0, CODE_LENGTH, _GROUP))


def canonical_invitation_code(code: str) -> str:
    """The code as hashed: width folded (NFKC), upper case, letters and digits only — the
    form the relay looks the code up by."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if ch.isalnum())


def invitation_code_hash(code: str) -> str:
    """What ``invitation.issue`` sends: sha256 hex of the canonical code."""
    return hashlib.sha256(canonical_invitation_code(code).encode("utf-8")).hexdigest()


def join_link(relay_url: str, code: str) -> str:
    """The QR link of an invitation (the relay's ``/r/join?code=…`` page)."""
    return f"{relay_url.rstrip('/')}/r/join?code={quote(code)}"

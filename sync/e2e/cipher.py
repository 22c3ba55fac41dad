"""Sealing and opening data with an association key: AES-256-GCM with a random nonce.

A sealed blob is the 12-byte nonce followed by the ciphertext and its 16-byte tag. The
*additional data* (``aad``) is not secret and not stored, but must be the same when opening:
it binds a blob to where it belongs (the association, what kind of thing it is, its id), so
the relay cannot move a blob from one place to another unnoticed. :func:`aad_for` builds it.

:func:`seal_json` is what travels: canonical compact JSON, zlib-compressed, sealed and written
as URL-safe base64 text. Anything that cannot be opened — a wrong key, a changed or cut-off
blob, text that is not base64 — raises :class:`CipherError`, worded for the officer.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import zlib
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.domain.errors import KairanError
from desktop.i18n import _

__all__ = [
    "AAD_PREFIX",
    "KEY_SIZE",
    "NONCE_SIZE",
    "CipherError",
    "aad_for",
    "b64_decode",
    "b64_encode",
    "open_json",
    "open_sealed",
    "seal",
    "seal_json",
]

KEY_SIZE = 32  # AES-256
NONCE_SIZE = 12
TAG_SIZE = 16
AAD_PREFIX = b"kairan-e2e-v1|"
_ZLIB_LEVEL = 6
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class CipherError(KairanError):
    """Data that cannot be opened: made with another key, changed or damaged on the way."""


def damaged() -> CipherError:
    """The officer's message for data that cannot be opened."""
    return CipherError(_(
        "Data shared by another office PC could not be opened: it was damaged or changed on "
        "the way, or it was locked with a key this PC does not have. Sync again; if this "
        "keeps happening, ask the other office PCs to sync too."))


def b64_encode(data: bytes) -> str:
    """``data`` as URL-safe base64 text without ``=`` padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64_decode(text: str) -> bytes:
    """The bytes of URL-safe base64 ``text`` (padding optional); :class:`CipherError` for
    anything else (other characters, an impossible length)."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise damaged()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise damaged() from error


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:  # a programming error, never the officer's
        raise ValueError(f"an association key has {KEY_SIZE} bytes, not {len(key)}")


def seal(key: bytes, plaintext: bytes, *, aad: bytes, nonce: bytes | None = None) -> bytes:
    """``plaintext`` sealed with ``key``: a fresh random nonce (or ``nonce``: only for a
    plaintext that never changes under the same key and nonce, such as a shared operation
    sent again under its id) followed by the AES-GCM ciphertext and tag."""
    _check_key(key)
    nonce = nonce if nonce is not None else os.urandom(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise ValueError("a nonce is 12 bytes")
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """The plaintext of a blob made by :func:`seal` with the same ``key`` and ``aad``;
    :class:`CipherError` when it was made with another key or aad, changed or cut short."""
    _check_key(key)
    if len(blob) < NONCE_SIZE + TAG_SIZE:
        raise damaged()
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], aad)
    except InvalidTag as error:
        raise damaged() from error


def seal_json(key: bytes, value: object, *, aad: bytes, nonce: bytes | None = None) -> str:
    """``value`` as canonical compact JSON, compressed, sealed (see :func:`seal` for
    ``nonce``), as URL-safe base64 text."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    packed = zlib.compress(text.encode("utf-8"), _ZLIB_LEVEL)
    return b64_encode(seal(key, packed, aad=aad, nonce=nonce))


def open_json(key: bytes, text: str, *, aad: bytes) -> Any:
    """The value sealed by :func:`seal_json`; :class:`CipherError` for text that is not
    base64, fails authentication, or holds no compressed JSON."""
    packed = open_sealed(key, b64_decode(text), aad=aad)
    try:
        return json.loads(zlib.decompress(packed).decode("utf-8"))
    except (zlib.error, ValueError) as error:  # UnicodeDecodeError is a ValueError
        raise damaged() from error


def aad_for(association_id: str, *parts: str | int) -> bytes:
    """The additional data binding a blob to its association and place:
    ``kairan-e2e-v1|<association id>|<part>|…``. A text part may not contain ``|`` (so two
    different lists of parts never give the same bytes)."""
    texts = [association_id, *(str(part) for part in parts)]
    if any("|" in text for text in texts):
        raise ValueError(f"'|' in additional data parts: {texts!r}")
    return AAD_PREFIX + "|".join(texts).encode("utf-8")

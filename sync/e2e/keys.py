"""The association keys, each PC's device key pair, moving keys between PCs, the recovery words.

*Association keys.* The office PCs of one association share a 32-byte AES key, versioned by
its *generation* (1, 2, …; a new one after a PC is revoked). A :class:`KeyRing` holds every
generation this PC knows and which one is current; it lives only in the OS keyring, beside the
device token (:mod:`sync.credentials`), never in a file.

*Device identity.* Each office PC has an X25519 key pair: the private half in the keyring, the
public half registered on the relay. :func:`wrap_key` locks one generation for a public key
(an ephemeral X25519 exchange, HKDF-SHA256, AES-GCM), so a PC can hand a new generation to
each remaining PC through the relay without the relay being able to read it.

*Transfer code.* To give the keys to a new PC directly, one PC shows a 10-character code
(Crockford base32, 50 bits) and uploads the key ring sealed with a key scrypt derives from it;
the officer types the code on the new PC (:func:`unwrap_with_code`). The blob lives on the
relay for 15 minutes; scrypt makes guessing the code offline far too slow.

*Recovery sheet.* 12 BIP-39 words (128 bits and a checksum) derive the recovery X25519 key
(:func:`recovery_identity`). PCs keep only its public half, so every generation is also
wrapped for the sheet (device id :data:`RECOVERY_DEVICE`); the words are never stored.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Self

import keyring
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.errors import KeyringError
from mnemonic import Mnemonic

from desktop.domain.errors import ValidationError
from desktop.i18n import _
from sync.credentials import SERVICE, NoKeyring, check_keyring, token_key
from sync.e2e.cipher import (
    KEY_SIZE,
    CipherError,
    aad_for,
    b64_decode,
    b64_encode,
    open_sealed,
    seal,
)

__all__ = [
    "CODE_LENGTH",
    "RECOVERY_DEVICE",
    "RECOVERY_WORD_COUNT",
    "DeviceIdentity",
    "KeyRing",
    "canonical_code",
    "delete_identity",
    "delete_key_ring",
    "load_key_ring",
    "load_or_create_identity",
    "new_key_ring",
    "new_recovery_words",
    "new_transfer_code",
    "recovery_identity",
    "store_key_ring",
    "unwrap_key",
    "unwrap_with_code",
    "wrap_key",
    "wrap_with_code",
]

RECOVERY_DEVICE = "recovery"  # the device id under which the recovery sheet's grants are kept
RECOVERY_WORD_COUNT = 12
CODE_LENGTH = 10
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# scrypt of the transfer code: 32 MiB and ~0.1 s per try, 2**50 codes to try.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SALT_SIZE = 16
_FORMAT = 1  # first byte of wrapped keys and transfer blobs
_PUBLIC_SIZE = 32
_GEN_SIZE = 4
# Windows' Credential Manager keeps at most 2,560 bytes (1,280 UTF-16 characters) a password:
# a key ring with many generations is kept in parts.
_PART_CHARS = 1000
_PARTS_MARK = "parts:"
_KEYS_SUFFIX = " e2e-keys"
_IDENTITY_SUFFIX = " e2e-device"
_DASHES = "-‐‑‒–—―−－ーｰ_"  # what officers type between the two halves of a code
_CODE_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NUMBERING = re.compile(r"^\(?\d+[.)．:：]?\)?")  # 「1.」「(2)」 copied from the sheet


# ---------------------------------------------------------------------------------------------
# Association keys


@dataclass(frozen=True)
class KeyRing:
    """Every generation of the association key this PC has, and the current one (the highest).

    The keys never show in ``repr`` (logs, tracebacks)."""

    keys: Mapping[int, bytes]
    current: int

    def __post_init__(self) -> None:
        keys = MappingProxyType(dict(self.keys))
        if not keys or self.current != max(keys):
            raise ValueError(f"current generation {self.current} is not the highest of "
                             f"{sorted(keys)}")
        for gen, key in keys.items():
            if gen < 1 or len(key) != KEY_SIZE:
                raise ValueError(f"bad association key of generation {gen}")
        object.__setattr__(self, "keys", keys)

    def __repr__(self) -> str:
        return f"KeyRing(generations={sorted(self.keys)}, current={self.current})"

    def key(self, gen: int) -> bytes:
        """The key of generation ``gen``; :class:`CipherError` when this PC does not have it."""
        try:
            return self.keys[gen]
        except KeyError:
            raise CipherError(_(
                "This was locked with a key this PC does not have (key generation {gen}). "
                "Sync again so this PC receives it; if that does not help, add this PC again "
                "with a key code from another office PC.").format(gen=gen)) from None

    @property
    def current_key(self) -> bytes:
        """The key new data is sealed with."""
        return self.keys[self.current]

    def with_key(self, gen: int, key: bytes) -> KeyRing:
        """This ring with generation ``gen`` added (or replaced); the current one is the
        highest."""
        keys = {**self.keys, gen: key}
        return KeyRing(keys, max(keys))

    def new_generation(self) -> KeyRing:
        """This ring with a new random key one generation above the current one."""
        return self.with_key(self.current + 1, os.urandom(KEY_SIZE))

    def to_json(self) -> str:
        """The ring as compact JSON text: ``{"current": n, "keys": {"1": "<base64url>", …}}``."""
        return json.dumps({"current": self.current,
                           "keys": {str(gen): b64_encode(key)
                                    for gen, key in sorted(self.keys.items())}},
                          separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """The ring :meth:`to_json` wrote; :class:`CipherError` for anything else."""
        try:
            data = json.loads(text)
            keys = {int(gen): b64_decode(key) for gen, key in data["keys"].items()}
            return cls(keys, int(data["current"]))
        except (ValueError, TypeError, KeyError, AttributeError, CipherError) as error:
            raise CipherError(_(
                "The association keys kept on this PC are damaged. Add this PC again with a "
                "key code from another office PC, or with the recovery sheet.")) from error


def new_key_ring() -> KeyRing:
    """A ring with one random key, generation 1 (for an association starting to share)."""
    return KeyRing({1: os.urandom(KEY_SIZE)}, 1)


def _keyring_failed(error: KeyringError) -> NoKeyring:
    return NoKeyring(_("This PC's password store (keyring) could not be used: {detail}. "
                       "Kairan keeps the association's keys only there.").format(
                           detail=error))


def _set(name: str, value: str) -> None:
    check_keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except KeyringError as error:
        raise _keyring_failed(error) from error


def _get(name: str) -> str | None:
    check_keyring()
    try:
        return keyring.get_password(SERVICE, name)
    except KeyringError as error:
        raise _keyring_failed(error) from error


def _delete(name: str) -> None:
    try:
        if keyring.get_password(SERVICE, name) is not None:
            keyring.delete_password(SERVICE, name)
    except KeyringError:
        pass  # no keyring: there is nothing kept to forget


def _keys_name(relay_url: str, association_id: str, part: int = 0) -> str:
    name = token_key(relay_url, association_id) + _KEYS_SUFFIX
    return f"{name} {part}" if part else name


def _part_count(value: str | None) -> int:
    if value is None or not value.startswith(_PARTS_MARK):
        return 0
    try:
        return int(value.removeprefix(_PARTS_MARK))
    except ValueError:
        return 0


def store_key_ring(relay_url: str, association_id: str, ring: KeyRing) -> None:
    """Keep ``ring`` in the keyring for the association on the relay (in parts when long).
    :class:`~sync.credentials.NoKeyring` when there is no usable keyring."""
    text = ring.to_json()
    old_parts = _part_count(_get(_keys_name(relay_url, association_id)))
    parts = [text[start:start + _PART_CHARS] for start in range(0, len(text), _PART_CHARS)]
    if len(parts) == 1:
        _set(_keys_name(relay_url, association_id), text)
    else:
        for number, part in enumerate(parts, start=1):
            _set(_keys_name(relay_url, association_id, number), part)
        _set(_keys_name(relay_url, association_id), f"{_PARTS_MARK}{len(parts)}")
    first_stale = len(parts) + 1 if len(parts) > 1 else 1
    for number in range(first_stale, old_parts + 1):
        _delete(_keys_name(relay_url, association_id, number))


def load_key_ring(relay_url: str, association_id: str) -> KeyRing | None:
    """The ring kept for the association on the relay; None when this PC has none.
    :class:`CipherError` when what is kept is damaged."""
    text = _get(_keys_name(relay_url, association_id))
    if text is None:
        return None
    count = _part_count(text)
    if count:
        parts = [_get(_keys_name(relay_url, association_id, number))
                 for number in range(1, count + 1)]
        text = "".join(part or "" for part in parts)
    return KeyRing.from_json(text)


def delete_key_ring(relay_url: str, association_id: str) -> None:
    """Forget the ring kept for the association on the relay (nothing when there is none)."""
    try:
        count = _part_count(keyring.get_password(SERVICE, _keys_name(relay_url, association_id)))
    except KeyringError:
        return
    for number in range(1, count + 1):
        _delete(_keys_name(relay_url, association_id, number))
    _delete(_keys_name(relay_url, association_id))


# ---------------------------------------------------------------------------------------------
# Device identity and wrapped keys


def _public_key(text: str) -> X25519PublicKey:
    try:
        raw = b64_decode(text)
    except CipherError as error:
        raise _bad_public_key() from error
    if len(raw) != _PUBLIC_SIZE:
        raise _bad_public_key()
    return X25519PublicKey.from_public_bytes(raw)


def _bad_public_key() -> CipherError:
    return CipherError(_("The public key of another office PC is damaged. Ask that PC to "
                         "sync, then try again."))


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes_raw()


class DeviceIdentity:
    """An X25519 key pair: a PC's own (private half in the keyring) or the recovery sheet's."""

    __slots__ = ("_private",)

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private = private_key

    def __repr__(self) -> str:
        return f"DeviceIdentity(public_text={self.public_text!r})"

    @classmethod
    def generate(cls) -> Self:
        """A new random key pair."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> Self:
        """The key pair of 32 raw private-key bytes."""
        return cls(X25519PrivateKey.from_private_bytes(data))

    @property
    def private_key(self) -> X25519PrivateKey:
        """The private half (never leaves this PC)."""
        return self._private

    def private_bytes(self) -> bytes:
        """The 32 raw bytes of the private half."""
        return self._private.private_bytes_raw()

    @property
    def public_bytes(self) -> bytes:
        """The 32 raw bytes of the public half."""
        return _raw_public(self._private.public_key())

    @property
    def public_text(self) -> str:
        """The public half as URL-safe base64 text (what the relay keeps)."""
        return b64_encode(self.public_bytes)


def _identity_name(relay_url: str, association_id: str) -> str:
    return token_key(relay_url, association_id) + _IDENTITY_SUFFIX


def load_or_create_identity(relay_url: str, association_id: str) -> DeviceIdentity:
    """This PC's key pair for the association on the relay, made and kept in the keyring the
    first time. :class:`~sync.credentials.NoKeyring` when there is no usable keyring."""
    name = _identity_name(relay_url, association_id)
    text = _get(name)
    if text is not None:
        try:
            raw = b64_decode(text)
            if len(raw) == KEY_SIZE:
                return DeviceIdentity.from_private_bytes(raw)
        except CipherError:
            pass
        raise CipherError(_(
            "This PC's own key in the password store is damaged. Add this PC again with a key "
            "code from another office PC."))
    identity = DeviceIdentity.generate()
    _set(name, b64_encode(identity.private_bytes()))
    return identity


def delete_identity(relay_url: str, association_id: str) -> None:
    """Forget this PC's key pair for the association on the relay."""
    _delete(_identity_name(relay_url, association_id))


def _wrapping_key(shared: bytes, ephemeral: bytes, recipient: bytes, *, association_id: str,
                  gen: int) -> bytes:
    info = aad_for(association_id, "wrap", gen)
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=ephemeral + recipient,
                info=info).derive(shared)


def wrap_key(public_text: str, gen: int, key: bytes, *, association_id: str) -> str:
    """Generation ``gen``'s ``key`` locked for the holder of the private half of
    ``public_text`` (a PC or the recovery sheet), as text for the relay."""
    if not 1 <= gen < 2**32:
        raise ValueError(f"bad key generation {gen}")
    recipient = _public_key(public_text)
    ephemeral = X25519PrivateKey.generate()
    try:
        shared = ephemeral.exchange(recipient)
    except ValueError as error:  # a low-order point: no PC has such a key
        raise _bad_public_key() from error
    ephemeral_raw = _raw_public(ephemeral.public_key())
    wrapping = _wrapping_key(shared, ephemeral_raw, _raw_public(recipient),
                             association_id=association_id, gen=gen)
    sealed = seal(wrapping, key, aad=aad_for(association_id, "wrap", gen))
    return b64_encode(bytes([_FORMAT]) + gen.to_bytes(_GEN_SIZE, "big") + ephemeral_raw
                      + sealed)


def _not_for_this_pc() -> CipherError:
    return CipherError(_(
        "A key sent for this PC could not be opened: it was made for another PC or damaged on "
        "the way. Ask another office PC to sync, or add this PC again with a key code."))


def unwrap_key(identity: DeviceIdentity, wrapped: str, *,
               association_id: str) -> tuple[int, bytes]:
    """(generation, key) of a key :func:`wrap_key` locked for ``identity``; :class:`CipherError`
    when it was locked for another key pair or association, or is damaged."""
    try:
        raw = b64_decode(wrapped)
    except CipherError as error:
        raise _not_for_this_pc() from error
    head = 1 + _GEN_SIZE + _PUBLIC_SIZE
    if len(raw) <= head or raw[0] != _FORMAT:
        raise _not_for_this_pc()
    gen = int.from_bytes(raw[1:1 + _GEN_SIZE], "big")
    ephemeral_raw = raw[1 + _GEN_SIZE:head]
    try:
        shared = identity.private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    except ValueError as error:
        raise _not_for_this_pc() from error
    wrapping = _wrapping_key(shared, ephemeral_raw, identity.public_bytes,
                             association_id=association_id, gen=gen)
    try:
        key = open_sealed(wrapping, raw[head:], aad=aad_for(association_id, "wrap", gen))
    except CipherError as error:
        raise _not_for_this_pc() from error
    if len(key) != KEY_SIZE or gen < 1:
        raise _not_for_this_pc()
    return gen, key


# ---------------------------------------------------------------------------------------------
# Transfer code


def new_transfer_code() -> str:
    """A random code of 10 Crockford base32 characters, shown as ``XXXXX-XXXXX``."""
    code = "".join(secrets.choice(CROCKFORD) for _index in range(CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def canonical_code(text: str) -> str:
    """The code the officer typed, as ``XXXXX-XXXXX``: small letters, spaces, full-width
    characters and dashes are fine, O reads as 0 and I or L as 1. :class:`ValidationError`
    (field ``key_code``) when it is not 10 such characters."""
    normal = unicodedata.normalize("NFKC", text).upper()
    kept = "".join(char for char in normal if not char.isspace() and char not in _DASHES)
    kept = kept.translate(_CODE_LOOKALIKES)
    if not kept:
        raise ValidationError(_("Type the key code shown on the other office PC (10 letters "
                                "and digits, such as 7KQ2M-X9D4R)."), field="key_code")
    wrong = list(dict.fromkeys(char for char in kept if char not in CROCKFORD))
    if wrong:
        raise ValidationError(_(
            "The key code has letters or signs that are never in a key code: {chars}. Key "
            "codes use only digits and the letters A to Z (no U). Check it on the other PC's "
            "screen.").format(chars="「" + "」「".join(wrong) + "」"), field="key_code")
    if len(kept) != CODE_LENGTH:
        raise ValidationError(_(
            "The key code has {count} letters and digits, but it needs 10 (such as "
            "7KQ2M-X9D4R). Check it on the other PC's screen.").format(count=len(kept)),
            field="key_code")
    return f"{kept[:5]}-{kept[5:]}"


def _code_key(code: str, salt: bytes) -> bytes:
    secret = canonical_code(code).replace("-", "").encode("ascii")
    return Scrypt(salt=salt, length=KEY_SIZE, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(secret)


def wrap_with_code(code: str, ring: KeyRing, *, association_id: str) -> str:
    """``ring`` sealed with a key scrypt derives from the transfer ``code`` (and a random
    salt, kept in the text), as text for the relay."""
    salt = os.urandom(SALT_SIZE)
    sealed = seal(_code_key(code, salt), ring.to_json().encode("utf-8"),
                  aad=aad_for(association_id, "transfer"))
    return b64_encode(bytes([_FORMAT]) + salt + sealed)


def unwrap_with_code(code: str, blob: str, *, association_id: str) -> KeyRing:
    """The ring :func:`wrap_with_code` sealed with ``code``. :class:`ValidationError` when the
    code is not a well-formed code, :class:`CipherError` when it does not open the blob."""
    canonical = canonical_code(code)
    mismatch = CipherError(_(
        "The key code does not match. Check it on the other PC's screen and type it again; a "
        "code shown more than 15 minutes ago no longer works: show a new one."))
    try:
        raw = b64_decode(blob)
    except CipherError:
        raise mismatch from None
    if len(raw) <= 1 + SALT_SIZE or raw[0] != _FORMAT:
        raise mismatch
    salt = raw[1:1 + SALT_SIZE]
    try:
        text = open_sealed(_code_key(canonical, salt), raw[1 + SALT_SIZE:],
                           aad=aad_for(association_id, "transfer"))
    except CipherError:
        raise mismatch from None
    return KeyRing.from_json(text.decode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Recovery words


@cache
def _mnemonic() -> Mnemonic:
    return Mnemonic("english")


@cache
def _word_list() -> tuple[frozenset[str], dict[str, str]]:
    """The BIP-39 English words, and each 4-letter (or longer) prefix that only one word has."""
    words = _mnemonic().wordlist
    owners: dict[str, set[str]] = {}
    for word in words:
        for end in range(4, len(word)):
            owners.setdefault(word[:end], set()).add(word)
    unique = {prefix: next(iter(found)) for prefix, found in owners.items() if len(found) == 1}
    return frozenset(words), unique


def new_recovery_words() -> list[str]:
    """12 random BIP-39 English words (128 bits and a checksum) for a new recovery sheet."""
    return _mnemonic().generate(strength=128).split()


def _tokens(words: Sequence[str] | str) -> list[str]:
    text = words if isinstance(words, str) else " ".join(words)
    text = unicodedata.normalize("NFKC", text).lower()
    tokens = []
    for piece in re.split(r"[\s,、。;・/]+", text):
        token = _NUMBERING.sub("", piece).strip(".:()")
        if token:
            tokens.append(token)
    return tokens


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers)


def recovery_identity(words: Sequence[str] | str) -> DeviceIdentity:
    """The recovery key pair of the sheet's 12 words (a list, or text with the words separated
    by spaces, commas or line breaks; any case; 「1.」 numbering is skipped; a word's first 4
    letters are enough). :class:`ValidationError` (field ``recovery_words``) naming the word
    that is not on the list, or saying one of the words is wrong when the checksum fails."""
    tokens = _tokens(words)
    known, prefixes = _word_list()
    if len(tokens) != RECOVERY_WORD_COUNT:
        raise ValidationError(_(
            "The recovery sheet has 12 words, but {count} were typed. Type all 12 words in the "
            "order of their numbers.").format(count=len(tokens)), field="recovery_words")
    full: list[str] = []
    unknown: list[int] = []
    for number, token in enumerate(tokens, start=1):
        word = token if token in known else prefixes.get(token)
        if word is None:
            unknown.append(number)
        else:
            full.append(word)
    if len(unknown) == 1:
        raise ValidationError(_(
            "Word {number} (「{word}」) is not one of the recovery sheet's words. Compare it "
            "with the sheet letter by letter.").format(number=unknown[0],
                                                       word=tokens[unknown[0] - 1]),
            field="recovery_words")
    if unknown:
        raise ValidationError(_(
            "Words {numbers} are not among the recovery sheet's words. Compare them with the "
            "sheet letter by letter.").format(numbers=_numbers(unknown)),
            field="recovery_words")
    phrase = " ".join(full)
    if not _mnemonic().check(phrase):
        raise ValidationError(_(
            "All 12 words are real recovery words, but one of the words is wrong, or two are "
            "in the wrong order (the sheet's check does not match). Compare each word with the "
            "sheet again."), field="recovery_words")
    entropy = bytes(_mnemonic().to_entropy(phrase))
    private = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=b"kairan-e2e-v1|recovery",
                   info=b"recovery-sheet-x25519").derive(entropy)
    return DeviceIdentity.from_private_bytes(private)

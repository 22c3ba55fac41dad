"""Officer profiles: whoever uses the PC says who they are, so the audit trail can name them.

A profile is a name with an optional PIN of 4 to 8 digits. The PIN only keeps one officer
from choosing another's name by mistake or in passing: it is not a lock on the file, which
anyone with the PC can open. It is kept as a salted scrypt hash ("salt$hash" in hex) and
compared in constant time. Retired profiles stay, so old records keep their name.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
import uuid

from sqlmodel import Session, col, select

from desktop.domain.audit import Actor
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.models import OfficerProfile
from desktop.i18n import _

PIN_LENGTHS = range(4, 9)
MAX_NAME_LENGTH = 40
# scrypt's cost: about 50 ms a check on an office PC, 16 MiB of memory.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
_SALT_BYTES = 16


def _clean_name(name: str) -> str:
    cleaned = " ".join(unicodedata.normalize("NFKC", name).split())
    if not cleaned:
        raise ValidationError(_("Type the officer's name (for example 山田 太郎)."),
                              field="name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise ValidationError(_("The name is too long: use at most {count} characters.")
                              .format(count=MAX_NAME_LENGTH), field="name")
    return cleaned


def clean_pin(pin: str) -> str:
    """The PIN as stored (full-width digits made half-width), or :class:`ValidationError`."""
    digits = unicodedata.normalize("NFKC", pin).strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) not in PIN_LENGTHS:
        raise ValidationError(
            _("A PIN is {low} to {high} digits (for example 1234). Leave it empty for no PIN.")
            .format(low=PIN_LENGTHS.start, high=PIN_LENGTHS.stop - 1), field="pin")
    return digits


def hash_pin(pin: str) -> str:
    """The stored form of a PIN: a fresh salt and the scrypt hash, in hex."""
    salt = os.urandom(_SALT_BYTES)
    hashed = hashlib.scrypt(clean_pin(pin).encode("ascii"), salt=salt, **_SCRYPT)
    return f"{salt.hex()}${hashed.hex()}"


def check_pin(profile: OfficerProfile, pin: str) -> bool:
    """Whether ``pin`` is the profile's PIN (any PIN is right for a profile without one)."""
    if not profile.pin_hash:
        return True
    salt_hex, _sep, hash_hex = profile.pin_hash.partition("$")
    try:
        typed = clean_pin(pin)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(hash_hex)
    except (ValidationError, ValueError):  # a badly typed PIN or a damaged hash: no match
        return False
    hashed = hashlib.scrypt(typed.encode("ascii"), salt=salt, **_SCRYPT)
    return hmac.compare_digest(hashed, expected)


def has_pin(profile: OfficerProfile) -> bool:
    """Whether the profile asks for a PIN."""
    return bool(profile.pin_hash)


def actor_of(profile: OfficerProfile) -> Actor:
    """The audit trail's actor for a profile."""
    return Actor(name=profile.name, profile_id=profile.id)


def list_profiles(session: Session, *, include_retired: bool = False) -> list[OfficerProfile]:
    """The profiles by name (retired ones only when asked)."""
    query = select(OfficerProfile).order_by(col(OfficerProfile.name),
                                            col(OfficerProfile.created_at))
    if not include_retired:
        query = query.where(col(OfficerProfile.active).is_(True))
    return list(session.exec(query).all())


def get_profile(session: Session, *, profile_id: uuid.UUID) -> OfficerProfile:
    """One profile, or :class:`NotFoundError`."""
    profile = session.get(OfficerProfile, profile_id)
    if profile is None:
        raise NotFoundError(_("This officer profile no longer exists. Choose another."))
    return profile


def create_profile(session: Session, *, name: str, pin: str | None = None) -> OfficerProfile:
    """Add an officer; refused when an officer in use has the same name."""
    cleaned = _clean_name(name)
    taken = session.exec(select(OfficerProfile).where(
        OfficerProfile.name == cleaned, col(OfficerProfile.active).is_(True))).first()
    if taken is not None:
        raise ConflictError(_("There is already an officer called {name}. Choose that name, "
                              "or add the new officer with a distinguishing mark (for "
                              "example 山田 太郎（会計）).").format(name=cleaned), field="name")
    profile = OfficerProfile(name=cleaned, pin_hash=hash_pin(pin) if pin else "")
    session.add(profile)
    session.flush()
    return profile


def set_pin(session: Session, *, profile_id: uuid.UUID, pin: str | None) -> None:
    """Set a new PIN, or none with ``None`` or ""."""
    profile = get_profile(session, profile_id=profile_id)
    profile.pin_hash = hash_pin(pin) if pin else ""
    session.flush()


def retire_profile(session: Session, *, profile_id: uuid.UUID) -> None:
    """Take a profile off the list (an officer who left); its records keep the name."""
    profile = get_profile(session, profile_id=profile_id)
    profile.active = False
    session.flush()

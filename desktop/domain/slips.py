"""What a reply slip's QR code carries, and reading back what was scanned or typed.

The code is ``KRN1:<tag>:<household number>``: the tag (the last 8 hex digits of the
circular's id) catches a slip of another circular; the number finds the household. A
barcode scanner types like a keyboard, so the text may arrive in full width (an input method
left on) or in lower case: both are folded before reading.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass

from desktop.domain.errors import ValidationError
from desktop.i18n import _

SLIP_PREFIX = "KRN1"
TAG_LENGTH = 8
_TAG = re.compile(f"[0-9a-f]{{{TAG_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class SlipCode:
    """A scanned slip (with the circular's tag) or a typed household number (tag None)."""

    circular_tag: str | None
    household_number: str


def circular_tag(circular_id: uuid.UUID) -> str:
    """The short tag of a circular printed in its slips' codes (random bits of a UUIDv7)."""
    return circular_id.hex[-TAG_LENGTH:]


def slip_code(circular_id: uuid.UUID, household_number: str) -> str:
    """The text of a household's reply slip QR code for one circular."""
    return f"{SLIP_PREFIX}:{circular_tag(circular_id)}:{household_number}"


def parse_slip_code(text: str) -> SlipCode:
    """Read a scanned slip code or a typed household number (full-width digits folded).

    :class:`ValidationError` when nothing was entered or a slip code is damaged.
    """
    entry = unicodedata.normalize("NFKC", text).strip()
    if not entry:
        raise ValidationError(
            _("Nothing was entered. Scan the slip's code or type the household number."),
            field="entry",
        )
    head, separator, rest = entry.partition(":")
    if not separator or head.upper() != SLIP_PREFIX:
        return SlipCode(None, entry)
    tag, _separator, number = rest.partition(":")
    tag, number = tag.strip().lower(), number.strip()
    if _TAG.fullmatch(tag) is None or not number:
        raise ValidationError(
            _("The slip code 「{code}」 could not be read. Scan it again or type the household "
              "number printed on the slip.").format(code=entry),
            field="entry",
        )
    return SlipCode(tag, number)

"""Whether a newer Kairan exists: versions compared, the officer's choice kept, the relay asked.

The relay's operator records the newest release (``kairan-relay release set``); a paired office
PC asks for it with its device token alone (``GET /release``) and compares it with the running
version here, so the relay never learns which version a PC runs. This module only tells: it
never downloads or installs anything. An answer that does not read as a version is ignored,
never shown. No Qt: the window runs :func:`check_for_update` on a worker thread.

Versions are dotted numbers with an optional pre-release (``0.2.0``, ``0.10.0``, ``0.2.0rc1``,
``v0.3``): numbers compare as numbers, missing parts count as 0, and a pre-release comes before
its release (``0.2.0.dev1`` < ``0.2.0a1`` < ``0.2.0b1`` < ``0.2.0rc1`` < ``0.2.0``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from desktop import __version__
from desktop.domain.errors import KairanError
from sync.client import RelayClient
from sync.engine import Store, open_client
from sync.pairing import pairing_info
from sync.protocol import MAX_RELEASE_VERSION, ReleaseInfo

CHECK_EVERY = timedelta(days=1)  # the automatic check asks the relay at most this often

_VERSION = re.compile(
    r"v?(?P<release>\d{1,9}(?:\.\d{1,9}){0,4})"
    r"(?:[-._]?(?P<stage>dev|a|alpha|b|beta|c|rc|pre|preview)[-._]?(?P<number>\d{0,9}))?",
    re.IGNORECASE | re.ASCII)
# A pre-release's rank; a final release ranks above them all.
_STAGES = {"dev": 0, "a": 1, "alpha": 1, "b": 2, "beta": 2, "c": 3, "rc": 3, "pre": 3,
           "preview": 3}
_FINAL = 4


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """A parsed version; ordering and equality ignore how it was written (``v0.2`` ==
    ``0.2.0``)."""

    release: tuple[int, ...]  # trailing zeros dropped, so 0.2 and 0.2.0 are equal
    stage: tuple[int, int]  # (rank, number): (4, 0) for a final release
    text: str = field(compare=False)


def parse_version(text: str) -> Version | None:
    """``text`` as a :class:`Version`, or None when it is not one (too long, or anything but
    dotted numbers and an optional pre-release)."""
    cleaned = text.strip()
    if len(cleaned) > MAX_RELEASE_VERSION:
        return None
    match = _VERSION.fullmatch(cleaned)
    if match is None:
        return None
    numbers = [int(part) for part in match["release"].split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    stage = (_FINAL, 0)
    if match["stage"]:
        stage = (_STAGES[match["stage"].lower()], int(match["number"] or 0))
    return Version(tuple(numbers), stage, cleaned)


def is_newer(candidate: str, current: str) -> bool:
    """Whether ``candidate`` is a later version than ``current`` (False when either does not
    read as a version: nothing is announced on a guess)."""
    new, old = parse_version(candidate), parse_version(current)
    return new is not None and old is not None and new > old


def same_version(first: str, second: str) -> bool:
    """Whether two texts name the same version (``0.2`` and ``0.2.0`` do)."""
    one, other = parse_version(first), parse_version(second)
    if one is None or other is None:
        return first.strip() == second.strip() != ""
    return one == other


def download_url(url: str) -> str | None:
    """``url`` when it is an https address with a host, else None: the window opens nothing
    else, whatever a relay says."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname:
        return None
    return url.strip()


def check_due(last_checked: str, now: datetime, *, every: timedelta = CHECK_EVERY) -> bool:
    """Whether the automatic check should ask the relay again: ``last_checked`` (ISO 8601
    with offset, "" for never) is ``every`` ago or more, unreadable, or in the future (the
    clock was put back)."""
    try:
        last = datetime.fromisoformat(last_checked)
    except ValueError:
        return True
    if last.tzinfo is None or now.tzinfo is None:
        return True
    return not timedelta(0) <= now - last < every


@dataclass(frozen=True, slots=True)
class UpdateNotice:
    """What the window tells the officer: a newer version and where to read about it
    (``url`` None when the relay's address is not https: then there is no button)."""

    version: str
    current: str
    url: str | None
    notes: str = ""


def newer_release(latest: ReleaseInfo | None, *, current: str) -> ReleaseInfo | None:
    """``latest`` when it reads as a version later than ``current``, else None."""
    if latest is None or not is_newer(latest.version, current):
        return None
    return latest


def notice_for(latest: ReleaseInfo | None, *, current: str = __version__,
               dismissed: str = "") -> UpdateNotice | None:
    """The notice to show for the relay's ``latest`` release, or None: none recorded, not
    newer than ``current``, unreadable, or the version the officer chose not to hear about."""
    newer = newer_release(latest, current=current)
    if newer is None or (dismissed and same_version(newer.version, dismissed)):
        return None
    return UpdateNotice(version=newer.version.strip(), current=current,
                        url=download_url(newer.url), notes=newer.notes.strip())


class CheckOutcome(enum.StrEnum):
    """How a check ended."""

    UP_TO_DATE = "up_to_date"  # the relay knows of nothing newer (or of nothing at all)
    NEWER = "newer"  # a newer version exists (the notice may still be dismissed)
    NOT_PAIRED = "not_paired"  # the file is not connected to a relay: nobody to ask
    UNREACHABLE = "unreachable"  # offline, the relay down, or no token: ``message`` says


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`check_for_update` found."""

    outcome: CheckOutcome
    latest: ReleaseInfo | None = None  # as the relay recorded it (None: nothing or unasked)
    notice: UpdateNotice | None = None  # what to show (None: nothing, or dismissed)
    message: str = ""  # why the relay could not be asked, in the officer's language

    @property
    def asked(self) -> bool:
        """Whether the relay answered (so its answer can be remembered for a day)."""
        return self.outcome in (CheckOutcome.UP_TO_DATE, CheckOutcome.NEWER)


def check_for_update(store: Store, *, current: str = __version__, dismissed: str = "",
                     connect: Callable[[Store], RelayClient] = open_client) -> CheckResult:
    """Ask the file's relay for the newest release, with the stored pairing and the token
    from the keyring (as a sync cycle does). Expected trouble (not paired, offline, the relay
    refusing, no keyring) comes back as an outcome, never raised."""
    if pairing_info(store) is None:
        return CheckResult(CheckOutcome.NOT_PAIRED)
    try:
        with connect(store) as client:
            latest = client.latest_release()
    except KairanError as error:  # RelayError, NoKeyring, a missing token, a bad CA file
        return CheckResult(CheckOutcome.UNREACHABLE, message=error.message)
    newer = newer_release(latest, current=current)
    return CheckResult(CheckOutcome.NEWER if newer else CheckOutcome.UP_TO_DATE, latest=latest,
                       notice=notice_for(latest, current=current, dismissed=dismissed))

"""Who has read a sent circular on the resident page, per 班, and re-sending to the rest.

Read markers come in from the relay (``read`` log items, stored by :mod:`sync.apply` in
``circular_read``). The households that count are those that receive notices on the app,
plus any other household that read it there (a paper household may have joined too).

Re-sending publishes the circular again (``circular.publish``). On the relay, publishing
replaces the circular and its whole recipient list, so the operation carries every
recipient — sending only the unread would take the circular away from those who read it.
Protocol v1 has no notification to phones: a re-send makes sure the circular is on the
resident page of every unread household again (after a relay restore, or for a household
the relay did not hold yet), and the officer follows up the rest on paper or by phone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from desktop.domain.circulars import get_circular, recipients
from desktop.domain.errors import ConflictError
from desktop.domain.models import CircularStatus, NoticeChannel
from desktop.i18n import _
from sync import outbox
from sync.apply import read_markers

__all__ = ["GroupReads", "HouseholdRead", "read_status", "resend_to_unread",
           "unread_app_households"]


@dataclass(frozen=True, slots=True)
class HouseholdRead:
    """One household on the app: read (when) or not."""

    household_id: uuid.UUID
    number: str
    display_name: str
    channel: NoticeChannel
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class GroupReads:
    """One 班's app households in route order."""

    group_id: uuid.UUID | None
    group_name: str
    households: tuple[HouseholdRead, ...]

    @property
    def read(self) -> int:
        return sum(1 for household in self.households if household.read_at is not None)

    @property
    def unread(self) -> int:
        return len(self.households) - self.read


def _sent(session: Session, circular_id: uuid.UUID) -> None:
    if get_circular(session, circular_id=circular_id).status != CircularStatus.SENT:
        raise ConflictError(_("This circular has not been sent yet: nobody can have read it. "
                              "Send it first."))


def read_status(session: Session, *, circular_id: uuid.UUID) -> list[GroupReads]:
    """Per 班 in route order, the app households a sent circular went to and whether each
    has read it (班 without any app household are left out)."""
    _sent(session, circular_id)
    markers = read_markers(session, circular_id=circular_id)
    groups: list[GroupReads] = []
    current: tuple[uuid.UUID | None, str] | None = None
    rows: list[HouseholdRead] = []
    for recipient in recipients(session, circular_id=circular_id):
        read_at = markers.get(recipient.household_id)
        if recipient.channel != NoticeChannel.APP and read_at is None:
            continue
        key = (recipient.group_id, recipient.group_name)
        if key != current:
            if current is not None and rows:
                groups.append(GroupReads(current[0], current[1], tuple(rows)))
            current, rows = key, []
        rows.append(HouseholdRead(recipient.household_id, recipient.number,
                                  recipient.display_name, recipient.channel, read_at))
    if current is not None and rows:
        groups.append(GroupReads(current[0], current[1], tuple(rows)))
    return groups


def unread_app_households(session: Session, *, circular_id: uuid.UUID) -> list[uuid.UUID]:
    """The app households that have not read the circular yet, in route order."""
    return [household.household_id for group in read_status(session, circular_id=circular_id)
            for household in group.households if household.read_at is None]


def resend_to_unread(session: Session, *, circular_id: uuid.UUID) -> int:
    """Publish the circular again for the app households that have not read it; returns how
    many those are (0: nothing queued). Refused when the file is not paired."""
    if not outbox.is_paired(session):
        raise ConflictError(_("This file is not connected to a relay, so nothing can be "
                              "re-sent to phones. Connect it first (同期 → Connect to the "
                              "relay…)."))
    unread = unread_app_households(session, circular_id=circular_id)
    if unread:
        outbox.circular_sent(session, circular_id=circular_id)
    return len(unread)

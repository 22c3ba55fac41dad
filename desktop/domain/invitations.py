"""Residents' invitations: a code per household that a phone exchanges for a session.

The code is made here, printed once on the household's slip (with a QR of the join link),
and only its hash goes to the relay (``invitation.issue``, through the outbox in the same
transaction). The plain code is never stored on the office PC either: a household that lost
its slip simply gets a new code, which replaces the old one on the relay (so a lost slip
cannot be used by whoever finds it). Issuing needs a paired file — without a relay there is
nothing a code could open.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from desktop.domain.association import get_association
from desktop.domain.errors import ConflictError, NotFoundError
from desktop.domain.models import Household, NoticeChannel, RosterGroup, SyncState
from desktop.i18n import _
from sync import outbox
from sync.invitation_codes import invitation_code_hash, join_link, new_invitation_code

__all__ = [
    "Invitation",
    "InvitationBatch",
    "invitation_households",
    "issue_invitations",
    "revoke_invitation",
]


@dataclass(frozen=True, slots=True)
class Invitation:
    """One household's new code, to print now (it is not kept)."""

    household_id: uuid.UUID
    number: str
    display_name: str
    group_name: str  # "" for a household in no 班
    code: str  # ABCD-EFGH
    link: str  # the QR link: {relay_url}/r/join?code=ABCD-EFGH


@dataclass(frozen=True, slots=True)
class InvitationBatch:
    """The codes issued together, with what the slips print around them."""

    association: str
    relay_url: str
    invitations: tuple[Invitation, ...]


def _relay_url(session: Session) -> str:
    state = session.get(SyncState, 1)
    if state is None:
        raise ConflictError(_(
            "This file is not connected to a relay, so invitations would open nothing. "
            "Connect it first (同期 → Connect to the relay…)."))
    return state.relay_url


def _with_subgroups(session: Session, group_id: uuid.UUID) -> set[uuid.UUID]:
    """A group and every group under it (a 地区 takes its 班)."""
    parents = dict(session.exec(select(RosterGroup.id, RosterGroup.parent_id)).all())
    if group_id not in parents:
        raise NotFoundError(_("That 班 no longer exists. Choose another one."))
    found = {group_id}
    grew = True
    while grew:
        before = len(found)
        found |= {child for child, parent in parents.items() if parent in found}
        grew = len(found) > before
    return found


def invitation_households(session: Session, *, group_id: uuid.UUID | None = None,
                          paper_only: bool = False) -> list[uuid.UUID]:
    """The current households to invite — of one 班 (and the groups under it), only those
    receiving notices on paper, or all — in 班 and route order."""
    query = select(Household.id).where(col(Household.left_on).is_(None))
    if group_id is not None:
        query = query.where(col(Household.group_id).in_(_with_subgroups(session, group_id)))
    if paper_only:
        query = query.where(Household.channel == NoticeChannel.PAPER)
    query = query.order_by(col(Household.group_id), col(Household.circulation_order),
                           col(Household.number))
    return list(session.exec(query).all())


def issue_invitations(session: Session, *,
                      household_ids: Sequence[uuid.UUID]) -> InvitationBatch:
    """Make a new code for each household and queue its hash for the relay.

    A household's earlier code stops working once the relay applies the new one. Withdrawn
    or missing households are refused: their data has left the relay.
    """
    relay_url = _relay_url(session)
    groups = dict(session.exec(select(RosterGroup.id, RosterGroup.name)).all())
    invitations = []
    for household_id in household_ids:
        household = session.get(Household, household_id)
        if household is None or household.left_on is not None:
            raise NotFoundError(_(
                "A household chosen for an invitation has withdrawn or was deleted. "
                "Choose the households again."))
        code = new_invitation_code()
        outbox.invitation_issued(session, household_id=household.id,
                                 code_hash=invitation_code_hash(code))
        group_id = household.group_id
        invitations.append(Invitation(
            household_id=household.id, number=household.number,
            display_name=household.display_name,
            group_name=groups.get(group_id, "") if group_id is not None else "",
            code=code, link=join_link(relay_url, code)))
    return InvitationBatch(association=get_association(session).name, relay_url=relay_url,
                           invitations=tuple(invitations))


def revoke_invitation(session: Session, *, household_id: uuid.UUID) -> None:
    """The household's code stops working and its phones are signed out."""
    _relay_url(session)
    if session.get(Household, household_id) is None:
        raise NotFoundError(_("That household no longer exists."))
    outbox.invitation_revoked(session, household_id=household_id)

"""What became of a circular's mails, per household, beside its read mark and its answer, and
re-mailing it to the e-mail households that have not read it (メールの状況).

The relay mails a circular to every recipient it holds e-mail addresses for (the office gives
them with ``mail.addresses``: households whose notices go by e-mail) and reports each mail's
fate in the log; :mod:`sync.apply` keeps the latest event per address in ``mail_delivery``
and the addresses it stopped mailing in ``mail_problem``. From those a household's mail is:

- 「メール送信済」 (:attr:`MailState.SENT`): the SMTP server took it for at least one address;
- 「リンクを開いた」 (:attr:`MailState.OPENED`): the personal link in it was opened;
- 「メール未達」 (:attr:`MailState.NOT_DELIVERED`): every address failed or bounced, or none
  is left to mail (all bounced or stopped by the household).

Whether the household has read the circular merges the read marks (resident page, opened
link) with the answers from any channel (paper, app, e-mail, phone…): a household that
answered has read it. Re-sending (``mail.resend``) picks the households that have not, whose
notices still go by e-mail to an address the relay may use.

An address problem counts only while the relay is still given the address (the household's
notices go by e-mail and the address is on its record): switching the household to paper or
changing the address ends it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from desktop.domain.circulars import get_circular, recipients
from desktop.domain.errors import ConflictError
from desktop.domain.models import (
    CircularRecipient,
    CircularStatus,
    Household,
    MailDelivery,
    MailEvent,
    MailProblem,
    MailProblemKind,
    NoticeChannel,
    Reply,
    ReplyChannel,
)
from desktop.i18n import N_, _
from sync import outbox
from sync.apply import read_markers

__all__ = [
    "AddressProblem",
    "GroupMail",
    "HouseholdMail",
    "MailState",
    "household_mail_problems",
    "mail_state_label",
    "mail_status",
    "problem_label",
    "resend_mail_to_unread",
    "unread_mail_households",
]


class MailState(enum.StrEnum):
    """What the office knows of the mail of one circular to one household."""

    NONE = "none"  # nothing reported (yet): still queued on the relay, or never mailed
    SENT = "sent"
    NOT_DELIVERED = "not_delivered"
    OPENED = "opened"


_STATE_LABELS: dict[MailState, str] = {
    MailState.NONE: N_("No mail yet"),
    MailState.SENT: N_("Mail sent"),
    MailState.NOT_DELIVERED: N_("Mail not delivered"),
    MailState.OPENED: N_("Link opened"),
}
_PROBLEM_LABELS: dict[MailProblemKind, str] = {
    MailProblemKind.BOUNCED: N_("Mail bounced"),
    MailProblemKind.UNSUBSCRIBED: N_("The household stopped the mails"),
}


def mail_state_label(state: MailState) -> str:
    """How a mail state is shown (メール送信済 / メール未達 / リンクを開いた)."""
    return _(_STATE_LABELS[MailState(state)])


def problem_label(problem: MailProblemKind) -> str:
    """Why an address gets no more mail, in the officer's language."""
    return _(_PROBLEM_LABELS[MailProblemKind(problem)])


@dataclass(frozen=True, slots=True)
class AddressProblem:
    """An address of a household the relay no longer mails, and why."""

    household_id: uuid.UUID
    address: str
    problem: MailProblemKind
    detail: str  # the mail server's answer, as the relay reported it
    at: datetime


@dataclass(frozen=True, slots=True)
class HouseholdMail:
    """One household's mail of a circular, its read mark and its answer."""

    household_id: uuid.UUID
    number: str
    display_name: str
    channel: NoticeChannel  # how its notices went when the circular was sent
    mail: MailState
    mail_at: datetime | None
    mail_detail: str  # why not delivered (the server's answer), else ""
    read_at: datetime | None  # first read on the resident page or through the mail's link
    answer_channel: ReplyChannel | None  # how its answer came, if it answered
    answered_at: datetime | None
    problems: tuple[AddressProblem, ...]
    mailable: bool  # its notices go by e-mail now, to an address the relay may still use

    @property
    def has_read(self) -> bool:
        """It read the circular, or answered it (which it cannot do unread)."""
        return self.read_at is not None or self.answer_channel is not None


@dataclass(frozen=True, slots=True)
class GroupMail:
    """One 班's e-mail households in route order."""

    group_id: uuid.UUID | None
    group_name: str
    households: tuple[HouseholdMail, ...]

    def count(self, state: MailState) -> int:
        """How many of its households' mail is in ``state``."""
        return sum(1 for household in self.households if household.mail is state)

    @property
    def unread(self) -> int:
        return sum(1 for household in self.households if not household.has_read)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _current_addresses(household: Household) -> tuple[str, ...]:
    return outbox.mail_addresses(channel=household.channel, emails=household.emails,
                                 left_on=household.left_on)


def _live(problems: Iterable[MailProblem], addresses: Mapping[uuid.UUID, tuple[str, ...]]
          ) -> dict[uuid.UUID, list[AddressProblem]]:
    """The problems of addresses the relay is still given, per household, by address."""
    found: dict[uuid.UUID, list[AddressProblem]] = {}
    for row in problems:
        if row.address in addresses.get(row.household_id, ()):
            found.setdefault(row.household_id, []).append(AddressProblem(
                row.household_id, row.address, MailProblemKind(row.problem), row.detail,
                _aware(row.at)))
    for listed in found.values():
        listed.sort(key=lambda problem: addresses[problem.household_id].index(problem.address))
    return found


def _state(deliveries: Sequence[MailDelivery], problems: Sequence[AddressProblem],
           addresses: tuple[str, ...]) -> tuple[MailState, datetime | None, str]:
    """A household's mail state from the latest event of each of its addresses."""
    def latest(*events: MailEvent) -> MailDelivery | None:
        rows = [row for row in deliveries if row.event in events]
        return max(rows, key=lambda row: _aware(row.at)) if rows else None

    if (row := latest(MailEvent.OPENED)) is not None:
        return MailState.OPENED, _aware(row.at), ""
    if (row := latest(MailEvent.SENT)) is not None:
        return MailState.SENT, _aware(row.at), ""
    if (row := latest(MailEvent.FAILED, MailEvent.BOUNCED)) is not None:
        return MailState.NOT_DELIVERED, _aware(row.at), row.detail
    if addresses and len(problems) == len(addresses):  # nothing left the relay may mail
        last = max(problems, key=lambda problem: problem.at)
        return MailState.NOT_DELIVERED, last.at, problem_label(last.problem)
    return MailState.NONE, None, ""


def mail_status(session: Session, *, circular_id: uuid.UUID) -> list[GroupMail]:
    """Per 班 in route order, the households of a sent circular that get it by e-mail (as
    sent, or now, or that the relay reported a mail for), with their mail, read mark and
    answer (班 without any such household are left out)."""
    if get_circular(session, circular_id=circular_id).status != CircularStatus.SENT:
        raise ConflictError(_("This circular has not been sent yet: nobody can have read it. "
                              "Send it first."))
    current = {row[0]: _current_addresses(row[1]) for row in session.exec(
        select(Household.id, Household).join(
            CircularRecipient, col(CircularRecipient.household_id) == col(Household.id))
        .where(CircularRecipient.circular_id == circular_id)).all()}
    deliveries: dict[uuid.UUID, list[MailDelivery]] = {}
    for row in session.exec(select(MailDelivery).where(
            MailDelivery.circular_id == circular_id)).all():
        deliveries.setdefault(row.household_id, []).append(row)
    problems = _live(session.exec(select(MailProblem).join(
        CircularRecipient, col(CircularRecipient.household_id) == col(MailProblem.household_id))
        .where(CircularRecipient.circular_id == circular_id)).all(), current)
    answers = {household_id: (ReplyChannel(channel), _aware(at)) for household_id, channel, at
               in session.exec(select(Reply.household_id, Reply.channel, Reply.received_at)
                               .where(Reply.circular_id == circular_id)).all()}
    reads = read_markers(session, circular_id=circular_id)

    groups: list[GroupMail] = []
    rows: list[HouseholdMail] = []
    key: tuple[uuid.UUID | None, str] | None = None
    for recipient in recipients(session, circular_id=circular_id):
        household_id = recipient.household_id
        addresses = current.get(household_id, ())
        if (recipient.channel != NoticeChannel.EMAIL and not addresses
                and household_id not in deliveries):
            continue
        if (recipient.group_id, recipient.group_name) != key:
            if key is not None and rows:
                groups.append(GroupMail(key[0], key[1], tuple(rows)))
            key, rows = (recipient.group_id, recipient.group_name), []
        listed = tuple(problems.get(household_id, ()))
        state, at, detail = _state(deliveries.get(household_id, ()), listed, addresses)
        answer = answers.get(household_id)
        read_at = reads.get(household_id)
        rows.append(HouseholdMail(
            household_id, recipient.number, recipient.display_name, recipient.channel,
            state, at, detail, _aware(read_at) if read_at is not None else None,
            answer[0] if answer else None, answer[1] if answer else None, listed,
            mailable=len(listed) < len(addresses)))
    if key is not None and rows:
        groups.append(GroupMail(key[0], key[1], tuple(rows)))
    return groups


def unread_mail_households(session: Session, *, circular_id: uuid.UUID) -> list[uuid.UUID]:
    """The households to mail the circular again, in route order: not read nor answered,
    and mailed now (e-mail notices, an address the relay may still use)."""
    return [household.household_id for group in mail_status(session, circular_id=circular_id)
            for household in group.households
            if household.mailable and not household.has_read]


def resend_mail_to_unread(session: Session, *, circular_id: uuid.UUID) -> int:
    """Queue ``mail.resend`` of the circular for the e-mail households that have not read
    it; returns how many those are (0: nothing queued). Refused when the file is not paired:
    only the relay sends mail."""
    if not outbox.is_paired(session):
        raise ConflictError(_("This file is not connected to a relay, so no mail can be "
                              "sent. Connect it first (同期 → Connect to the relay…)."))
    unread = unread_mail_households(session, circular_id=circular_id)
    if unread:
        outbox.mail_resend(session, circular_id=circular_id, household_ids=unread)
    return len(unread)


def household_mail_problems(session: Session, *, household_id: uuid.UUID
                            ) -> list[AddressProblem]:
    """A household's addresses the relay no longer mails, in the order of its addresses
    (none once its notices go another way)."""
    household = session.get(Household, household_id)
    if household is None:
        return []
    rows = session.exec(select(MailProblem).where(
        MailProblem.household_id == household_id)).all()
    return _live(rows, {household_id: _current_addresses(household)}).get(household_id, [])

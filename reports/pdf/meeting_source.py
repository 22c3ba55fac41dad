"""Read what the general-meeting documents print from an association file, through the domain.

A thin loader over the meeting services (``desktop.domain.meeting.meetings`` and
``entries``): the meeting as :class:`~reports.pdf.meeting_input.MeetingPrint`, its voter
list as :class:`~reports.pdf.meeting_input.MeetingVoterPrint` (with what each voter has
returned so far, from the tally) and the tally itself. Read everything inside the session,
then render outside it: the renderers never touch the database.

The forms' QR codes carry ``meeting_slip_code(meeting_id, key)``: with one vote per household
the key *is* the household number (the contract's code); with one vote per member it is the
member's key, which ``find_voter`` finds directly, where the household number would make the
officer choose among its members. Such a member's 世帯番号 prints as ``0012-2`` (the 2nd
member of household 0012 on the list), which the entry screen also accepts typed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from desktop.domain.association import get_association
from desktop.domain.meeting.entries import meeting_slip_code, meeting_tally
from desktop.domain.meeting.meetings import MeetingRecord, get_meeting
from desktop.domain.meeting.rules import VotingUnit
from desktop.domain.meeting.tally import Tally, Voter
from reports.pdf.meeting_input import MeetingItemPrint, MeetingPrint, MeetingVoterPrint

__all__ = ["MeetingDocuments", "load_documents", "meeting_print", "voter_prints"]


def meeting_print(record: MeetingRecord, *, association: str, printed_on: date,
                  deadline: date | None = None, chair: str = "",
                  purpose_statement: str = "") -> MeetingPrint:
    """The meeting as printed, from a record already read (no session needed)."""
    rules = record.rules
    return MeetingPrint(
        association=association, title=record.data.title, held_on=record.data.held_on,
        place=record.data.place, record_date=record.data.record_date, printed_on=printed_on,
        items=tuple(MeetingItemPrint(item.title, item.majority, item.added_after_forms)
                    for item in record.items),
        deadline=deadline, chair=chair, voting_unit=rules.voting_unit,
        blank_counts_as=rules.blank_counts_as, spoiled_counts_as=rules.spoiled_counts_as,
        absent_holder=rules.absent_holder, purpose_statement=purpose_statement)


def _printed_numbers(voters: Sequence[Voter], unit: VotingUnit) -> list[str]:
    """Each voter's 世帯番号 as printed: ``0012-2`` for a member of a household with several
    members on the list (their place among them), else the number."""
    if unit is not VotingUnit.MEMBER:
        return [voter.number for voter in voters]
    sizes = Counter(voter.number for voter in voters)
    seen: Counter[str] = Counter()
    numbers = []
    for voter in voters:
        seen[voter.number] += 1
        numbers.append(f"{voter.number}-{seen[voter.number]}" if sizes[voter.number] > 1
                       else voter.number)
    return numbers


def voter_prints(meeting_id: uuid.UUID, tally: Tally) -> list[MeetingVoterPrint]:
    """Every voter of ``tally`` in list order (班, then circulation order), with the code
    their forms carry and the kind of form that counts for them so far (no session needed)."""
    numbers = _printed_numbers(tally.voters, tally.rules.voting_unit)
    positions = tally.positions
    prints = []
    for voter, number, entry in zip(tally.voters, numbers, tally.deciding, strict=True):
        holder = ""
        if entry is not None and entry.holder_key is not None:
            at = positions.get(entry.holder_key)
            holder = entry.holder_key if at is None else tally.voters[at].label
        prints.append(MeetingVoterPrint(
            key=voter.key, number=number, name=voter.name, group_name=voter.group_name,
            slip_code=meeting_slip_code(meeting_id, voter.key),
            returned=None if entry is None else entry.kind, holder=holder))
    return prints


@dataclass(frozen=True, slots=True)
class MeetingDocuments:
    """Everything the meeting's documents need, read in one session."""

    meeting: MeetingPrint
    voters: list[MeetingVoterPrint]  # in list order: 班, then circulation order
    tally: Tally


def load_documents(session: Session, *, meeting_id: uuid.UUID, printed_on: date,
                   deadline: date | None = None) -> MeetingDocuments:
    """The meeting, its voters and its tally now. ``printed_on`` is the date the page
    furniture shows; ``deadline`` the last day for returning forms (None: the meeting)."""
    record = get_meeting(session, meeting_id=meeting_id)
    tally = meeting_tally(session, meeting_id=meeting_id)
    chair = ""
    if record.chair_key is not None and record.chair_key in tally.positions:
        chair = tally.voters[tally.positions[record.chair_key]].label
    association = get_association(session)
    meeting = meeting_print(record, association=association.name, printed_on=printed_on,
                            deadline=deadline, chair=chair,
                            purpose_statement=association.purpose_statement)
    return MeetingDocuments(meeting, voter_prints(meeting_id, tally), tally)

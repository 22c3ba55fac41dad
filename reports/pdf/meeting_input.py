"""What the general-meeting (総会) documents print: plain values, read once from the file.

The renderers (``reports.pdf.meeting_pdf`` and ``reports.meeting_xlsx``) take these — and,
for the results and the export, the engine's :class:`~desktop.domain.meeting.tally.Tally`,
itself a plain value — and nothing else, so they can be tested and benchmarked without a
database; ``reports.pdf.meeting_source`` fills them from a session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from desktop.domain.meeting.rules import (
    MAJORITY_OF_PRESENT,
    AbsentHolder,
    CountAs,
    Majority,
    VotingUnit,
)
from desktop.domain.meeting.tally import EntryKind

__all__ = ["MeetingItemPrint", "MeetingPrint", "MeetingVoterPrint", "VoterGroup",
           "group_voters"]


@dataclass(frozen=True, slots=True)
class MeetingItemPrint:
    """One agenda item (議案) as printed: 「第1号議案 令和7年度事業報告の件」."""

    title: str
    majority: Majority = MAJORITY_OF_PRESENT
    added_after_forms: bool = False


@dataclass(frozen=True, slots=True)
class MeetingPrint:
    """The meeting as its documents print it.

    ``printed_on`` is the date in the page furniture; ``deadline`` the last day to return a
    form (None: 「総会の開会まで」). The rules' fields come from the meeting's rules, so the
    forms say what an unticked or doubly ticked item means and where a proxy goes when its
    holder does not come, and the lists count households or members.
    """

    association: str
    title: str  # 令和8年度 定期総会
    held_on: date
    place: str
    record_date: date
    printed_on: date
    items: tuple[MeetingItemPrint, ...] = ()
    deadline: date | None = None
    chair: str = ""  # the chair's number and name when chosen (printed on the results)
    voting_unit: VotingUnit = VotingUnit.HOUSEHOLD
    blank_counts_as: CountAs = CountAs.ABSTAIN
    spoiled_counts_as: CountAs = CountAs.ABSTAIN
    absent_holder: AbsentHolder = AbsentHolder.TO_CHAIR
    purpose_statement: str = ""  # at the foot of the notice kept at home (個人情報の利用目的)


@dataclass(frozen=True, slots=True)
class MeetingVoterPrint:
    """One voter on the voter list (a household, or a member in the per-member unit).

    ``slip_code`` is what the forms' QR codes carry (``meeting_slip_code``); ``returned`` is
    the kind of form that counts for the voter so far (None: nothing yet), and ``holder``
    the member a proxy names (number and name; "" for one left to the chair).
    """

    key: str
    number: str  # 世帯番号
    name: str
    group_name: str = ""  # 班; "" for a voter in no 班
    slip_code: str = ""  # the number alone when empty
    returned: EntryKind | None = None
    holder: str = ""


@dataclass(frozen=True, slots=True)
class VoterGroup:
    """The voters of one 班, in circulation order."""

    name: str
    voters: tuple[MeetingVoterPrint, ...]


def group_voters(voters: Sequence[MeetingVoterPrint]) -> list[VoterGroup]:
    """``voters`` (in 班 order, then circulation order, as ``meeting_voters`` lists them)
    cut into their 班, in that order; a 班 met again later is merged into its first run."""
    groups: dict[str, list[MeetingVoterPrint]] = {}
    for voter in voters:
        groups.setdefault(voter.group_name, []).append(voter)
    return [VoterGroup(name, tuple(members)) for name, members in groups.items()]

"""The general meeting (総会): the association's voting rules and the Qt-free, database-free
tally engine that counts attendance, proxies, written votes and the show of hands.

``rules`` holds the bylaws as values, ``tally`` the count, ``explain`` the count in words.
"""

from __future__ import annotations

from desktop.domain.meeting.rules import (
    MAJORITY_OF_CAST,
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    AbsentHolder,
    Base,
    ChairVote,
    CountAs,
    FormConflict,
    Majority,
    Quorum,
    Rules,
    VotingUnit,
)
from desktop.domain.meeting.tally import (
    AgendaItem,
    Counts,
    Entry,
    EntryKind,
    FloorVote,
    GroupChase,
    ItemResult,
    Outcome,
    Problem,
    ProblemKind,
    QuorumResult,
    Reason,
    Severity,
    Source,
    Status,
    Tally,
    Vote,
    VoteCount,
    Voter,
    tally,
)

__all__ = [
    "MAJORITY_OF_CAST",
    "MAJORITY_OF_PRESENT",
    "TWO_THIRDS_OF_PRESENT",
    "AbsentHolder",
    "AgendaItem",
    "Base",
    "ChairVote",
    "CountAs",
    "Counts",
    "Entry",
    "EntryKind",
    "FloorVote",
    "FormConflict",
    "GroupChase",
    "ItemResult",
    "Majority",
    "Outcome",
    "Problem",
    "ProblemKind",
    "Quorum",
    "QuorumResult",
    "Reason",
    "Rules",
    "Severity",
    "Source",
    "Status",
    "Tally",
    "Vote",
    "VoteCount",
    "Voter",
    "VotingUnit",
    "tally",
]

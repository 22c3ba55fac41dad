"""The association's rules for its general meeting (総会), as its bylaws (規約) write them.

One frozen :class:`Rules` value, set once per association and kept by the store, says how the
tally engine (:mod:`desktop.domain.meeting.tally`) counts: quorum, what a blank or spoiled
written vote means, what wins when a household sends two kinds of form, where a proxy goes
when its holder does not come. Each agenda item carries its own :class:`Majority`.

All fractions are compared in integers (``votes × denominator`` against ``base × numerator``),
so 200 × 2/3 never rounds the wrong way.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from desktop.domain.errors import ValidationError
from desktop.i18n import _

__all__ = [
    "MAJORITY_OF_CAST",
    "MAJORITY_OF_PRESENT",
    "TWO_THIRDS_OF_PRESENT",
    "AbsentHolder",
    "Base",
    "ChairVote",
    "CountAs",
    "FormConflict",
    "Majority",
    "Quorum",
    "Rules",
    "VotingUnit",
    "required_count",
]


class VotingUnit(enum.StrEnum):
    """Who holds a vote. The voter list is built accordingly; the tally only records it."""

    HOUSEHOLD = "household"  # one vote per household (the common case)
    MEMBER = "member"


class Base(enum.StrEnum):
    """What an item's majority is a fraction of."""

    CAST = "cast"  # votes for + against (abstentions and blanks left out)
    PRESENT = "present"  # everyone counted present for the item: in person, proxies, written
    ALL = "all"  # every voter on the list


class CountAs(enum.StrEnum):
    """How a blank or spoiled item on a written vote (書面議決書) counts."""

    ABSTAIN = "abstain"
    AGAINST = "against"
    FOR = "for"


class FormConflict(enum.StrEnum):
    """What counts when one voter sent both a proxy (委任状) and a written vote."""

    WRITTEN_WINS = "written_wins"
    PROXY_WINS = "proxy_wins"
    LATEST_WINS = "latest_wins"  # the one entered later (by time, then entry number)


class AbsentHolder(enum.StrEnum):
    """Where a proxy goes when the member it names is not present (or cannot take it)."""

    TO_CHAIR = "to_chair"  # 議長一任
    LAPSE = "lapse"  # the proxy is void; its giver is not present


class ChairVote(enum.StrEnum):
    """How the chair (議長) votes the proxies left to the chair."""

    FOR = "for"  # 議長一任 read as approval of the proposals, the usual practice
    ABSTAIN = "abstain"


def required_count(total: int, numerator: int, denominator: int, *, strict: bool) -> int:
    """The least whole count that reaches ``numerator/denominator`` of ``total``.

    Strict (過半数, "more than"): the least n with n × d > t × m; else (以上, "at least") the
    least n with n × d ≥ t × m.
    """
    scaled = total * numerator
    if strict:
        return scaled // denominator + 1
    return -(-scaled // denominator)


def _check_fraction(numerator: int, denominator: int, *, strict: bool, field_name: str,
                    allow_zero: bool) -> None:
    if denominator < 1 or numerator < 0 or numerator > denominator:
        raise ValidationError(
            _("The fraction {numerator}/{denominator} is not between 0 and 1. "
              "Use a fraction such as 1/2 or 2/3.").format(
                numerator=numerator, denominator=denominator),
            field=field_name)
    if numerator == 0 and not allow_zero:
        raise ValidationError(
            _("A majority of 0/{denominator} would pass anything. "
              "Use a fraction such as 1/2 or 2/3.").format(denominator=denominator),
            field=field_name)
    if strict and numerator == denominator:
        raise ValidationError(
            _("Nobody can have more than all of the votes. "
              "For a unanimous decision choose \u201cat least\u201d {numerator}/{denominator}."
              ).format(numerator=numerator, denominator=denominator),
            field=field_name)


@dataclass(frozen=True, slots=True)
class Majority:
    """The majority an agenda item needs: votes for must be more than (``strict``, 過半数)
    or at least (以上) ``numerator/denominator`` of ``base``."""

    numerator: int = 1
    denominator: int = 2
    strict: bool = True
    base: Base = Base.PRESENT

    def __post_init__(self) -> None:
        _check_fraction(self.numerator, self.denominator, strict=self.strict,
                        field_name="majority", allow_zero=False)

    def required(self, base_count: int) -> int:
        """Votes for needed out of ``base_count``; never fewer than one, so a motion that
        nobody voted for does not pass on an empty base."""
        return max(1, required_count(base_count, self.numerator, self.denominator,
                                     strict=self.strict))


MAJORITY_OF_PRESENT = Majority(1, 2, strict=True, base=Base.PRESENT)  # 出席者の過半数
MAJORITY_OF_CAST = Majority(1, 2, strict=True, base=Base.CAST)  # 投票（賛否）の過半数
TWO_THIRDS_OF_PRESENT = Majority(2, 3, strict=False, base=Base.PRESENT)  # 出席者の3分の2以上


@dataclass(frozen=True, slots=True)
class Quorum:
    """The meeting is quorate (成立) when those counted present are more than (``strict``) or
    at least ``numerator/denominator`` of all voters; the flags say which returns count."""

    numerator: int = 1
    denominator: int = 2
    strict: bool = True
    count_in_person: bool = True
    count_proxies: bool = True  # proxies that reach a present holder or the chair
    count_written: bool = True

    def __post_init__(self) -> None:
        _check_fraction(self.numerator, self.denominator, strict=self.strict,
                        field_name="quorum", allow_zero=True)
        if not (self.count_in_person or self.count_proxies or self.count_written):
            raise ValidationError(
                _("The quorum counts nobody. Tick at least one of in person, proxies or "
                  "written votes."), field="quorum")

    def required(self, voters: int) -> int:
        """How many must be counted present out of ``voters`` (0 when there is no quorum)."""
        return required_count(voters, self.numerator, self.denominator, strict=self.strict)


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything the bylaws decide about counting, with the most common defaults."""

    voting_unit: VotingUnit = VotingUnit.HOUSEHOLD
    quorum: Quorum = field(default_factory=Quorum)
    blank_counts_as: CountAs = CountAs.ABSTAIN
    spoiled_counts_as: CountAs = CountAs.ABSTAIN  # both boxes ticked: 無効, read as abstaining
    proxy_and_written: FormConflict = FormConflict.WRITTEN_WINS
    attendance_overrides_forms: bool = True  # coming in person cancels the forms sent
    absent_holder: AbsentHolder = AbsentHolder.TO_CHAIR
    chair_votes: ChairVote = ChairVote.FOR
    proxy_cap: int | None = None  # most proxies one member may hold (the chair has no cap)

    def __post_init__(self) -> None:
        if self.proxy_cap is not None and self.proxy_cap < 1:
            raise ValidationError(
                _("A member must be able to hold at least one proxy. "
                  "Set the limit to 1 or more, or leave it empty for no limit."),
                field="proxy_cap")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, for storing the rules with the association."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Rules:
        """The rules stored by :meth:`as_dict`; missing keys take the defaults, so rules
        saved by an older version still load."""
        try:
            quorum = Quorum(**values.get("quorum", {}))
            plain = {key: value for key, value in values.items() if key != "quorum"}
            enums: dict[str, type[enum.StrEnum]] = {
                "voting_unit": VotingUnit, "blank_counts_as": CountAs,
                "spoiled_counts_as": CountAs, "proxy_and_written": FormConflict,
                "absent_holder": AbsentHolder, "chair_votes": ChairVote}
            for key, kind in enums.items():
                if key in plain:
                    plain[key] = kind(plain[key])
            return cls(quorum=quorum, **plain)
        except (TypeError, ValueError) as error:  # a renamed key or an unknown choice
            raise ValidationError(
                _("The saved meeting rules cannot be read ({error}). "
                  "Open the meeting rules and save them again.").format(error=error)
            ) from error

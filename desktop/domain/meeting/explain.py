"""The tally in words: the arithmetic, the reasons and the problems people read.

Everything here is made from a :class:`~desktop.domain.meeting.tally.Tally` after the count, in
the current language, so the count itself stays free of text (and fast). Numbers are shown
as they were compared: ``賛成 120 ＞ 出席 200 × 1/2 = 100 → 可決``.
"""

from __future__ import annotations

from fractions import Fraction

from desktop.domain.meeting.rules import (
    Base,
    ChairVote,
    CountAs,
    Majority,
    Quorum,
    Rules,
    VotingUnit,
)
from desktop.domain.meeting.tally import (
    ItemResult,
    Outcome,
    Problem,
    ProblemKind,
    Reason,
    Status,
    Tally,
)
from desktop.i18n import _

__all__ = [
    "fraction_rule_text",
    "item_arithmetic",
    "item_breakdown",
    "majority_text",
    "problem_message",
    "quorum_text",
    "reason_text",
    "status_label",
    "summary_lines",
    "threshold_text",
]

_DECIMALS = 2


def status_label(status: Status) -> str:
    """The short label of a voter's status (出席, 委任, 書面議決 …)."""
    labels = {
        Status.IN_PERSON: _("Present in person"),
        Status.PROXY_TO_HOLDER: _("Proxy to a member"),
        Status.PROXY_TO_CHAIR: _("Proxy to the chair"),
        Status.WRITTEN: _("Written vote"),
        Status.ABSENT: _("Absent"),
        Status.NO_REPLY: _("No reply"),
        Status.LAPSED: _("Proxy lapsed"),
    }
    return labels[status]


def _fraction(numerator: int, denominator: int) -> str:
    return _("{numerator}/{denominator}").format(numerator=numerator, denominator=denominator)


def fraction_rule_text(numerator: int, denominator: int, *, strict: bool) -> str:
    """``more than half`` (過半数), ``more than 1/3``, ``at least 2/3`` (3分の2以上)."""
    if strict and (numerator, denominator) == (1, 2):
        return _("more than half")
    fraction = _fraction(numerator, denominator)
    if strict:
        return _("more than {fraction}").format(fraction=fraction)
    return _("at least {fraction}").format(fraction=fraction)


def _base_name(base: Base) -> str:
    names = {Base.CAST: _("for + against"), Base.PRESENT: _("attendance"),
             Base.ALL: _("all voters")}
    return names[base]


def majority_text(majority: Majority) -> str:
    """The rule an item must meet: ``more than half of those present`` (出席者の過半数)."""
    rule = fraction_rule_text(majority.numerator, majority.denominator,
                              strict=majority.strict)
    templates = {Base.CAST: _("{rule} of the votes for and against"),
                 Base.PRESENT: _("{rule} of those present"),
                 Base.ALL: _("{rule} of all voters")}
    return templates[majority.base].format(rule=rule)


def threshold_text(value: Fraction) -> str:
    """A threshold as compared: whole numbers plainly, else two decimals (``133.33…`` when
    cut short, so nobody mistakes the shown figure for the exact one)."""
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = value * 10**_DECIMALS
    whole = hundredths.numerator // hundredths.denominator
    text = f"{whole // 10**_DECIMALS}.{whole % 10**_DECIMALS:0{_DECIMALS}d}".rstrip("0")
    return text if hundredths.denominator == 1 else text + "…"


def item_arithmetic(result: ItemResult) -> str:
    """The comparison that decides an item: ``For 120 > present 200 × 1/2 = 100 → carried``."""
    majority = result.item.majority
    votes = result.votes.for_
    if votes == 0:
        return _("For 0 → rejected (nobody voted for it)")
    threshold = Fraction(result.base * majority.numerator, majority.denominator)
    if majority.strict:
        template = (_("For {votes} > {base_name} {base} × {fraction} = {threshold} → carried")
                    if result.passed else
                    _("For {votes} ≤ {base_name} {base} × {fraction} = {threshold} → rejected"))
    else:
        template = (_("For {votes} ≥ {base_name} {base} × {fraction} = {threshold} → carried")
                    if result.passed else
                    _("For {votes} < {base_name} {base} × {fraction} = {threshold} → rejected"))
    return template.format(
        votes=votes, base_name=_base_name(majority.base), base=result.base,
        fraction=f"{majority.numerator}/{majority.denominator}",
        threshold=threshold_text(threshold))


def item_breakdown(result: ItemResult, rules: Rules) -> list[str]:
    """Where an item's votes came from, one line each for, against and abstaining, then
    what the rules did with blank, spoiled and missing answers."""
    line = _("{label} {total} (written {written}, chair {chair}, show of hands {floor})")
    lines = [
        line.format(label=label, total=getattr(result.votes, name),
                    written=getattr(result.written, name), chair=getattr(result.chair, name),
                    floor=getattr(result.floor, name))
        for label, name in ((_("For"), "for_"), (_("Against"), "against"),
                            (_("Abstain"), "abstain"))]
    if result.blank:
        lines.append(_("{count} written answers left blank count as {counted_as}.").format(
            count=result.blank, counted_as=_count_as(rules.blank_counts_as)))
    if result.spoiled:
        lines.append(_("{count} written answers with both boxes ticked count as "
                       "{counted_as}.").format(count=result.spoiled,
                                               counted_as=_count_as(rules.spoiled_counts_as)))
    if result.chair.total:
        lines.append((_("The chair votes the {count} proxies left to the chair for.")
                      if rules.chair_votes is ChairVote.FOR else
                      _("The chair abstains with the {count} proxies left to the chair."))
                     .format(count=result.chair.total))
    if result.not_counted:
        lines.append(_("{count} written votes have no answer for this item (added after the "
                       "forms were printed); they are not counted for it.").format(
                           count=result.not_counted))
    if not result.floor_entered:
        lines.append(_("The show of hands is not entered yet."))
    if result.floor_too_large:
        lines.append(_("The show of hands counts more hands than there are people and "
                       "proxies on the floor. Count again."))
    return lines


def _count_as(count_as: CountAs) -> str:
    words = {CountAs.ABSTAIN: _("abstentions"), CountAs.AGAINST: _("votes against"),
             CountAs.FOR: _("votes for")}
    return words[count_as]


def _voters(count: int, rules: Rules) -> str:
    template = (_("{count} households") if rules.voting_unit is VotingUnit.HOUSEHOLD
                else _("{count} members"))
    return template.format(count=count)


def quorum_text(tally: Tally) -> str:
    """Quorum in one line: who was counted, what the bylaws ask, and by how much."""
    result = tally.quorum
    quorum: Quorum = tally.rules.quorum
    parts = []
    if quorum.count_in_person:
        parts.append(_("in person {count}").format(count=result.in_person))
    if quorum.count_proxies:
        parts.append(_("proxies {count}").format(count=result.proxies))
    if quorum.count_written:
        parts.append(_("written {count}").format(count=result.written))
    rule = fraction_rule_text(quorum.numerator, quorum.denominator, strict=quorum.strict)
    template = (_("Quorum: {parts} = {counted} of {voters}; {rule} needs {required} → "
                  "reached with {margin} to spare")
                if result.reached else
                _("Quorum: {parts} = {counted} of {voters}; {rule} needs {required} → "
                  "not reached, {margin} short"))
    return template.format(parts=" + ".join(parts), counted=result.counted,
                           voters=_voters(result.eligible, tally.rules), rule=rule,
                           required=result.required, margin=abs(result.margin))


def _consequence(outcome: Status | None) -> str:
    if outcome is Status.LAPSED:
        return _("the proxy lapses")
    return _("the proxy goes to the chair")


def reason_text(outcome: Outcome) -> str:
    """Why one voter counts as they do, in a sentence."""
    holder = (outcome.holder.label if outcome.holder is not None
              else outcome.holder_key or "")
    consequence = _consequence(outcome.status)
    texts = {
        Reason.CHECKED_IN: _("Checked in at the door."),
        Reason.CHECKED_IN_OVER_FORMS: _(
            "Checked in at the door; the forms sent earlier do not count."),
        Reason.HOLDER_PRESENT: _("Proxy to {holder}, who is present."),
        Reason.BLANK_PROXY: _("Blank proxy: it goes to the chair."),
        Reason.NAMES_CHAIR: _("Proxy to the chair."),
        Reason.HOLDER_ABSENT: _("Proxy to {holder}, who is not present: {consequence}."),
        Reason.HOLDER_UNKNOWN: _(
            "Proxy to {holder}, who is not on the voter list: {consequence}."),
        Reason.HOLDER_GAVE_PROXY: _(
            "Proxy to {holder}, who gave a proxy too and so is not present: {consequence}."),
        Reason.PROXY_CYCLE: _("Proxies that name each other in a circle: {consequence}."),
        Reason.OVER_CAP: _("Proxy to {holder}, who already holds as many proxies as the "
                           "rules allow: {consequence}."),
        Reason.WRITTEN_VOTE: _("Written vote."),
        Reason.ABSENT_FORM: _("Absent, with no proxy or written vote."),
        Reason.NO_FORM: _("No form returned and not checked in."),
        Reason.ALL_CANCELLED: _("Every entry for this voter was cancelled."),
    }
    return texts[outcome.reason].format(holder=holder, consequence=consequence)


def _item_name(index: int | None) -> str:
    return _("Item {number}").format(number=(index or 0) + 1)


def _problem_templates() -> dict[ProblemKind, str]:
    return {
        ProblemKind.UNKNOWN_VOTER: _(
            "{count} entries for {who}, who is not on the voter list of the record date, are "
            "not counted. Check the number, or whether the household joined or left after "
            "the record date."),
        ProblemKind.BAD_CANCEL: _(
            "{who}: entry {first} cancels entry {second}, which is not an entry for this "
            "voter; the cancel is ignored. Cancel the right entry."),
        ProblemKind.FLOOR_TOO_LARGE: _(
            "{item}: the show of hands counts {count} hands, more than the people and proxies "
            "on the floor. Count again."),
        ProblemKind.FLOOR_UNKNOWN_ITEM: _(
            "A show of hands for {item}, which is not on the agenda, is ignored."),
        ProblemKind.HOLDER_UNKNOWN: _(
            "{who}: the proxy names {other}, who is not on the voter list; {consequence}."),
        ProblemKind.PROXY_CYCLE: _(
            "{circle}: their proxies name each other in a circle, so none of them is present; "
            "{consequence}."),
        ProblemKind.PROXY_CHAIN: _(
            "{who}: the proxy holder {other} gave a proxy too and is not present; "
            "{consequence}."),
        ProblemKind.PROXY_CAP: _(
            "{who} is given more proxies than the {count} allowed; the later ones, from "
            "{rest}: {consequence}."),
        ProblemKind.HOLDER_ABSENT: _(
            "{who}: the proxy holder {other} is not present; {consequence}."),
        ProblemKind.FORM_OVER_ATTENDANCE: _(
            "{who} checked in but also sent a form; by the rules the form counts."),
        ProblemKind.REPLACED_ENTRY: _(
            "{who}: entry {second} replaces the different entry {first}; the later one "
            "counts."),
        ProblemKind.DUPLICATE_ENTRY: _(
            "{who}: entries {first} and {second} are the same form entered twice; it counts "
            "once."),
        ProblemKind.SPOILED_VOTES: _(
            "{item}: {count} written votes have both boxes ticked and count as {counted_as}: "
            "{all}."),
        ProblemKind.UNANSWERED_ADDED_ITEM: _(
            "{item} was added after the forms were printed: {count} written votes have no "
            "answer for it and are not counted for it."),
    }


def problem_message(problem: Problem) -> str:
    """The problem as a message that names the households (number and name) concerned."""
    if problem.kind is ProblemKind.PROXY_AND_WRITTEN:
        template = (_("{who} sent both a proxy and a written vote; the written vote counts.")
                    if problem.outcome is Status.WRITTEN else
                    _("{who} sent both a proxy and a written vote; the proxy counts."))
    else:
        template = _problem_templates()[problem.kind]
    labels = problem.labels
    sequences = (*problem.sequences, 0, 0)
    return template.format(
        who=labels[0] if labels else "", other=labels[1] if len(labels) > 1 else "",
        rest="、".join(labels[1:]), all="、".join(labels),
        circle=" → ".join((*labels, labels[0])) if labels else "",
        count=problem.count, item=_item_name(problem.item_index),
        first=sequences[0], second=sequences[1], consequence=_consequence(problem.outcome),
        counted_as=_count_as(problem.counted_as or CountAs.ABSTAIN))


def summary_lines(tally: Tally) -> list[str]:
    """The whole tally as text lines (the command line's output and the results sheet)."""
    counts = tally.counts
    lines = [
        _("Voters {eligible}: in person {in_person}, proxies to members {to_holder}, "
          "proxies to the chair {to_chair}, written {written}, absent {absent}, "
          "no reply {no_reply}, lapsed {lapsed}").format(
              eligible=counts.eligible, in_person=counts.in_person,
              to_holder=counts.to_holder, to_chair=counts.to_chair, written=counts.written,
              absent=counts.absent, no_reply=counts.no_reply, lapsed=counts.lapsed),
        quorum_text(tally),
    ]
    for result in tally.items:
        lines.append(_("Item {number}: {title} ({rule})").format(
            number=result.index + 1, title=result.item.title,
            rule=majority_text(result.item.majority)))
        lines.extend("  " + line for line in item_breakdown(result, tally.rules))
        lines.append("  " + result.arithmetic)
    for problem in tally.problems:
        lines.append(problem.message)
    return lines

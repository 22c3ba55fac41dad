"""``kairan meeting``: the general meetings (総会) of the association file and their tallies.

    kairan --db PATH meeting list
    kairan --db PATH meeting tally ID [--format text|json]

The text is what the results sheet says (quorum and every item with its arithmetic, the
problems), then who has not returned a form, per 班; the JSON has the same figures as values
for scripts. Nothing here imports Qt or reportlab.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.i18n import _

if TYPE_CHECKING:
    from desktop.domain.meeting import Tally, VoteCount
    from desktop.domain.meeting.meetings import MeetingRecord

FORMATS = ("text", "json")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``meeting list`` and ``meeting tally``."""
    parser = commands.add_parser("meeting", help=_("general meetings (総会) and their tallies"))
    actions = parser.add_subparsers(dest="meeting_command", required=True, metavar="ACTION")
    actions.add_parser("list", help=_("list the meetings with their ids, newest first"))
    tally = actions.add_parser(
        "tally", help=_("the tally of a meeting: quorum, every item with its arithmetic, "
                        "problems, and who has not returned a form"))
    tally.add_argument("meeting", metavar="ID",
                       help=_("the meeting's id (the first few characters are enough)"))
    tally.add_argument("--format", choices=FORMATS, default="text")


def run(args: argparse.Namespace, db: Path) -> int:
    """Run ``meeting list`` or ``meeting tally``."""
    if args.meeting_command == "list":
        return list_meetings(db)
    return print_tally(db, reference=args.meeting, fmt=args.format)


def list_meetings(db: Path) -> int:
    """Print the meetings, newest first, with the shortest id prefix that names each, the
    date, the returns so far and the title."""
    from desktop.domain.meeting import meetings
    from desktop.store.association_file import open_association

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            summaries = meetings.list_meetings(session)
    finally:
        association_file.close()
    if not summaries:
        print(_("There are no meetings yet."))
        return 0
    hexes = [summary.id.hex for summary in summaries]
    for summary in summaries:
        own = summary.id.hex
        length = next(size for size in range(meetings.MIN_REFERENCE_LENGTH, 33)
                      if sum(other.startswith(own[:size]) for other in hexes) == 1)
        print(f"{own[:length]}\t{summary.held_on.isoformat()}\t"
              f"{summary.returned}/{summary.voters}\t{summary.title}")
    return 0


def print_tally(db: Path, *, reference: str, fmt: str) -> int:
    """Print the tally of the meeting ``reference`` names, as text or JSON."""
    from desktop.domain.meeting.entries import meeting_tally
    from desktop.domain.meeting.meetings import find_meeting, get_meeting
    from desktop.store.association_file import open_association

    association_file = open_association(db)
    try:
        with association_file.read() as session:
            meeting_id = find_meeting(session, reference=reference)
            record = get_meeting(session, meeting_id=meeting_id)
            result = meeting_tally(session, meeting_id=meeting_id)
    finally:
        association_file.close()
    if fmt == "json":
        json.dump(tally_json(record, result), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(tally_text(record, result)))
    return 0


def tally_text(record: MeetingRecord, result: Tally) -> list[str]:
    """The tally as lines: the meeting, the summary of the results sheet, then the voters
    who have not returned anything, per 班."""
    from desktop.domain.meeting.explain import summary_lines
    from desktop.domain.wareki import format_dual

    data = record.data
    lines = [_("{title} — {date}, {place} (voter list of {record_date})").format(
        title=data.title, date=format_dual(data.held_on), place=data.place or "—",
        record_date=format_dual(data.record_date)), *summary_lines(result)]
    if result.not_returned:
        lines.append(_("Not returned yet ({count}):").format(
            count=sum(len(chase.voters) for chase in result.not_returned)))
        lines.extend(_("  {group} ({count}): {voters}").format(
            group=chase.group_name or _("no 班"), count=len(chase.voters),
            voters="、".join(voter.label for voter in chase.voters))
            for chase in result.not_returned)
    return lines


def _counts(votes: VoteCount) -> dict[str, int]:
    return {"for": votes.for_, "against": votes.against, "abstain": votes.abstain}


def tally_json(record: MeetingRecord, result: Tally) -> dict[str, Any]:
    """The tally as JSON-ready values (the keys are stable; texts are in the CLI's
    language)."""
    from desktop.domain.meeting.explain import majority_text, quorum_text

    data, counts, quorum = record.data, result.counts, result.quorum
    return {
        "meeting": {"id": str(record.id), "title": data.title,
                    "held_on": data.held_on.isoformat(), "place": data.place,
                    "record_date": data.record_date.isoformat(), "chair": result.chair_key},
        "rules": result.rules.as_dict(),
        "counts": {"eligible": counts.eligible, "in_person": counts.in_person,
                   "proxies_to_members": counts.to_holder,
                   "proxies_to_chair": counts.to_chair, "written": counts.written,
                   "absent": counts.absent, "no_reply": counts.no_reply,
                   "lapsed": counts.lapsed, "present": counts.present},
        "quorum": {"eligible": quorum.eligible, "required": quorum.required,
                   "in_person": quorum.in_person, "proxies": quorum.proxies,
                   "written": quorum.written, "counted": quorum.counted,
                   "reached": quorum.reached, "margin": quorum.margin,
                   "text": quorum_text(result)},
        "items": [{
            "number": item.index + 1, "title": item.item.title,
            "majority": {"numerator": item.item.majority.numerator,
                         "denominator": item.item.majority.denominator,
                         "strict": item.item.majority.strict,
                         "base": str(item.item.majority.base),
                         "text": majority_text(item.item.majority)},
            "added_after_forms": item.item.added_after_forms,
            "votes": _counts(item.votes), "written": _counts(item.written),
            "chair": _counts(item.chair), "floor": _counts(item.floor),
            "floor_entered": item.floor_entered, "blank": item.blank,
            "spoiled": item.spoiled, "not_counted": item.not_counted, "base": item.base,
            "required": item.required, "passed": item.passed,
            "arithmetic": item.arithmetic,
        } for item in result.items],
        "problems": [{
            "kind": str(problem.kind), "severity": str(problem.severity),
            "item": None if problem.item_index is None else problem.item_index + 1,
            "voters": list(problem.labels), "entries": list(problem.sequences),
            "message": problem.message,
        } for problem in result.problems],
        "not_returned": [{
            "group": chase.group_name,
            "voters": [{"number": voter.number, "name": voter.name}
                       for voter in chase.voters],
        } for chase in result.not_returned],
    }

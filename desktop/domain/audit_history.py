"""Reading the audit trail: the history newest first, searched and filtered, in words, and
written to .xlsx or .csv.

Search folds like the roster's search (full/half width, katakana as hiragana, no spaces), so
「ヤマダ」 finds 山田's records by their furigana and 「12」 a household number. No Qt here.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from desktop.domain.audit_chain import LABEL_KEY, REDACTED
from desktop.domain.errors import KairanError
from desktop.domain.stored_values import stored_time
from desktop.domain.text import fold_for_search
from desktop.i18n import N_, _

Progress = Callable[[int, int], None]
RELAY_ACTOR = "@relay"  # what residents did, applied from the relay (``audit.RELAY``)

ENTITY_LABELS: dict[str, str] = {
    "association": N_("Association"),
    "household": N_("Household"),
    "member": N_("Member of a household"),
    "roster_group": N_("Group (班/地区)"),
    "role": N_("Role"),
    "role_assignment": N_("Role holder"),
    "role_conflict": N_("Incompatible roles"),
    "circular": N_("Circular (回覧)"),
    "circular_attachment": N_("Picture or PDF of a circular"),
    "reply": N_("Answer to a circular"),
    "meeting": N_("General meeting (総会)"),
    "meeting_item": N_("Agenda item"),
    "meeting_voter": N_("Voter list"),
    "meeting_entry": N_("Meeting entry"),
    "meeting_floor_vote": N_("Show of hands"),
    "meeting_rules": N_("Meeting rules"),
    "safety_answer": N_("Safety answer"),
    "disaster_event": N_("Disaster mode"),
    "handover": N_("Officer handover"),
    "handover_memo": N_("Handover memo"),
    "officer_profile": N_("Officer profile"),
}
ACTION_LABELS: dict[str, str] = {
    "insert": N_("Added"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
}
# The fields worth a name of their own; the others show as stored.
FIELD_LABELS: dict[str, str] = {
    "number": N_("Household number (世帯番号)"),
    "display_name": N_("Head of household (世帯主)"),
    "name": N_("Name or title"),
    "furigana": N_("Furigana"),
    "postal_code": N_("Postal code (郵便番号)"),
    "address": N_("Address"),
    "phone": N_("Phone"),
    "email": N_("E-mail (メール)"),
    "emails": N_("E-mail (メール)"),
    "channel": N_("Notices by (配布方法)"),
    "group_id": N_("Group (班)"),
    "parent_id": N_("District (地区)"),
    "circulation_order": N_("Place on the route"),
    "joined_on": N_("Joined on (入会日)"),
    "left_on": N_("Withdrew on (退会日)"),
    "exempt_han_leader": N_("Exempt from 班長 (班長免除)"),
    "exempt_duties": N_("Exempt from duties (役員免除)"),
    "notes": N_("Notes (備考)"),
    "relation": N_("Relation (続柄)"),
    "is_head": N_("Head of household (世帯主)"),
    "app_access": N_("App access"),
    "members": N_("Members (names)"),
    "role_id": N_("Role"),
    "year": N_("Year (年度)"),
    "title": N_("Title"),
    "status": N_("Status"),
    "answers": N_("Answers"),
    "recipients": N_("Households it went to"),
    "voters": N_("Voters"),
    "kind": N_("Kind"),
    "source": N_("Came by"),
    "votes": N_("Votes per item"),
    "holder_key": N_("Proxy holder"),
    "cancels": N_("Cancels entry"),
    "entered_at": N_("Entered at"),
    "entered_by": N_("Entered by"),
    "received_at": N_("Received at"),
    "item_index": N_("Item"),
    "for_": N_("For"),
    "against": N_("Against"),
    "abstain": N_("Abstain"),
    "issued_on": N_("Issued on"),
    "issuer": N_("Issuer"),
    "deadline": N_("Deadline"),
    "body": N_("Text of the circular"),
    "held_on": N_("Held on"),
    "record_date": N_("Record date (基準日)"),
    "message": N_("Message"),
    "text": N_("Memo"),
    "note": N_("Note"),
    "needs_help": N_("Needs help"),
    "required": N_("Required"),
    "pin": N_("PIN set"),
    "active": N_("In use"),
}
# References the record names otherwise (its summary or label): not worth a line.
HIDDEN_FIELDS = frozenset({"meeting_id", "circular_id", "member_id", "voter_key", "sequence"})
# Stored codes in words, by field.
VALUE_LABELS: dict[tuple[str, str], str] = {
    ("kind", "attend"): N_("in person"),
    ("kind", "proxy"): N_("proxy"),
    ("kind", "written"): N_("written vote"),
    ("kind", "absent"): N_("absent"),
    ("kind", "cancel"): N_("cancellation of an entry"),
    ("source", "form"): N_("returned form"),
    ("source", "door"): N_("check-in at the door"),
    ("source", "relay"): N_("resident's page"),
    ("channel", "paper"): N_("Paper"),
    ("channel", "app"): N_("App"),
    ("channel", "email"): N_("E-mail"),
    ("channel", "phone"): N_("Phone"),
    ("channel", "in_person"): N_("In person"),
    ("status", "draft"): N_("Draft"),
    ("status", "sent"): N_("Sent"),
}
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}")
_FIELD_ORDER = {key: place for place, key in enumerate(FIELD_LABELS)}
_QUERY = ("SELECT seq, at, actor, profile_id, action, entity, entity_id, household_id, "
          "summary, changes, redacted_at FROM audit_record")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a record: its value before and after (None: none)."""

    field: str
    old: object
    new: object


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One record of the trail, as the history shows it."""

    seq: int
    at: datetime  # aware, UTC
    actor: str
    profile_id: uuid.UUID | None
    action: str
    entity: str
    entity_id: str
    household_id: uuid.UUID | None
    summary: str
    changes: Mapping[str, object]
    redacted: bool = False

    @property
    def label(self) -> str:
        """The name the record is about (a person's, a household's), if it keeps one."""
        value = self.changes.get(LABEL_KEY)
        return value if isinstance(value, str) else ""

    def field_changes(self) -> list[FieldChange]:
        """The fields changed worth showing, the named ones first in a fixed order."""
        found = [FieldChange(key, *_pair(value)) for key, value in self.changes.items()
                 if key != LABEL_KEY and key not in HIDDEN_FIELDS]
        return sorted(found, key=lambda change: (_FIELD_ORDER.get(change.field, 999),
                                                 change.field))


def _pair(value: object) -> tuple[object, object]:
    if isinstance(value, list) and len(value) == 2:
        return value[0], value[1]
    return None, value


def _hex_uuid(value: object) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(hex=str(value))


def _time(value: object) -> datetime:
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


class _Words(dict[str, str]):
    """What a record's kind and action are called, worked out once per search."""

    def __missing__(self, key: str) -> str:
        kind, _sep, value = key.partition(":")
        words = self[key] = entity_label(value) if kind == "e" else action_label(value)
        return words


def _haystack(words: _Words, actor: str, summary: str, changes: str, *, entity: str,
              action: str) -> str:
    if "\\u" in changes:  # written with ASCII escapes (not by Kairan): search the text
        changes = json.dumps(json.loads(changes), ensure_ascii=False)
    return fold_for_search("\x1f".join((actor, summary, changes, words["e:" + entity],
                                        words["a:" + action])))


def history(session: Session, *, household_id: uuid.UUID | None = None, text: str = "",
            since: datetime | None = None, until: datetime | None = None,
            limit: int | None = None,
            cancelled: Callable[[], bool] | None = None) -> list[AuditEntry]:
    """The records newest first: of one household, matching every word of ``text``, made
    from ``since`` up to ``until`` (aware datetimes), at most ``limit`` of them.
    ``cancelled`` is asked now and then during a long search; True stops it."""
    conditions: list[str] = []
    parameters: list[object] = []
    if household_id is not None:
        conditions.append("household_id = ?")
        parameters.append(household_id.hex)
    if since is not None:
        conditions.append("at >= ?")
        parameters.append(stored_time(since))
    if until is not None:
        conditions.append("at <= ?")
        parameters.append(stored_time(until))
    sql = _QUERY + (f" WHERE {' AND '.join(conditions)}" if conditions else "")
    sql += " ORDER BY seq DESC"
    terms = [term for term in (fold_for_search(word) for word in text.split()) if term]
    driver = session.connection().connection.driver_connection
    assert driver is not None
    found: list[AuditEntry] = []
    words = _Words()
    for scanned, (seq, at, actor, profile_id, action, entity, entity_id, household, summary,
                  changes, redacted_at) in enumerate(driver.execute(sql, parameters)):
        if cancelled is not None and scanned % 1000 == 999 and cancelled():
            break
        if terms:
            haystack = _haystack(words, actor, summary, changes, entity=entity, action=action)
            if not all(term in haystack for term in terms):
                continue
        found.append(AuditEntry(int(seq), _time(at), actor, _hex_uuid(profile_id), action,
                                entity, entity_id, _hex_uuid(household), summary,
                                json.loads(changes), redacted_at is not None))
        if limit is not None and len(found) >= limit:
            break
    return found


def id_names(session: Session) -> dict[str, str]:
    """Names of the groups and roles by their stored ids, to show ids in changes as names."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    names: dict[str, str] = {}
    for table in ("roster_group", "role"):
        names.update(driver.execute(f"SELECT id, name FROM {table}").fetchall())
    return names


# ---------------------------------------------------------------- in words


def entity_label(entity: str) -> str:
    """What kind of thing a record is about."""
    return _(ENTITY_LABELS[entity]) if entity in ENTITY_LABELS else entity


def action_label(action: str) -> str:
    """Added, changed or deleted."""
    return _(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def field_label(field: str) -> str:
    """The name of a changed field."""
    return _(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def actor_label(actor: str) -> str:
    """Who made a change; changes made without a chosen profile say so."""
    if actor == RELAY_ACTOR:
        return _("Residents (through the relay)")
    return actor or _("(no officer chosen)")


def value_text(value: object, names: Mapping[str, str] | None = None, *,
               field: str = "") -> str:
    """A stored value in words: yes/no, codes by name, times on this PC's clock, lists
    joined, known ids (``names``) by name."""
    text: str
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = _("yes") if value else _("no")
    elif isinstance(value, list):
        text = "、".join(value_text(item, names, field=field) for item in value)
    elif isinstance(value, dict):
        text = str(value["name"]) if "name" in value else json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
        if (field, text) in VALUE_LABELS:
            text = _(VALUE_LABELS[field, text])
        elif _ISO_MOMENT.fullmatch(text):
            text = f"{local_time(_time(text)):%Y-%m-%d %H:%M}"
        elif names is not None:
            text = names.get(text, text)
    return text


def what_text(entry: AuditEntry) -> str:
    """「世帯 0012 山田 太郎」: the kind of thing, its summary and the name it keeps."""
    return " ".join(part for part in (entity_label(entry.entity), entry.summary, entry.label)
                    if part)


def local_time(at: datetime) -> datetime:
    """A record's time on this PC's clock, without the zone (as shown and exported)."""
    return at.astimezone().replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- export


def _rows(entries: Sequence[AuditEntry], names: Mapping[str, str] | None,
          progress: Progress | None) -> Iterable[list[object]]:
    total = len(entries)
    for done, entry in enumerate(entries, start=1):
        head: list[object] = [entry.seq, local_time(entry.at), actor_label(entry.actor),
                              action_label(entry.action), what_text(entry)]
        changes = entry.field_changes()
        if not changes:
            yield [*head, "", "", ""]
        for change in changes:
            yield [*head, field_label(change.field),
                   value_text(change.old, names, field=change.field),
                   value_text(change.new, names, field=change.field)]
        if progress is not None and (done % 500 == 0 or done == total):
            progress(done, total)


def _header() -> list[str]:
    return [_("No."), _("When"), _("Who"), _("Change"), _("What"), _("Field"),
            _("Before"), _("After")]


def export_history(entries: Sequence[AuditEntry], path: Path, *,
                   names: Mapping[str, str] | None = None,
                   progress: Progress | None = None) -> None:
    """Write ``entries`` to ``path``: .xlsx (one sheet) or .csv (UTF-8 with a BOM, which
    Excel reads as Japanese), one row per changed field. Never leaves half a file."""
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise KairanError(_("The history is exported as an Excel file (.xlsx) or a CSV file "
                            "(.csv). Name the file so that it ends in one of them, for "
                            "example {example}.").format(example=path.with_suffix(".xlsx").name))
    if suffix == ".csv":
        _export_csv(entries, path, names, progress)
    else:
        _export_xlsx(entries, path, names, progress)
    if progress is not None and not entries:
        progress(0, 0)


def _export_csv(entries: Sequence[AuditEntry], path: Path, names: Mapping[str, str] | None,
                progress: Progress | None) -> None:
    from reports.output import replacing

    with replacing(path, open_elsewhere=_(
            "{file} cannot be replaced: it is open in another program (perhaps Excel) or "
            "read-only. Close it there and export again.").format(file=path)) as temporary, \
            temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_header())
        for row in _rows(entries, names, progress):
            writer.writerow([value.isoformat(sep=" ") if isinstance(value, datetime) else value
                             for value in row])


def _export_xlsx(entries: Sequence[AuditEntry], path: Path, names: Mapping[str, str] | None,
                 progress: Progress | None) -> None:
    from openpyxl import Workbook

    from reports.xlsx_files import discard_workbook, save_workbook

    workbook = Workbook(write_only=True)
    try:
        sheet: Any = workbook.create_sheet(_("History"))
        sheet.append(_header())
        for row in _rows(entries, names, progress):
            sheet.append(row)
        save_workbook(workbook, path)
    except BaseException:
        discard_workbook(workbook)
        raise


__all__ = ["ACTION_LABELS", "ENTITY_LABELS", "FIELD_LABELS", "HIDDEN_FIELDS", "REDACTED",
           "RELAY_ACTOR", "VALUE_LABELS",
           "AuditEntry",
           "FieldChange", "action_label", "actor_label", "entity_label", "export_history",
           "field_label", "history", "id_names", "local_time", "value_text", "what_text"]

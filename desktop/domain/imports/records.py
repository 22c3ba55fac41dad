"""From mapped spreadsheet rows to households with members, normalised and validated.

A file holds one row per household, or one row per member (grouped by 世帯番号, by rows with
an empty number continuing the household above, or by a 続柄 of 本人/世帯主 starting a new
household). Values are normalised the way officers write them (full-width digits, 「第3班」,
half-width katakana, 和暦 and Excel serial dates); names are kept as written. Every problem
names the sheet, the row and the column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from desktop.domain.errors import ValidationError
from desktop.domain.households import HouseholdData, MemberData, clean_household, clean_members
from desktop.domain.imports.model import Field, RawRow
from desktop.domain.models import NoticeChannel
from desktop.domain.text import normalise_furigana
from desktop.domain.wareki import parse_date_value
from desktop.i18n import _

HEAD_RELATIONS = frozenset({"本人", "世帯主", "主"})

# The words officers use for how a household gets the 回覧.
_CHANNEL_WORDS: dict[NoticeChannel, tuple[str, ...]] = {
    NoticeChannel.PAPER: ("紙", "回覧", "回覧板", "paper", "配布", "手配り", "ポスト"),
    NoticeChannel.APP: ("アプリ", "app", "スマホ", "スマートフォン", "line"),
    NoticeChannel.EMAIL: ("メール", "mail", "email", "e-mail", "eメール"),
}
_GROUP_NUMBER = re.compile(r"^第?(\d+)(班|組)?$")
_EMAIL_SEPARATORS = re.compile(r"[、,;\s]+")

# Household fields each column feeds (members take name, furigana, relation, phone, email).
_HOUSEHOLD_FIELDS = {
    Field.NUMBER: "number", Field.NAME: "display_name", Field.FURIGANA: "furigana",
    Field.POSTAL_CODE: "postal_code", Field.ADDRESS: "address", Field.PHONE: "phone",
    Field.EMAIL: "emails", Field.CHANNEL: "channel", Field.JOINED_ON: "joined_on",
    Field.NOTES: "notes", Field.EXEMPT_HAN_LEADER: "exempt_han_leader",
}
_YES = frozenset({"○", "◯", "〇", "●", "レ", "✓", "1", "はい", "yes", "true", "済", "免除"})


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row (or a household made of several rows) cannot be imported."""

    sheet: str
    row: int
    field: Field | None
    message: str

    def where(self, file: str) -> str:
        """「file, sheet, row N, column」 for messages."""
        parts = [file] + ([self.sheet] if self.sheet else [])
        parts.append(_("row {row}").format(row=self.row))
        if self.field is not None:
            parts.append(field_title(self.field))
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ImportedHousehold:
    """A household as the file describes it, normalised and valid.

    ``given`` names the HouseholdData fields the file has columns for: a field the file does
    not carry is left as it is on an existing household. ``members`` is None when the file
    says nothing about members (one row per household without member columns).
    """

    sheet: str
    rows: tuple[int, ...]
    group: str | None  # the 班 as written, normalised (「3班」), or None
    data: HouseholdData
    members: tuple[MemberData, ...] | None
    given: frozenset[str] = field(default_factory=frozenset)


def field_title(which: Field) -> str:
    """The column's usual Japanese title, for messages (the officer's own header may differ)."""
    return {
        Field.NUMBER: "世帯番号", Field.GROUP: "班", Field.NAME: "氏名", Field.FURIGANA: "フリガナ",
        Field.RELATION: "続柄", Field.ADDRESS: "住所", Field.POSTAL_CODE: "郵便番号",
        Field.PHONE: "電話", Field.EMAIL: "メール", Field.NOTES: "備考",
        Field.CHANNEL: "配布方法", Field.JOINED_ON: "入会日", Field.EXEMPT_HAN_LEADER: "班長免除",
    }[which]


def group_key(name: str) -> str:
    """The identity of a 班 name: 「３班」「第3班」「3」 and 「3班」 are one group."""
    text = unicodedata.normalize("NFKC", name).replace(" ", "").strip()
    match = _GROUP_NUMBER.match(text)
    return match[1].lstrip("0") or "0" if match else text


def normalise_group(value: object) -> str | None:
    """The 班 as Kairan names it: a number becomes 「N班」, other names stay as written."""
    text = _text(value)
    if not text:
        return None
    normal = unicodedata.normalize("NFKC", text).replace(" ", "")
    match = _GROUP_NUMBER.match(normal)
    if match:
        return f"{int(match[1])}{match[2] or '班'}"
    return normal


def _text(value: object) -> str:
    """A cell as text: numbers without a trailing .0 (Excel stores 12 as 12.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "○" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _number(value: object) -> str:
    return unicodedata.normalize("NFKC", _text(value)).strip()


def _channel(value: object, row: RawRow) -> NoticeChannel | None:
    text = unicodedata.normalize("NFKC", _text(value)).lower().replace(" ", "")
    if not text:
        return None
    for channel, words in _CHANNEL_WORDS.items():
        if any(word in text for word in words):
            return channel
    raise _problem(row, Field.CHANNEL, _("「{value}」 is not a way of receiving notices. "
                                         "Write 紙, アプリ or メール.").format(value=value))


class _RowError(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _problem(row: RawRow, which: Field | None, message: str) -> _RowError:
    return _RowError(RowProblem(row.sheet, row.row, which, message))


def _date(value: object, row: RawRow) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_value(value)
    except ValueError:
        raise _problem(row, Field.JOINED_ON, _("「{value}」 is not a date. Write it as "
                                               "令和7年4月1日 or 2025/4/1.").format(value=value)
                       ) from None


def _member(row: RawRow, *, is_head: bool) -> MemberData:
    values = row.values
    return MemberData(
        name=_text(values.get(Field.NAME)),
        furigana=normalise_furigana(_text(values.get(Field.FURIGANA))),
        relation=_text(values.get(Field.RELATION)),
        is_head=is_head,
        phone=_text(values.get(Field.PHONE)),
        email=_text(values.get(Field.EMAIL)),
    )


def _household_data(head: RawRow) -> HouseholdData:
    """The household's own facts, from its first (or 世帯主's) row; other member rows' phone
    and e-mail belong to those members."""
    values = head.values
    cell = _text(values.get(Field.EMAIL))
    emails = tuple(dict.fromkeys(email for email in _EMAIL_SEPARATORS.split(cell) if email))
    return HouseholdData(
        number=_number(values.get(Field.NUMBER)),
        display_name=_text(values.get(Field.NAME)),
        furigana=normalise_furigana(_text(values.get(Field.FURIGANA))),
        postal_code=_text(values.get(Field.POSTAL_CODE)),
        address=_text(values.get(Field.ADDRESS)),
        phone=_text(values.get(Field.PHONE)),
        channel=_channel(values.get(Field.CHANNEL), head) or NoticeChannel.PAPER,
        emails=emails,
        joined_on=_date(values.get(Field.JOINED_ON), head),
        exempt_han_leader=_yes(values.get(Field.EXEMPT_HAN_LEADER)),
        notes=_text(values.get(Field.NOTES)),
    )


def _yes(value: object) -> bool:
    """A mark such as ○ in a yes/no column."""
    if isinstance(value, bool):
        return value
    return unicodedata.normalize("NFKC", _text(value)).lower() in _YES


def _validated(data: HouseholdData, members: tuple[MemberData, ...] | None,
               rows: Sequence[RawRow]) -> tuple[HouseholdData, tuple[MemberData, ...] | None]:
    """Validate with the editor's own rules, pointing problems at the row and column."""
    field_of = {value: key for key, value in _HOUSEHOLD_FIELDS.items()}
    try:
        cleaned = clean_household(data)
    except ValidationError as error:
        which = field_of.get(error.field or "")
        raise _problem(rows[0], which, error.message) from None
    if members is None:
        return cleaned, None
    try:
        return cleaned, clean_members(members)
    except ValidationError as error:
        index = _member_index(error.message, len(members))
        row = rows[min(index, len(rows) - 1)]
        raise _problem(row, None, error.message) from None


def _member_index(message: str, count: int) -> int:
    match = re.search(r"(\d+)", message)
    return max(0, min(count - 1, int(match[1]) - 1)) if match else 0


def _split_households(rows: Sequence[RawRow], by_member: bool) -> list[list[RawRow]]:
    if not by_member:
        return [[row] for row in rows]
    households: list[list[RawRow]] = []
    current_number: str | None = None
    for row in rows:
        number = _number(row.values.get(Field.NUMBER))
        relation = _text(row.values.get(Field.RELATION))
        starts = (
            not households
            or (number and number != current_number)
            or (not number and current_number is None and relation in HEAD_RELATIONS)
        )
        if starts:
            households.append([row])
            current_number = number or None
        else:
            households[-1].append(row)
    return households


def is_member_per_row(rows: Sequence[RawRow], columns: set[Field]) -> bool:
    """Whether the rows list members (a 続柄 column, or a 世帯番号 used on several rows)."""
    if Field.RELATION in columns:
        return True
    numbers = [_number(row.values.get(Field.NUMBER)) for row in rows]
    filled = [number for number in numbers if number]
    return len(filled) != len(set(filled)) or (Field.NUMBER in columns and
                                                len(filled) < len(numbers))


def build_households(
    rows: Sequence[RawRow], columns: set[Field], *, member_per_row: bool | None = None
) -> tuple[list[ImportedHousehold], list[RowProblem]]:
    """Group and normalise the rows; returns the valid households and every row problem."""
    by_member = is_member_per_row(rows, columns) if member_per_row is None else member_per_row
    given = frozenset(_HOUSEHOLD_FIELDS[key] for key in columns if key in _HOUSEHOLD_FIELDS)
    households: list[ImportedHousehold] = []
    problems: list[RowProblem] = []
    for group_rows in _split_households(rows, by_member):
        try:
            households.append(_one_household(group_rows, by_member, given))
        except _RowError as error:
            problems.append(error.problem)
    return households, problems


def _one_household(rows: list[RawRow], by_member: bool,
                   given: frozenset[str]) -> ImportedHousehold:
    members: tuple[MemberData, ...] | None = None
    head = rows[0]
    if by_member:
        heads = [r for r in rows if _text(r.values.get(Field.RELATION)) in HEAD_RELATIONS]
        head = heads[0] if heads else rows[0]
        members = tuple(_member(row, is_head=row is head) for row in rows)
    groups = sorted({g for r in rows if (g := normalise_group(r.values.get(Field.GROUP)))})
    if len(groups) > 1:
        raise _problem(rows[-1], Field.GROUP, _(
            "The rows of one household name different groups ({groups}). "
            "Put them in one 班.").format(groups="、".join(groups)))
    data = _household_data(head)
    numbered = "number" in given
    # A file without 世帯番号 gets numbers when it is imported: validate the rest now.
    checked, members = _validated(data if numbered else replace(data, number="0"), members,
                                  rows)
    if not numbered:
        checked = replace(checked, number="")
    return ImportedHousehold(rows[0].sheet, tuple(r.row for r in rows),
                             groups[0] if groups else None, checked, members, given)

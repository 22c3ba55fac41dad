"""From mapped spreadsheet rows to households with members, normalised and validated.

A file holds one row per household, or one row per member (grouped by 世帯番号, by rows with
an empty number continuing the household above, or by a 続柄 of 本人/世帯主 starting a new
household). A row-per-member file may carry the household's own columns beside the member's,
as Kairan exports it: 世帯主 and フリガナ (the household's name and reading), 氏名, 続柄 and
氏名フリガナ (the member's); there the other columns (電話, メール, 住所 …) are the household's,
repeated on each member's row, and a row with empty member cells is a household without
members; there the head of household is the member whose 続柄 says so (本人/世帯主), else
the one named like the 世帯主 — a guess that does not overrule the roster's own head, as
Kairan's export does not say who it is. Values are normalised the way officers write them
(full-width digits, 「第3班」, half-width katakana, 和暦 and Excel serial dates) and validated
with the household editor's own rules (``clean_household``, ``clean_members``); names are
kept as written. Every problem names the sheet, the row and the column.

A roster of 50,000 households is 120,000 rows: they are converted a column at a time (a
value that repeats, such as a 班 or 配布方法, once), and nothing is made per row that is not
needed per household.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from desktop.domain.errors import ValidationError
from desktop.domain.gc_pause import without_gc_pauses
from desktop.domain.households import HouseholdData, MemberData, clean_household, clean_members
from desktop.domain.imports.model import Field, RawRow, RowColumns
from desktop.domain.models import NoticeChannel
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
    Field.HOUSEHOLD_NAME: "display_name", Field.HOUSEHOLD_FURIGANA: "furigana",
    Field.POSTAL_CODE: "postal_code", Field.ADDRESS: "address", Field.PHONE: "phone",
    Field.EMAIL: "emails", Field.CHANNEL: "channel", Field.JOINED_ON: "joined_on",
    Field.NOTES: "notes", Field.EXEMPT_HAN_LEADER: "exempt_han_leader",
}
# The MemberData fields a file can give; the others (app access, notes) are Kairan's own.
MEMBER_FIELDS = frozenset({"name", "furigana", "relation", "is_head", "phone", "email"})
_YES = frozenset({"○", "◯", "〇", "●", "レ", "✓", "1", "はい", "yes", "true", "済", "免除"})


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row (or a household made of several rows) cannot be imported."""

    sheet: str
    row: int
    field: Field | None
    message: str
    number: str = ""  # the household's 世帯番号, when the file gives one

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
    says nothing about members (one row per household without member columns);
    ``member_given`` names the MemberData fields the file gives for members (a member already
    in the roster keeps the others).
    """

    sheet: str
    rows: tuple[int, ...]
    group: str | None  # the 班 as written, normalised (「3班」), or None
    data: HouseholdData
    members: tuple[MemberData, ...] | None
    given: frozenset[str] = field(default_factory=frozenset)
    member_given: frozenset[str] = MEMBER_FIELDS


def field_title(which: Field) -> str:
    """The column's usual Japanese title, for messages (the officer's own header may differ)."""
    return {
        Field.NUMBER: "世帯番号", Field.GROUP: "班", Field.NAME: "氏名", Field.FURIGANA: "フリガナ",
        Field.RELATION: "続柄", Field.ADDRESS: "住所", Field.POSTAL_CODE: "郵便番号",
        Field.PHONE: "電話", Field.EMAIL: "メール", Field.NOTES: "備考",
        Field.CHANNEL: "配布方法", Field.JOINED_ON: "入会日", Field.EXEMPT_HAN_LEADER: "班長免除",
        Field.HOUSEHOLD_NAME: "世帯主", Field.HOUSEHOLD_FURIGANA: "世帯主フリガナ",
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


def _channel(value: object, where: tuple[str, int]) -> NoticeChannel | None:
    text = unicodedata.normalize("NFKC", _text(value)).lower().replace(" ", "")
    if not text:
        return None
    for channel, words in _CHANNEL_WORDS.items():
        if any(word in text for word in words):
            return channel
    raise _problem(where, Field.CHANNEL, _("「{value}」 is not a way of receiving notices. "
                                         "Write 紙, アプリ or メール.").format(value=value))


class _RowError(Exception):
    def __init__(self, problem: RowProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _problem(where: tuple[str, int], which: Field | None, message: str) -> _RowError:
    """A problem at (sheet, row)."""
    return _RowError(RowProblem(where[0], where[1], which, message))


def _date(value: object, where: tuple[str, int]) -> date | None:
    if value is None or value == "":
        return None
    try:
        return parse_date_value(value)
    except ValueError:
        raise _problem(where, Field.JOINED_ON, _("「{value}」 is not a date. Write it as "
                                               "令和7年4月1日 or 2025/4/1.").format(value=value)
                       ) from None


def _yes(value: object) -> bool:
    """A mark such as ○ in a yes/no column."""
    if isinstance(value, bool):
        return value
    return unicodedata.normalize("NFKC", _text(value)).lower() in _YES


def _member_index(message: str, count: int) -> int:
    match = re.search(r"(\d+)", message)
    return max(0, min(count - 1, int(match[1]) - 1)) if match else 0


# ---------------------------------------------------------------- the rows, column by column


def _cell(value: object) -> str:
    """:func:`_text`, quicker for text and empty cells."""
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else _text(value)


def _texts(values: list[object]) -> list[str]:
    """:func:`_text` of every value (written out: it runs for every cell of big rosters)."""
    return [value.strip() if value.__class__ is str else "" if value is None else _text(value)
            for value in values]


def _numbers(texts: list[str]) -> list[str]:
    """The 世帯番号 of every text: NFKC (full-width digits), trimmed; ASCII is as it is."""
    normalize = unicodedata.normalize
    return [text if text.isascii() else normalize("NFKC", text).strip() for text in texts]


class _Table:
    """The mapped values of the rows, a list per field, converted once and only when asked
    for: a roster of 120,000 rows is converted column by column, not cell by cell."""

    def __init__(self, source: Sequence[RawRow] | RowColumns) -> None:
        self._source = source
        if isinstance(source, RowColumns):
            self.sheets, self.rows = source.sheets, source.rows
            self._raw = dict(source.values)
        else:
            self.sheets = [row.sheet for row in source]
            self.rows = [row.row for row in source]
            self._raw = {}
        self._texts: dict[Field, list[str]] = {}
        self._numbers: list[str] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def where(self, index: int) -> tuple[str, int]:
        """The sheet and row number of row ``index``."""
        return self.sheets[index], self.rows[index]

    def raw(self, which: Field) -> list[object]:
        found = self._raw.get(which)
        if found is None:
            source = self._source
            found = self._raw[which] = (
                [None] * len(self.rows) if isinstance(source, RowColumns)
                else [row.values.get(which) for row in source])
        return found

    def text(self, which: Field) -> list[str]:
        found = self._texts.get(which)
        if found is None:
            found = self._texts[which] = _texts(self.raw(which))
        return found

    def numbers(self) -> list[str]:
        if self._numbers is None:
            self._numbers = _numbers(self.text(Field.NUMBER))
        return self._numbers


def is_member_per_row(rows: Sequence[RawRow] | RowColumns, columns: set[Field]) -> bool:
    """Whether the rows list members (a 続柄 column, or a 世帯番号 used on several rows)."""
    return _is_member_per_row(_Table(rows), columns)


def _is_member_per_row(table: _Table, columns: set[Field]) -> bool:
    if Field.RELATION in columns:
        return True
    numbers = table.numbers()
    filled = [number for number in numbers if number]
    return len(filled) != len(set(filled)) or (Field.NUMBER in columns and
                                                len(filled) < len(numbers))


def _split_households(table: _Table, by_member: bool) -> list[range]:
    """The rows (positions) of each household, in file order."""
    count = len(table)
    if not by_member:
        return [range(index, index + 1) for index in range(count)]
    numbers = table.numbers()
    relations = table.text(Field.RELATION)
    names = table.text(Field.HOUSEHOLD_NAME) if not all(numbers) else [""] * count
    households: list[range] = []
    current_number: str | None = None
    current_name = ""
    first = 0
    for index in range(count):
        number = numbers[index]
        # Without numbers, a change of the 世帯主 column starts the next household too.
        name = names[index]
        starts = (
            index == 0
            or (number and number != current_number)
            or (not number and current_number is None
                and (relations[index] in HEAD_RELATIONS or (name and name != current_name)))
        )
        if starts:
            if index:
                households.append(range(first, index))
            first = index
            current_number = number or None
        current_name = name or current_name
    if count:
        households.append(range(first, count))
    return households


@without_gc_pauses
def build_households(
    rows: Sequence[RawRow] | RowColumns, columns: set[Field], *,
    member_per_row: bool | None = None
) -> tuple[list[ImportedHousehold], list[RowProblem]]:
    """Group and normalise the rows (row by row, or column by column as ``plan_file`` reads
    big files); returns the valid households and every row problem."""
    table = _Table(rows)
    by_member = (_is_member_per_row(table, columns) if member_per_row is None
                 else member_per_row)
    builder = _Builder(table, columns, by_member)
    households: list[ImportedHousehold] = []
    problems: list[RowProblem] = []
    for positions in _split_households(table, by_member):
        try:
            households.append(builder.household(positions))
        except _RowError as error:
            # Keep the number, so the household is not also proposed for withdrawal.
            number = next((builder.numbers[i] for i in positions if builder.numbers[i]), "")
            problems.append(replace(error.problem, number=number))
    return households, problems


def _member_fields(columns: set[Field], *, separate: bool) -> frozenset[str]:
    """The member fields a row-per-member file gives: name and head always; the others when
    it has their columns (phone and e-mail are the household's when it has separate
    household columns)."""
    given = {"name", "is_head"}
    given |= {key for which, key in ((Field.FURIGANA, "furigana"), (Field.RELATION, "relation"))
              if which in columns}
    if not separate:
        given |= {key for which, key in ((Field.PHONE, "phone"), (Field.EMAIL, "email"))
                  if which in columns}
    return frozenset(given)


class _Builder:
    """Households from the rows of one file: the columns' converted values, and the values
    that repeat (班, 配布方法, marks, dates) converted once each."""

    def __init__(self, table: _Table, columns: set[Field], by_member: bool) -> None:
        self.table = table
        self.by_member = by_member
        self.given = frozenset(_HOUSEHOLD_FIELDS[key] for key in columns
                               if key in _HOUSEHOLD_FIELDS)
        # A 世帯主 column beside the members' 氏名 (Kairan's export): the household's name and
        # reading come from it, its other columns are the household's, not the member's.
        self.separate = Field.HOUSEHOLD_NAME in columns
        self.member_given = (_member_fields(columns, separate=self.separate) if by_member
                             else MEMBER_FIELDS)
        # A head found by name, not marked by 続柄, is a guess: it does not overrule the
        # roster's (Kairan's export does not write who the head is).
        self.head_guessed = self.member_given - {"is_head"}
        name = Field.HOUSEHOLD_NAME if self.separate else Field.NAME
        reading = (Field.HOUSEHOLD_FURIGANA if Field.HOUSEHOLD_FURIGANA in columns
                   else Field.FURIGANA)
        # Which column a problem with a household field points at.
        self.field_of: dict[str, Field] = {
            key: which for which, key in _HOUSEHOLD_FIELDS.items()
                         if which not in (Field.NAME, Field.FURIGANA, Field.HOUSEHOLD_NAME,
                                          Field.HOUSEHOLD_FURIGANA)}
        self.field_of |= {"display_name": name, "furigana": reading}
        self.numbered = "number" in self.given
        self.numbers = table.numbers()
        # The household's own cells are read on its head's row only (converted there).
        self.names = table.raw(name)
        self.readings = table.raw(reading)
        self.groups = table.raw(Field.GROUP)
        self.postal_codes = table.raw(Field.POSTAL_CODE)
        self.addresses = table.raw(Field.ADDRESS)
        self.phones = table.raw(Field.PHONE)
        self.emails = table.raw(Field.EMAIL)
        self.channels = table.raw(Field.CHANNEL)
        self.joined = table.raw(Field.JOINED_ON)
        self.exempt = table.raw(Field.EXEMPT_HAN_LEADER)
        self.notes = table.raw(Field.NOTES)
        if by_member:  # a member on every row
            self.member_names = table.text(Field.NAME)
            self.member_readings = table.text(Field.FURIGANA)
            self.relations = table.text(Field.RELATION)
            self.persons = (
                [name is not None or reading is not None or relation is not None
                 for name, reading, relation in zip(
                     table.raw(Field.NAME), table.raw(Field.FURIGANA),
                     table.raw(Field.RELATION), strict=True)]
                if self.separate else None)
            if not self.separate:  # and their own phone and e-mail
                self.member_phones = table.text(Field.PHONE)
                self.member_emails = table.text(Field.EMAIL)
        # Keyed by (type, value): 1 == 1.0 == True as keys, but not as cells.
        self._group_of: dict[tuple[type, object], str | None] = {}
        self._channel_of: dict[tuple[type, object], NoticeChannel] = {}
        self._date_of: dict[tuple[type, object], date | None] = {}
        self._yes_of: dict[tuple[type, object], bool] = {}

    def household(self, positions: range) -> ImportedHousehold:
        """The household on the rows at ``positions`` (one row, or a row per member)."""
        table = self.table
        first = positions[0]
        head = first
        members: tuple[MemberData, ...] | None = None
        people: list[int] = []
        member_given = self.member_given
        if self.by_member:
            head, people, members, marked = self._members(positions)
            if not marked:
                member_given = self.head_guessed
        group = self._group(positions)
        data = self._data(head)
        if not self.numbered:  # numbered when imported: validate the rest now
            data = replace(data, number="0")
        try:
            checked = clean_household(data)
        except ValidationError as error:
            raise _problem(table.where(first), self.field_of.get(error.field or ""),
                           error.message) from None
        if members is not None:
            try:
                members = clean_members(members)
            except ValidationError as error:
                index = _member_index(error.message, len(members))
                where = table.where(people[index] if people else first)
                raise _problem(where, None, error.message) from None
        if not self.numbered:
            checked = replace(checked, number="")
        return ImportedHousehold(table.sheets[first],
                                 tuple(table.rows[positions.start:positions.stop]),
                                 group, checked, members, self.given, member_given)

    def _members(self, positions: range
                 ) -> tuple[int, list[int], tuple[MemberData, ...], bool]:
        """The head's row, the rows naming members, the members, and whether the head was
        marked (by 続柄, or as the first row of a file without separate household columns)
        rather than guessed by name."""
        relations = self.relations
        if self.separate:
            # The household's own columns repeat on every row; a row with empty member cells
            # is a household without members. The head is marked by 続柄, else is the
            # 世帯主 by name.
            assert self.persons is not None
            persons = self.persons
            people = [i for i in positions if persons[i]]
            person = next((i for i in people if relations[i] in HEAD_RELATIONS), None)
            marked = person is not None
            if person is None:
                household_name = _cell(self.names[positions[0]])
                person = next((i for i in people if self.member_names[i] == household_name),
                              None)
            head = positions[0] if person is None else person
            names, readings = self.member_names, self.member_readings
            members = tuple([MemberData(
                name=names[i],
                furigana=readings[i],
                relation=relations[i],
                is_head=i == person,
            ) for i in people])
            return head, people, members, marked
        people = list(positions)
        head = next((i for i in people if relations[i] in HEAD_RELATIONS), people[0])
        names, readings = self.member_names, self.member_readings
        phones, emails = self.member_phones, self.member_emails
        members = tuple([MemberData(
            name=names[i],
            furigana=readings[i],
            relation=relations[i],
            is_head=i == head,
            phone=phones[i],
            email=emails[i],
        ) for i in people])
        return head, people, members, True

    def _group(self, positions: range) -> str | None:
        groups = self.groups
        group_of = self._group_of
        found: set[str] = set()
        for index in positions:
            value = groups[index]
            if value is None:
                continue
            key = (value.__class__, value)
            group = group_of.get(key, "")
            if group == "":
                group = group_of[key] = normalise_group(value)
            if group:
                found.add(group)
        if len(found) > 1:
            raise _problem(self.table.where(positions[-1]), Field.GROUP, _(
                "The rows of one household name different groups ({groups}). "
                "Put them in one 班.").format(groups="、".join(sorted(found))))
        return found.pop() if found else None

    def _data(self, index: int) -> HouseholdData:
        """The household's own facts, from its first (or 世帯主's) row; other member rows'
        phone and e-mail belong to those members (unless the file has separate household
        columns)."""
        cell = _cell(self.emails[index])
        emails = tuple(dict.fromkeys(email for email in _EMAIL_SEPARATORS.split(cell)
                                     if email)) if cell else ()
        value = self.channels[index]
        channel = self._channel_of.get(key := (value.__class__, value))
        if channel is None:
            channel = self._channel_of[key] = (_channel(value, self.table.where(index))
                                               or NoticeChannel.PAPER)
        value = self.joined[index]
        if (key := (value.__class__, value)) in self._date_of:
            joined = self._date_of[key]
        else:
            joined = self._date_of[key] = _date(value, self.table.where(index))
        value = self.exempt[index]
        exempt = self._yes_of.get(key := (value.__class__, value))
        if exempt is None:
            exempt = self._yes_of[key] = _yes(value)
        return HouseholdData(
            number=self.numbers[index],
            display_name=_cell(self.names[index]),
            furigana=_cell(self.readings[index]),
            postal_code=_cell(self.postal_codes[index]),
            address=_cell(self.addresses[index]),
            phone=_cell(self.phones[index]),
            channel=channel,
            emails=emails,
            joined_on=joined,
            exempt_han_leader=exempt,
            notes=_cell(self.notes[index]),
        )

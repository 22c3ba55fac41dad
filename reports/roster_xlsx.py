"""The roster as an Excel workbook (.xlsx) that prints well and imports back unchanged.

The header is row 1 (no title rows), titled with the Japanese words associations use, so the
importer recognises an exported file and export → import changes nothing. Values that have a
choice of spelling are written in one fixed form whatever the window's language: 配布方法 as
アプリ / メール / 紙, 班長免除 as ○, 状態 as 退会, e-mail addresses joined by 「、」, 入会日 as a
real date cell shown yyyy/mm/dd, 世帯番号 and phone numbers as text.

One sheet 「名簿」 in 50音順, or one sheet per 班 in circulation order. The workbook is written
to a temporary file beside the target and renamed at the end, so a failure (or a progress
callback that raises to cancel) never leaves half a file. No Qt here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from pathlib import Path
from typing import Protocol, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.page import PageMargins, PrintOptions, PrintPageSetup
from openpyxl.worksheet.properties import PageSetupProperties, WorksheetProperties
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from desktop.domain.association import get_association
from desktop.domain.groups import GroupNode, group_tree
from desktop.domain.models import GroupKind, Household, Member
from desktop.domain.roster import COLUMN_KEYS, load_roster
from desktop.domain.wareki import format_wareki
from reports.xlsx_files import check_xlsx_target, discard_workbook, save_workbook

__all__ = [
    "CHANNEL_WORDS",
    "EXPORT_COLUMNS",
    "MEMBER_KEYS",
    "UnknownColumnError",
    "choose_columns",
    "export_roster",
    "sheet_names",
]

# (key, header title), in the order the columns appear in the file.
EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("number", "世帯番号"),
    ("district", "地区"),
    ("group", "班"),
    ("name", "世帯主"),
    ("furigana", "フリガナ"),
    ("member_name", "氏名"),
    ("relation", "続柄"),
    ("member_furigana", "氏名フリガナ"),
    ("postal_code", "郵便番号"),
    ("address", "住所"),
    ("phone", "電話"),
    ("email", "メール"),
    ("channel", "配布方法"),
    ("members", "人数"),
    ("joined_on", "入会日"),
    ("exempt_han_leader", "班長免除"),
    ("notes", "備考"),
    ("withdrawn", "状態"),
)
_TITLES = dict(EXPORT_COLUMNS)
_ORDER = {key: index for index, (key, _title) in enumerate(EXPORT_COLUMNS)}
MEMBER_KEYS = frozenset({"member_name", "relation", "member_furigana"})

# Fixed words in the file, whatever the UI language (the importer reads them back).
CHANNEL_WORDS = {"app": "アプリ", "email": "メール", "paper": "紙"}
EXEMPT_MARK = "○"
WITHDRAWN_MARK = "退会"
EMAIL_SEPARATOR = "、"
DATE_FORMAT = "yyyy/mm/dd"
SINGLE_SHEET = "名簿"
NO_GROUP_SHEET = "班なし"
_SHOWN = {key: index for index, key in enumerate(COLUMN_KEYS)}  # the roster table's
_TEXT_KEYS = frozenset({"number", "postal_code", "phone"})  # typed-in values stay text

# Column widths in Excel's character units: (narrowest, widest).
_WIDTHS: dict[str, tuple[int, int]] = {
    "number": (8, 14), "district": (8, 20), "group": (6, 20), "name": (12, 30),
    "furigana": (14, 32), "member_name": (12, 30), "relation": (6, 12),
    "member_furigana": (14, 32), "postal_code": (10, 10), "address": (24, 48),
    "phone": (13, 18), "email": (16, 40), "channel": (9, 9), "members": (6, 6),
    "joined_on": (11, 11), "exempt_han_leader": (9, 9), "notes": (12, 40), "withdrawn": (6, 6),
}
_WIDTH_SAMPLE = 2000  # rows measured per sheet; a long roster does not need them all
_PROGRESS_EVERY = 500
PAPER_A4 = 9  # the paperSize code of A4 in SpreadsheetML
_SHEET_NAME_MAX = 31
_SHEET_NAME_SWAPS = str.maketrans({"/": "／", "\\": "＼", ":": "：", "*": "＊", "?": "？",
                                   "[": "［", "]": "］"})

Progress = Callable[[int, int], None]


class UnknownColumnError(ValueError):
    """``columns`` named keys that are not in :data:`EXPORT_COLUMNS`."""

    def __init__(self, unknown: Sequence[str]) -> None:
        self.unknown = tuple(unknown)
        self.valid = tuple(key for key, _title in EXPORT_COLUMNS)
        super().__init__(f"unknown export columns: {', '.join(self.unknown) or '(none)'}; "
                         f"valid keys: {', '.join(self.valid)}")


def choose_columns(
    columns: Sequence[str] | None, *, members: bool, districts: bool, withdrawn: bool
) -> tuple[str, ...]:
    """The keys an export writes, in file order.

    By default every column, except the member columns unless ``members``, 地区 unless the
    association has ``districts``, and 状態 unless ``withdrawn`` households are included.
    Chosen ``columns`` are checked (:class:`UnknownColumnError`) and put in file order.
    """
    if columns is None:
        return tuple(
            key for key, _title in EXPORT_COLUMNS
            if (members or key not in MEMBER_KEYS)
            and (districts or key != "district")
            and (withdrawn or key != "withdrawn")
        )
    unknown = [key for key in columns if key not in _TITLES]
    if unknown or not columns:
        raise UnknownColumnError(unknown)
    member_keys = sorted(set(columns) & MEMBER_KEYS, key=_ORDER.__getitem__)
    if member_keys and not members:
        raise ValueError(f"the columns {', '.join(member_keys)} are per member: "
                         "pass members=True")
    return tuple(sorted(set(columns), key=_ORDER.__getitem__))


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Household:
    """One household as the file shows it: cell values by column key, and its members."""

    values: dict[str, object]
    members: tuple[dict[str, object], ...]
    group_id: str | None  # hex, as the roster table holds it
    route: tuple[bool, int, str]  # withdrawn last, then circulation order, then number


def _text(value: str) -> str | None:
    """A text cell: None when empty (a truly empty cell), without control characters that
    the file format cannot hold."""
    if not value:
        return None
    return ILLEGAL_CHARACTERS_RE.sub("", value) if ILLEGAL_CHARACTERS_RE.search(value) else value


def _read_households(
    session: Session, *, include_withdrawn: bool, with_members: bool,
    district_of: dict[str, str],
) -> list[_Household]:
    """The roster in 50音順, with the facts the roster table does not carry."""
    table = load_roster(session)
    extras = {
        household_id.hex: (postal_code, emails, joined_on, exempt, notes, order)
        for household_id, postal_code, emails, joined_on, exempt, notes, order
        in session.connection().execute(
            sa_select(col(Household.id), col(Household.postal_code), col(Household.emails),
                      col(Household.joined_on), col(Household.exempt_han_leader),
                      col(Household.notes), col(Household.circulation_order))
        )
    }
    people: dict[str, list[dict[str, object]]] = {}
    if with_members:
        for household_id, name, relation, furigana in session.exec(
            select(Member.household_id, Member.name, Member.relation, Member.furigana)
            .order_by(col(Member.household_id), col(Member.position))
        ):
            people.setdefault(household_id.hex, []).append(
                {"member_name": _text(name), "relation": _text(relation),
                 "member_furigana": _text(furigana)})
    households = []
    for row, values in enumerate(table.rows):
        withdrawn = table.withdrawn(row)
        if withdrawn and not include_withdrawn:
            continue
        household_id = values[1]
        postal_code, emails, joined_on, exempt, notes, order = extras[household_id]
        group_id = table.group_id(row)
        number = str(table.value(row, _SHOWN["number"]))
        cells: dict[str, object] = {
            "number": _text(number),
            "district": district_of.get(group_id or ""),
            "group": _text(str(table.value(row, _SHOWN["group"]))),
            "name": _text(str(table.value(row, _SHOWN["name"]))),
            "furigana": _text(str(table.value(row, _SHOWN["furigana"]))),
            "postal_code": _text(postal_code),
            "address": _text(str(table.value(row, _SHOWN["address"]))),
            "phone": _text(str(table.value(row, _SHOWN["phone"]))),
            "email": _text(EMAIL_SEPARATOR.join(emails)),
            "channel": CHANNEL_WORDS[str(table.value(row, _SHOWN["channel"]))],
            "members": table.value(row, _SHOWN["members"]),
            "joined_on": joined_on,
            "exempt_han_leader": EXEMPT_MARK if exempt else None,
            "notes": _text(notes),
            "withdrawn": WITHDRAWN_MARK if withdrawn else None,
        }
        households.append(_Household(cells, tuple(people.get(household_id, ())), group_id,
                                     (withdrawn, order, number)))
    return households


# ---------------------------------------------------------------- sheets


def _clean_sheet_name(name: str) -> str:
    cleaned = unicodedata.normalize("NFC", name).translate(_SHEET_NAME_SWAPS).strip().strip("'")
    return cleaned[:_SHEET_NAME_MAX].strip() or "班"


def sheet_names(labels: Iterable[str]) -> list[str]:
    """Valid, unique sheet names for ``labels``, in order: at most 31 characters, none of
    []:*?/\\ (swapped for their full-width forms), compared without case as Excel does."""
    taken: set[str] = {"history"}  # reserved by Excel
    names = []
    for label in labels:
        base = _clean_sheet_name(label)
        name, count = base, 1
        while name.casefold() in taken:
            count += 1
            suffix = f"({count})"
            name = base[:_SHEET_NAME_MAX - len(suffix)] + suffix
        taken.add(name.casefold())
        names.append(name)
    return names


@dataclass(frozen=True, slots=True)
class _Sheet:
    name: str
    caption: str  # shown in the page header after the association's name
    households: list[_Household]


def _group_sheets(households: list[_Household], nodes: list[GroupNode]) -> list[_Sheet]:
    """One sheet per group that has households, in the group tree's order, each in
    circulation order; households in no 班 last, in 50音順."""
    by_group: dict[str | None, list[_Household]] = {}
    for household in households:
        by_group.setdefault(household.group_id, []).append(household)
    names = {node.id.hex: node.name for node in nodes}
    used = [node for node in nodes if node.id.hex in by_group]
    unique = len({node.name for node in used}) == len(used)
    labels: list[str] = []
    captions: list[str] = []
    parts: list[list[_Household]] = []
    for node in used:
        parent = names.get(node.parent_id.hex) if node.parent_id else None
        caption = f"{parent} {node.name}" if parent else node.name
        labels.append(node.name if unique or not parent else caption)
        captions.append(caption)
        parts.append(sorted(by_group.pop(node.id.hex), key=attrgetter("route")))
    leftover = [household for rest in by_group.values() for household in rest]
    if leftover:  # in no 班 (or in a group that vanished meanwhile)
        labels.append(NO_GROUP_SHEET)
        captions.append(NO_GROUP_SHEET)
        parts.append(leftover)
    return [_Sheet(name, caption, part)
            for name, caption, part in zip(sheet_names(labels), captions, parts, strict=True)]


# ---------------------------------------------------------------- writing


def _width(text: str) -> int:
    """Display width in half-width characters (kana and kanji count two)."""
    return len(text) + sum(1 for ch in text if ch >= "\u2e80")


def _column_widths(keys: Sequence[str], rows: Sequence[Sequence[object]]) -> list[float]:
    widths = []
    for index, key in enumerate(keys):
        narrowest, widest = _WIDTHS[key]
        header = _width(_TITLES[key]) + 3  # room for the filter button
        content = max((_width(value) for row in rows[:_WIDTH_SAMPLE]
                       if isinstance(value := row[index], str)), default=0)
        widths.append(float(max(narrowest, header, min(widest, content + 2))))
    return widths


def _header_text(text: str) -> str:
    return text.replace("&", "&&")  # & starts a code in page headers and footers


class _SheetParts(Protocol):
    """What a write-only sheet has like any worksheet (set up by the same ``_setup``), which
    the type stubs leave out."""

    column_dimensions: DimensionHolder[str, ColumnDimension]
    page_setup: PrintPageSetup
    print_options: PrintOptions
    page_margins: PageMargins
    auto_filter: AutoFilter
    sheet_properties: WorksheetProperties


class _Writer:
    """Styles shared by the sheets of one workbook, and the sheet set-up."""

    def __init__(self, *, association: str, today: date) -> None:
        self.association = association
        self.today = format_wareki(today)
        self.header_font = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor="D9E1F2")
        self.header_border = Border(bottom=Side(style="thin"))
        self.header_alignment = Alignment(horizontal="center", vertical="center")

    def header(self, sheet: WriteOnlyWorksheet, keys: Sequence[str]) -> list[Cell]:
        cells = []
        for key in keys:
            cell = WriteOnlyCell(sheet, value=_TITLES[key])
            cell.font = self.header_font
            cell.fill = self.header_fill
            cell.border = self.header_border
            cell.alignment = self.header_alignment
            cells.append(cell)
        return cells

    def set_up(self, sheet: WriteOnlyWorksheet, keys: Sequence[str],
               rows: Sequence[Sequence[object]], *, caption: str, members: bool) -> None:
        """Everything that must be set before the first row is written, and the print
        set-up: widths, frozen panes, A4 portrait fitted to the width, header and footer."""
        parts = cast(_SheetParts, sheet)
        for index, (key, width) in enumerate(zip(keys, _column_widths(keys, rows),
                                                 strict=True), start=1):
            dimension = parts.column_dimensions[get_column_letter(index)]
            dimension.width = width
            if key in _TEXT_KEYS:
                dimension.number_format = "@"
        identity = "member_name" if members else "name"
        frozen = [keys.index(key) + 1 for key in ("number", identity) if key in keys]
        sheet.freeze_panes = f"{get_column_letter(max(frozen, default=0) + 1)}2"
        parts.page_setup.paperSize = PAPER_A4
        parts.page_setup.orientation = "portrait"
        parts.page_setup.fitToWidth = 1
        parts.page_setup.fitToHeight = 0  # as many pages down as it takes
        parts.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        parts.page_margins = PageMargins(left=0.4, right=0.4, top=0.8, bottom=0.7,
                                         header=0.3, footer=0.3)
        parts.print_options.horizontalCentered = True
        sheet.print_title_rows = "1:1"
        header, footer = sheet.oddHeader, sheet.oddFooter
        assert header is not None and footer is not None  # made with every sheet
        header.left.text = _header_text(f"{self.association} 会員名簿")
        header.center.text = _header_text(caption) if caption else None
        header.right.text = _header_text(f"{self.today}現在")
        footer.center.text = "&P / &N"

    def write(self, sheet: WriteOnlyWorksheet, rows: Sequence[Sequence[object]],
              keys: Sequence[str], tick: Callable[[], None]) -> None:
        sheet.append(self.header(sheet, keys))
        dates = [index for index, key in enumerate(keys) if key == "joined_on"]
        for values in rows:
            row = list(values)
            for index in dates:
                if isinstance(day := row[index], date):
                    row[index] = self._date(sheet, day)
            for index, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    row[index] = self._literal(sheet, value)
            sheet.append(row)
            tick()
        last = f"{get_column_letter(len(keys))}{len(rows) + 1}"
        cast(_SheetParts, sheet).auto_filter.ref = f"A1:{last}"
        sheet.close()  # finished: its temporary file is closed now, not at save

    @staticmethod
    def _date(sheet: WriteOnlyWorksheet, value: date) -> Cell:
        cell = WriteOnlyCell(sheet)
        cell.value = value
        cell.number_format = DATE_FORMAT
        return cell

    @staticmethod
    def _literal(sheet: WriteOnlyWorksheet, value: str) -> Cell:
        """Text that starts with = stays text, not a formula."""
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell


def _rows(households: Sequence[_Household], keys: Sequence[str],
          members: bool) -> list[tuple[object, ...]]:
    if not members:
        return [tuple(household.values.get(key) for key in keys) for household in households]
    empty: dict[str, object] = {}
    rows = []
    for household in households:
        for member in household.members or (empty,):
            rows.append(tuple(member.get(key) if key in MEMBER_KEYS
                              else household.values.get(key) for key in keys))
    return rows


def export_roster(
    session: Session,
    path: Path,
    *,
    columns: Sequence[str] | None = None,
    per_group: bool = False,
    include_withdrawn: bool = False,
    members: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write the roster to the .xlsx file ``path``; returns how many data rows were written.

    ``columns`` picks keys of :data:`EXPORT_COLUMNS` (:func:`choose_columns` for the default
    and the checks); ``per_group`` writes one sheet per 班 in circulation order instead of one
    sheet in 50音順; ``members`` writes one row per member (a household without members gets
    one row with empty member cells). ``progress(done, total)`` is called as rows are written;
    raising from it cancels the export and leaves nothing behind. Problems with the target
    (not .xlsx, open in Excel, folder missing or read-only, disk full) raise
    :class:`KairanError`.
    """
    nodes = group_tree(session)
    districts = {node.id: node.name for node in nodes if node.kind == GroupKind.DISTRICT}
    district_of = {node.id.hex: districts[node.parent_id] for node in nodes
                   if node.parent_id in districts}
    keys = choose_columns(columns, members=members, districts=bool(districts),
                          withdrawn=include_withdrawn)
    check_xlsx_target(path)
    association = get_association(session).name
    households = _read_households(session, include_withdrawn=include_withdrawn,
                                  with_members=members,
                                  district_of=district_of)
    sheets = (_group_sheets(households, nodes) if per_group and households
              else [_Sheet(SINGLE_SHEET, "", households)])
    tables = [_rows(sheet.households, keys, members) for sheet in sheets]
    total = sum(len(rows) for rows in tables)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None and (done % _PROGRESS_EVERY == 0 or done == total):
            progress(done, total)

    if progress is not None:
        progress(0, total)
    workbook = Workbook(write_only=True)
    writer = _Writer(association=association, today=date.today())
    try:
        for sheet, rows in zip(sheets, tables, strict=True):
            worksheet = workbook.create_sheet(sheet.name)
            writer.set_up(worksheet, keys, rows, caption=sheet.caption, members=members)
            writer.write(worksheet, rows, keys, tick)
        save_workbook(workbook, path)
    except BaseException:
        discard_workbook(workbook)
        raise
    return total

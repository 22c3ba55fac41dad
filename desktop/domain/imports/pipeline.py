"""An import from start to finish, for the wizard and the command line alike.

read the file → find each sheet's header (or use the officer's mapping) → rows → households
→ plan. Each step can be redone with the officer's corrections without re-reading the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlmodel import Session

from desktop.domain.errors import KairanError
from desktop.domain.gc_pause import without_gc_pauses
from desktop.domain.imports.headers import data_columns, data_rows, find_header
from desktop.domain.imports.model import Field, HeaderLayout, RawRow, RowColumns, SheetData
from desktop.domain.imports.plan import ImportPlan, plan_import
from desktop.domain.imports.records import build_households, normalise_group
from desktop.domain.imports.sheets import read_file

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ReadRoster:
    """A file as read, with the header found on each sheet that has one."""

    path: Path
    sheets: list[SheetData]
    layouts: dict[str, HeaderLayout] = field(default_factory=dict)  # sheet name → layout
    unreadable: dict[str, str] = field(default_factory=dict)  # sheet name → why

    @property
    def usable(self) -> list[str]:
        """The sheets with a recognised header, in file order."""
        return [sheet.name for sheet in self.sheets if sheet.name in self.layouts]


@without_gc_pauses
def read_roster(
    path: Path,
    *,
    remembered: Mapping[str, Mapping[Field, int]] | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    require_header: bool = True,
) -> ReadRoster:
    """Read a roster file and find the header of every sheet (an empty or header-less sheet
    is set aside with the reason). A file where no sheet has a header is an error unless
    ``require_header`` is off: the wizard then lets the officer point at the header row."""
    sheets = read_file(path, progress=progress, cancelled=cancelled)
    result = ReadRoster(path, sheets)
    for sheet in sheets:
        try:
            result.layouts[sheet.name] = find_header(sheet, remembered=remembered)
        except KairanError as problem:
            result.unreadable[sheet.name] = problem.message
    if not result.layouts and require_header:
        raise KairanError("\n".join(result.unreadable.values()))
    return result


def _chosen(read: ReadRoster, sheets: Sequence[str] | None
            ) -> Iterator[tuple[SheetData, HeaderLayout, str | None]]:
    """Each chosen sheet (all usable ones by default) with its layout, and the 班 its name
    gives its rows: a sheet without a 班 column, in a file of several sheets (one per 班)."""
    chosen = read.usable if sheets is None else list(sheets)
    several = len(chosen) > 1
    for sheet in read.sheets:
        if sheet.name not in chosen:
            continue
        layout = read.layouts[sheet.name]
        named = several and Field.GROUP not in layout.columns and normalise_group(sheet.name)
        yield sheet, layout, sheet.name if named else None


def rows_of(read: ReadRoster, sheets: Sequence[str] | None = None) -> tuple[list[RawRow],
                                                                            set[Field]]:
    """The data rows of the chosen sheets and the fields they map. A sheet without a 班
    column, in a file of several sheets, gives its name as every row's 班 (one sheet per 班)."""
    rows: list[RawRow] = []
    columns: set[Field] = set()
    for sheet, layout, group in _chosen(read, sheets):
        columns |= set(layout.columns)
        sheet_rows = data_rows(sheet, layout)
        if group is not None:
            sheet_rows = [replace(row, values={**row.values, Field.GROUP: group})
                          for row in sheet_rows]
            columns.add(Field.GROUP)
        rows.extend(sheet_rows)
    return rows, columns


def columns_of(read: ReadRoster, sheets: Sequence[str] | None = None) -> tuple[RowColumns,
                                                                              set[Field]]:
    """What :func:`rows_of` returns, column by column (no dictionary per row: the import of a
    big roster goes this way)."""
    parts: list[tuple[str, list[int], dict[Field, list[object]]]] = []
    columns: set[Field] = set()
    for sheet, layout, group in _chosen(read, sheets):
        numbers, values = data_columns(sheet, layout)
        by_field = dict(zip(layout.columns, values, strict=True))
        columns |= set(layout.columns)
        if group is not None:
            by_field[Field.GROUP] = [group] * len(numbers)
            columns.add(Field.GROUP)
        parts.append((sheet.name, numbers, by_field))
    if len(parts) == 1:  # the usual case: the columns as they are
        name, numbers, by_field = parts[0]
        return RowColumns([name] * len(numbers), numbers, by_field), columns
    names: list[str] = []
    rows: list[int] = []
    joined: dict[Field, list[object]] = {which: [] for which in columns}
    for name, numbers, by_field in parts:
        count = len(numbers)
        names += [name] * count
        rows += numbers
        for which, column in joined.items():
            column.extend(by_field.get(which) or [None] * count)
    return RowColumns(names, rows, joined), columns


@without_gc_pauses
def plan_file(
    session: Session,
    read: ReadRoster,
    *,
    sheets: Sequence[str] | None = None,
    member_per_row: bool | None = None,
) -> ImportPlan:
    """The plan of importing the chosen sheets (all usable ones by default)."""
    table, columns = columns_of(read, sheets)
    households, problems = build_households(table, columns, member_per_row=member_per_row)
    return plan_import(session, households, problems, file=read.path.name)

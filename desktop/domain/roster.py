"""The roster as the window's table shows it: one fast query, plus filtering.

50,000 households must load and filter in milliseconds. So this reads plain tuples with one
SQL statement (no ORM objects), sorts them into 50音順 in Python (cheaper than an indexed
ORDER BY that visits every row in index order), and searches the stored, pre-folded search
text. For a large roster the window first shows just the first screenful
(:func:`load_roster_head`, from the 50音 index) and reads the whole a moment later.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlmodel import Session

from desktop.domain.gc_pause import no_gc_pauses
from desktop.domain.text import fold_for_search

# The visible columns, in order; also the keys of the CLI's csv/json output.
COLUMN_KEYS: tuple[str, ...] = (
    "number", "name", "furigana", "group", "address", "phone", "channel", "members", "withdrawn",
)
GROUP = COLUMN_KEYS.index("group")
WITHDRAWN = COLUMN_KEYS.index("withdrawn")

_COLUMNS = """
h.furigana_key || char(0) || h.number, h.id,
h.number, h.display_name, h.furigana, h.group_id, h.address, h.phone, h.channel,
h.member_count, h.left_on IS NOT NULL
"""
# The whole roster reads the search text in the same pass (last field, not shown).
_ALL_ROWS = f"SELECT {_COLUMNS}, h.search_text FROM household AS h"
_HEAD_ROWS = (f"SELECT {_COLUMNS} FROM household AS h WHERE h.left_on IS NULL "
              "ORDER BY h.furigana_key, h.number LIMIT ?")
ROW_OFFSET = 2  # fields of a row before the visible columns: sort key, id
_GROUP_NAMES = "SELECT id, name FROM roster_group"


@dataclass(slots=True)
class RosterTable:
    """The roster, one tuple per household, in 50音順 of furigana.

    Each row holds (sort key, id, then the values of :data:`COLUMN_KEYS`, with the group
    column holding the group id); use :meth:`value` for what is shown.
    """

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    group_names: dict[str | None, str] = field(default_factory=dict)
    search: list[str] | None = None  # folded search text per row
    complete: bool = True  # False for the first screenful of a large roster

    def __len__(self) -> int:
        return len(self.rows)

    def value(self, row: int, column: int) -> Any:
        """The value of a visible column (the group's name for the group column)."""
        raw = self.rows[row][ROW_OFFSET + column]
        return self.group_names.get(raw, "") if column == GROUP else raw

    def withdrawn(self, row: int) -> bool:
        """Whether the household in ``row`` has withdrawn."""
        return bool(self.rows[row][ROW_OFFSET + WITHDRAWN])

    def group_id(self, row: int) -> str | None:
        """The 班 of ``row`` as stored (hex), or None."""
        return self.rows[row][ROW_OFFSET + GROUP]  # type: ignore[no-any-return]

    def household_id(self, row: int) -> uuid.UUID:
        """The household id of ``row``."""
        return uuid.UUID(hex=self.rows[row][1])

    def row_of(self, household_id: uuid.UUID) -> int | None:
        """The row of a household, if it is in the table."""
        wanted = household_id.hex
        return next((row for row, values in enumerate(self.rows) if values[1] == wanted), None)


def _fetch(session: Session, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    """Rows as plain tuples straight from the sqlite3 driver, in the session's transaction."""
    driver = session.connection().connection.driver_connection
    assert driver is not None
    with no_gc_pauses():
        return driver.execute(sql, parameters).fetchall()  # type: ignore[no-any-return]


def load_roster(session: Session) -> RosterTable:
    """Every household, withdrawn ones included, in 50音順 (then by number)."""
    rows = _fetch(session, _ALL_ROWS)
    rows.sort(key=itemgetter(0))
    search = [values[-1] for values in rows]
    return RosterTable(rows=rows, group_names=dict(_fetch(session, _GROUP_NAMES)), search=search)


def load_roster_head(session: Session, *, limit: int) -> RosterTable:
    """The first ``limit`` member households in 50音順, read through the furigana index: what
    a window shows first while :func:`load_roster` reads the rest."""
    rows = _fetch(session, _HEAD_ROWS, (limit,))
    return RosterTable(rows=rows, group_names=dict(_fetch(session, _GROUP_NAMES)),
                       complete=False)


def count_households(session: Session) -> int:
    """How many households the file holds, withdrawn ones included."""
    return int(_fetch(session, "SELECT count(*) FROM household")[0][0])


def filter_rows(
    table: RosterTable,
    *,
    text: str = "",
    group_ids: set[str | None] | None = None,
    include_withdrawn: bool = False,
    within: Sequence[int] | None = None,
) -> list[int]:
    """The rows that match ``text`` (folded like the stored search text), in the group set.

    ``within`` narrows an earlier result (the next keystroke usually extends the last term),
    which keeps typing fast on a large roster.
    """
    rows = table.rows
    candidates = range(len(rows)) if within is None else within
    withdrawn, group = ROW_OFFSET + WITHDRAWN, ROW_OFFSET + GROUP
    chosen = [
        row
        for row in candidates
        if (include_withdrawn or not rows[row][withdrawn])
        and (group_ids is None or rows[row][group] in group_ids)
    ]
    return match_text(table, fold_for_search(text), chosen)


def match_text(table: RosterTable, needle: str, rows: Sequence[int]) -> list[int]:
    """Those of ``rows`` whose search text contains ``needle`` (already folded)."""
    if not needle:
        return list(rows)
    search = table.search
    if search is None:
        raise ValueError("this table was loaded without its search texts")
    return [row for row in rows if needle in search[row]]


def export_rows(table: RosterTable, rows: Sequence[int], *, fmt: str) -> str:
    """The given rows as ``csv`` or ``json`` text (the CLI's machine-readable output)."""
    records = [
        {key: table.value(row, column) for column, key in enumerate(COLUMN_KEYS)}
        for row in rows
    ]
    for record in records:
        record["withdrawn"] = bool(record["withdrawn"])
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=1)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMN_KEYS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()

"""The roster as the window's table shows it: one fast query, plus filtering.

50,000 households must load and filter in milliseconds. So this reads plain tuples with one
SQL statement (no ORM objects), sorts them into 50音順 in Python (cheaper than an indexed
ORDER BY that visits every row in index order), and searches the stored, pre-folded search
text. The search texts are the bulk of the data and are not needed to paint the first screen,
so the window may load them a moment later (:func:`attach_search_texts`).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlmodel import Session

from desktop.domain.models import NoticeChannel
from desktop.domain.text import fold_for_search

# The visible columns, in order; also the keys of the CLI's csv/json output.
COLUMN_KEYS: tuple[str, ...] = (
    "number", "name", "furigana", "group", "address", "phone", "channel", "members", "withdrawn",
)
GROUP = COLUMN_KEYS.index("group")
CHANNEL = COLUMN_KEYS.index("channel")
WITHDRAWN = COLUMN_KEYS.index("withdrawn")

_ROWS = """
SELECT h.furigana_key || char(0) || h.number, h.id,
       h.number, h.display_name, h.furigana, h.group_id, h.address, h.phone, h.channel,
       h.member_count, h.left_on IS NOT NULL
FROM household AS h
"""
_OFFSET = 2  # fields before the visible columns: sort key, id
_GROUP_NAMES = "SELECT id, name FROM roster_group"
_SEARCH_TEXTS = "SELECT id, search_text FROM household"


@dataclass(slots=True)
class RosterTable:
    """The roster, one tuple per household, in 50音順 of furigana.

    Each row holds (sort key, id, then the values of :data:`COLUMN_KEYS`, with the group
    column holding the group id); use :meth:`value` for what is shown.
    """

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    group_names: dict[str | None, str] = field(default_factory=dict)
    search: list[str] | None = None  # folded search text per row, once attached

    def __len__(self) -> int:
        return len(self.rows)

    def value(self, row: int, column: int) -> Any:
        """The value of a visible column (the group's name for the group column)."""
        raw = self.rows[row][_OFFSET + column]
        return self.group_names.get(raw, "") if column == GROUP else raw

    def withdrawn(self, row: int) -> bool:
        """Whether the household in ``row`` has withdrawn."""
        return bool(self.rows[row][_OFFSET + WITHDRAWN])

    def group_id(self, row: int) -> str | None:
        """The 班 of ``row`` as stored (hex), or None."""
        return self.rows[row][_OFFSET + GROUP]  # type: ignore[no-any-return]

    def household_id(self, row: int) -> uuid.UUID:
        """The household id of ``row``."""
        return uuid.UUID(hex=self.rows[row][1])

    def row_of(self, household_id: uuid.UUID) -> int | None:
        """The row of a household, if it is in the table."""
        wanted = household_id.hex
        return next((row for row, values in enumerate(self.rows) if values[1] == wanted), None)


def load_roster(session: Session, *, with_search: bool = True) -> RosterTable:
    """Every household, withdrawn ones included, in 50音順 (then by number)."""
    connection = session.connection()
    rows: list[tuple[Any, ...]] = [tuple(row) for row in connection.exec_driver_sql(_ROWS)]
    rows.sort(key=itemgetter(0))
    names: dict[str | None, str] = {
        key: name for key, name in connection.exec_driver_sql(_GROUP_NAMES)
    }
    table = RosterTable(rows=rows, group_names=names)
    if with_search:
        attach_search_texts(session, table)
    return table


def search_texts_for(session: Session, table: RosterTable) -> list[str]:
    """The folded search text of every row of ``table``, in its row order."""
    result = session.connection().exec_driver_sql(_SEARCH_TEXTS)
    texts: dict[str, str] = {key: text for key, text in result}
    return [texts.get(values[1], "") for values in table.rows]


def attach_search_texts(session: Session, table: RosterTable) -> None:
    """Load the search texts into ``table`` (done by :func:`load_roster` unless told not to)."""
    table.search = search_texts_for(session, table)


def household_counts(table: RosterTable) -> dict[uuid.UUID | None, tuple[int, int]]:
    """Active households and paper households per 班 (None: in no 班), from the loaded table
    — cheaper than asking the database again for a large roster."""
    group, withdrawn, channel = _OFFSET + GROUP, _OFFSET + WITHDRAWN, _OFFSET + CHANNEL
    tally = Counter(
        (values[group], values[channel] == NoticeChannel.PAPER)
        for values in table.rows
        if not values[withdrawn]
    )
    counts: dict[uuid.UUID | None, tuple[int, int]] = {}
    for (key, paper), number in tally.items():
        group_id = uuid.UUID(hex=key) if key else None
        total, papers = counts.get(group_id, (0, 0))
        counts[group_id] = (total + number, papers + (number if paper else 0))
    return counts


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
    needle = fold_for_search(text)
    if needle and table.search is None:
        raise ValueError("attach the search texts before searching")
    rows = table.rows
    candidates = range(len(rows)) if within is None else within
    withdrawn, group = _OFFSET + WITHDRAWN, _OFFSET + GROUP
    return [
        row
        for row in candidates
        if (include_withdrawn or not rows[row][withdrawn])
        and (group_ids is None or rows[row][group] in group_ids)
        and (not needle or needle in table.search[row])  # type: ignore[index]
    ]


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

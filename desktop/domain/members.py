"""Finding members, e.g. to pick who takes a role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from desktop.domain.text import fold_for_search

_QUERY = """
SELECT m.id, m.name, m.furigana, m.relation, h.id, h.number, h.display_name, g.name
FROM household AS h
JOIN member AS m ON m.household_id = h.id
LEFT JOIN roster_group AS g ON g.id = h.group_id
WHERE h.left_on IS NULL AND h.search_text LIKE ? ESCAPE '\\'
ORDER BY h.furigana_key, h.number, m.position
LIMIT ?
"""


@dataclass(frozen=True, slots=True)
class MemberChoice:
    """A member as a picker lists it."""

    member_id: uuid.UUID
    name: str
    furigana: str
    relation: str
    household_id: uuid.UUID
    household_number: str
    household_name: str
    group_name: str | None


def find_members(session: Session, *, text: str = "", limit: int = 200) -> list[MemberChoice]:
    """Members of active households whose household matches ``text`` (names, furigana, number,
    address or phone, folded like the roster search), in 50音順."""
    needle = fold_for_search(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.connection().exec_driver_sql(_QUERY, (f"%{needle}%", limit)).fetchall()
    return [
        MemberChoice(uuid.UUID(hex=member_id), name, furigana, relation,
                     uuid.UUID(hex=household_id), number, household_name, group_name)
        for member_id, name, furigana, relation, household_id, number, household_name,
        group_name in rows
    ]

"""The shortcuts that make a big import fast change nothing: the bulk write stores what the
editor stores, the one-pass search text is the editor's, bulk ids are UUIDv7, and the garbage
collector is paused and resumed as it was."""

from __future__ import annotations

import gc
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import replace
from datetime import date

import pytest

from desktop.domain.gc_pause import no_gc_pauses, without_gc_pauses
from desktop.domain.groups import create_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    _search_text_in_one_pass,
    _uuid7_hexes,
    bulk_add_households,
    clean_household,
    clean_members,
    create_household,
    search_text,
)
from desktop.domain.ids import uuid7
from desktop.domain.imports.model import Field, RawRow
from desktop.domain.imports.plan import Outcome, apply_import, plan_import
from desktop.domain.imports.records import build_households
from desktop.domain.models import NoticeChannel
from desktop.store.association_file import AssociationFile

DATA = HouseholdData(
    number="0042", display_name="山田 太郎", furigana="ヤマダ タロウ", postal_code="123-4567",
    address="桜町1-2-3 ハイツ桜101", phone="03-1234-5678", channel=NoticeChannel.EMAIL,
    emails=("taro@example.jp", "hanako@example.jp"), joined_on=date(2020, 4, 1),
    exempt_han_leader=True, exempt_duties=True, notes="角の家")
MEMBERS = (
    MemberData(name="山田 太郎", furigana="ヤマダ タロウ", relation="世帯主", is_head=True,
               phone="090-1234-5678", email="taro@example.jp", app_access=True, notes="会計"),
    MemberData(name="山田 花子", furigana="やまだ はなこ", relation="妻"),
)


def _rows(association_file: AssociationFile, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(association_file.path)) as connection:
        return connection.execute(sql).fetchall()


def test_the_bulk_write_stores_what_the_editor_stores(
    association_file: AssociationFile,
) -> None:
    with association_file.write() as session:
        group_id = create_group(session, name="1班")
        create_household(session, data=DATA, members=MEMBERS, group_id=group_id)
        bulk_add_households(session, [NewHousehold(
            uuid7(), group_id, 2, replace(clean_household(DATA), number="0043"),
            clean_members(MEMBERS))])
    columns = ("number, display_name, furigana, furigana_key, postal_code, address, phone, "
               "channel, emails, group_id, joined_on, left_on, exempt_han_leader, "
               "exempt_duties, notes, search_text, member_count, typeof(updated_at), "
               "length(id), length(updated_at)")
    editor, bulk = _rows(association_file, f"SELECT {columns} FROM household ORDER BY number")
    # The same but for the number (unique), which the search text starts with.
    assert (editor[0], bulk[0]) == ("0042", "0043")
    assert str(bulk[15]) == str(editor[15]).replace("0042", "0043", 1)
    assert bulk[1:15] + bulk[16:] == editor[1:15] + editor[16:]
    members = _rows(association_file, (
        "SELECT h.number, m.name, m.furigana, m.relation, m.is_head, m.phone, m.email, "
        "m.app_access, m.position, m.notes, length(m.id) FROM member AS m "
        "JOIN household AS h ON h.id = m.household_id ORDER BY h.number, m.position"))
    assert [row[1:] for row in members[:2]] == [row[1:] for row in members[2:]]
    updated = _rows(association_file, "SELECT updated_at FROM household")
    assert all(str(value).endswith(".000000") for (value,) in updated)  # as SQLAlchemy writes


def test_bulk_ids_are_new_uuid7() -> None:
    before = time.time_ns() // 1_000_000
    made = _uuid7_hexes(1000)
    ids = [uuid.UUID(hex=value) for value in made]
    assert made == sorted(made) and len(set(made)) == 1000
    assert {(value.version, value.variant) for value in ids} == {(7, uuid.RFC_4122)}
    assert all(0 <= (value.int >> 80) - before < 5000 for value in ids)
    assert _uuid7_hexes(0) == []


@pytest.mark.parametrize(("data", "members"), [
    (DATA, MEMBERS),
    (HouseholdData(number="7", display_name="Smith John"), ()),  # ASCII only
    (HouseholdData(number="０７", display_name="ｶﾀｶﾅ　ﾀﾛｳ", phone="０３（１２３４）５６７８"),
     (MemberData(name="か\u3099き", furigana="\u3099ガ"),)),  # combining marks at the edges
    (HouseholdData(number="8", display_name="　", address="-", furigana="・"), ()),  # folds away
    (HouseholdData(number="9", display_name="NUL\x00in the name"), ()),
    (HouseholdData(number="10", display_name="ΣΑΣ ß ﬁ"), (MemberData(name="İ"),)),
])
def test_the_one_pass_search_text_is_the_editors(data: HouseholdData,
                                                 members: tuple[MemberData, ...]) -> None:
    assert _search_text_in_one_pass(data, members) == search_text(data, members)


def test_the_collector_is_paused_and_resumed_as_it_was() -> None:
    assert gc.isenabled()

    @without_gc_pauses
    def inside() -> bool:
        with no_gc_pauses():
            pass
        return gc.isenabled()  # still paused after the inner block

    assert inside() is False and gc.isenabled()
    with pytest.raises(RuntimeError), no_gc_pauses():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with no_gc_pauses():
            pass
        assert not gc.isenabled()  # left off, as it was
    finally:
        gc.enable()


def test_moved_and_new_households_join_the_route_in_file_order(
    association_file: AssociationFile,
) -> None:
    """The route ends are read once per import: households moved into a 班 and new ones
    take the places after them in the order of the file, none twice."""
    with association_file.write() as session:
        first = create_group(session, name="1班")
        second = create_group(session, name="2班")
        for number, group_id in (("1", first), ("2", second), ("3", second)):
            create_household(session, data=HouseholdData(number=number,
                                                         display_name=f"世帯 {number}"),
                             group_id=group_id)
    rows = [RawRow("名簿", 2 + index, {Field.NUMBER: number, Field.NAME: f"世帯 {number}",
                                      Field.GROUP: group})
            for index, (number, group) in enumerate((("4", "2班"), ("1", "2班"), ("5", "2班"),
                                                     ("2", "2班"), ("3", "2班")))]
    households, problems = build_households(rows, {Field.NUMBER, Field.NAME, Field.GROUP})
    with association_file.write() as session:
        plan = plan_import(session, households, problems, file="名簿.xlsx")
        assert [row.outcome for row in plan.rows] == [
            Outcome.NEW, Outcome.UPDATE, Outcome.NEW, Outcome.UNCHANGED, Outcome.UNCHANGED]
        apply_import(session, plan)
    route = _rows(association_file, "SELECT number FROM household WHERE group_id = "
                  f"'{second.hex}' ORDER BY circulation_order")
    assert [number for (number,) in route] == ["2", "3", "4", "1", "5"]

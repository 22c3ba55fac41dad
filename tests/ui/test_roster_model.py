"""The roster table model alone: filtering by narrowing gives what a fresh filter gives, and
sorting by a column keeps to the filter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.domain import groups, households
from desktop.domain.roster import RosterTable, load_roster
from desktop.domain.text import kana_sort_key
from desktop.store.association_file import AssociationFile
from desktop.ui.roster_model import RosterModel
from tests.ui.helpers import COLUMN, TODAY, shown


def _load(demo_file: AssociationFile) -> RosterTable:
    with demo_file.read() as session:
        return load_roster(session)


def _ids(model: RosterModel) -> list[uuid.UUID]:
    return [model.household_id(row) for row in range(model.rowCount())]


def _fresh(table: RosterTable, **filters: Any) -> RosterModel:
    model = RosterModel()
    model.set_table(table)
    model.set_filter(**filters)
    return model


def _han_ids(demo_file: AssociationFile) -> dict[str, str]:
    with demo_file.read() as session:
        return {node.name: node.id.hex for node in groups.group_tree(session)}


@pytest.fixture
def table(qapp: Any, demo_file: AssociationFile) -> RosterTable:
    return _load(demo_file)


@pytest.fixture
def model(table: RosterTable) -> Iterator[RosterModel]:
    model = RosterModel()
    model.set_table(table)
    yield model


def test_new_model_shows_every_active_household_in_50on_order(model: RosterModel) -> None:
    assert model.rowCount() == 40
    keys = [
        (kana_sort_key(f), n)
        for f, n in zip(shown(model, "furigana"), shown(model, "number"), strict=True)
    ]
    assert keys == sorted(keys)


def test_headers_are_the_visible_columns(model: RosterModel) -> None:
    headers = [model.headerData(column, Qt.Orientation.Horizontal) for column in range(len(COLUMN))]
    assert headers[:3] == ["No.", "Name", "Furigana"]
    assert model.columnCount() == len(COLUMN)


@pytest.mark.parametrize(
    "keystrokes",
    [
        pytest.param(["い", "いし", "いしか", "いしかわ"], id="narrowing"),
        pytest.param(["い", "いし", "いしか", "いし", "い"], id="narrowing-then-widening"),
        pytest.param(["こ", "こう", "こうの", "こうこ"], id="changed-last-character"),
        pytest.param(["0", "04", "042", "0420"], id="digits"),
        pytest.param(["ｺ", "ｺｳ", "ｺｳﾉ"], id="half-width"),
    ],
)
def test_typing_step_by_step_gives_what_a_fresh_filter_gives(
    table: RosterTable, model: RosterModel, keystrokes: list[str]
) -> None:
    for text in keystrokes:
        model.set_filter(text=text)
        assert _ids(model) == _ids(_fresh(table, text=text)), text


def test_narrowed_search_still_respects_a_group_filter(
    table: RosterTable, model: RosterModel, demo_file: AssociationFile
) -> None:
    han = {_han_ids(demo_file)["2班"]}
    model.set_filter(text="い")
    model.set_filter(group_ids=han)
    model.set_filter(text="いし")
    assert _ids(model) == _ids(_fresh(table, text="いし", group_ids=han))
    assert sorted(shown(model, "number")) == ["0020", "0027", "0035"]


def test_group_filter_then_all_groups(model: RosterModel, demo_file: AssociationFile) -> None:
    model.set_filter(group_ids={_han_ids(demo_file)["1班"]})
    assert set(shown(model, "group")) == {"1班"}
    model.set_filter(group_ids=None)
    assert model.rowCount() == 40


def test_households_in_no_group(qapp: Any, demo_file: AssociationFile) -> None:
    with demo_file.write() as session:
        households.move_household(
            session, household_id=_fresh(_load(demo_file)).household_id(0), group_id=None
        )
    model = _fresh(_load(demo_file), group_ids={None})
    assert model.rowCount() == 1
    assert shown(model, "group") == [""]


def test_new_table_keeps_the_filter(
    table: RosterTable, model: RosterModel, demo_file: AssociationFile
) -> None:
    model.set_filter(text="いしかわ")
    with demo_file.write() as session:
        households.withdraw_household(session, household_id=model.household_id(0), left_on=TODAY)
    model.set_table(_load(demo_file))
    assert model.rowCount() == 2
    model.set_filter(include_withdrawn=True)
    assert model.rowCount() == 3


def test_withdrawn_toggle_widens_a_narrowed_search(
    model: RosterModel, demo_file: AssociationFile
) -> None:
    withdrawn = model.household_id(0)
    with demo_file.write() as session:
        households.withdraw_household(session, household_id=withdrawn, left_on=TODAY)
    model.set_table(_load(demo_file))
    model.set_filter(text="")
    assert model.view_row_of(withdrawn) is None
    model.set_filter(include_withdrawn=True)
    assert model.view_row_of(withdrawn) is not None
    assert model.is_withdrawn(model.view_row_of(withdrawn) or 0)


def test_view_row_of_a_household_filtered_out_is_none(model: RosterModel) -> None:
    first = model.household_id(0)
    assert model.view_row_of(first) == 0
    model.set_filter(text="ぬぬぬ")
    assert model.view_row_of(first) is None


def test_a_filter_resets_the_model(qtbot: Any, model: RosterModel) -> None:
    with qtbot.waitSignal(model.modelReset, timeout=1000):
        model.set_filter(text="河野")


# ---------------------------------------------------------------- sorting


def _members(model: RosterModel) -> list[int]:
    return [int(count) for count in shown(model, "members")]


def test_sort_by_members_count(model: RosterModel) -> None:
    model.sort(COLUMN["members"], Qt.SortOrder.AscendingOrder)
    counts = _members(model)
    assert counts == sorted(counts)
    assert counts[0] < counts[-1]
    model.sort(COLUMN["members"], Qt.SortOrder.DescendingOrder)
    assert _members(model) == sorted(counts, reverse=True)


def test_member_counts_are_right_aligned(model: RosterModel) -> None:
    alignment = model.data(model.index(0, COLUMN["members"]), Qt.ItemDataRole.TextAlignmentRole)
    assert alignment is not None and alignment & int(Qt.AlignmentFlag.AlignRight)


def test_sort_stays_while_filtering(model: RosterModel) -> None:
    model.sort(COLUMN["members"], Qt.SortOrder.DescendingOrder)
    model.set_filter(text="い")
    counts = _members(model)
    assert counts == sorted(counts, reverse=True)
    assert sorted(_ids(model)) == sorted(
        _ids(_fresh(model.table, text="い"))
    )  # the same rows, in another order


def test_sort_signals_a_layout_change(qtbot: Any, model: RosterModel) -> None:
    with qtbot.waitSignal(model.layoutChanged, timeout=1000):
        model.sort(COLUMN["number"], Qt.SortOrder.DescendingOrder)
    assert shown(model, "number")[0] == "0040"


def test_no_sort_column_goes_back_to_50on_order(model: RosterModel) -> None:
    before = _ids(model)
    model.sort(COLUMN["number"], Qt.SortOrder.DescendingOrder)
    assert _ids(model) != before
    model.sort(-1, Qt.SortOrder.AscendingOrder)  # what the view asks when the indicator clears
    assert _ids(model) == before

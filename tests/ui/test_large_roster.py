"""A large roster paints its first screenful at once and reads the rest in the background."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.domain.roster import filter_rows
from desktop.store.association_file import AssociationFile
from desktop.ui import roster_loader
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import Settings
from tests.ui.helpers import DEMO_HOUSEHOLDS, TODAY, type_text


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat the 40-household demo as large, with a first screenful of 5 rows."""
    monkeypatch.setattr(roster_loader, "HEAD_FIRST_FROM", 10)
    monkeypatch.setattr(roster_loader, "HEAD_ROWS", 5)


def _window(qtbot: Any, demo_file: AssociationFile) -> MainWindow:
    main = MainWindow(demo_file, Settings(), today=lambda: TODAY)
    qtbot.addWidget(main)
    main.show()
    return main


@pytest.mark.usefixtures("large")
def test_the_head_shows_first_then_the_whole_roster_arrives(
    qtbot: Any, demo_file: AssociationFile
) -> None:
    main = _window(qtbot, demo_file)
    assert main.model.rowCount() == 5
    assert not main.model.table.complete
    qtbot.waitUntil(lambda: not main.loader.loading)
    assert main.model.table.complete
    assert main.model.rowCount() == DEMO_HOUSEHOLDS
    assert int(main.groups.topLevelItem(0).text(1)) == DEMO_HOUSEHOLDS  # all households


@pytest.mark.usefixtures("large")
def test_the_head_is_the_start_of_the_whole_roster(
    qtbot: Any, demo_file: AssociationFile
) -> None:
    main = _window(qtbot, demo_file)
    head = [main.model.household_id(row) for row in range(main.model.rowCount())]
    qtbot.waitUntil(lambda: not main.loader.loading)
    whole = [main.model.household_id(row) for row in range(main.model.rowCount())]
    assert whole[: len(head)] == head


@pytest.mark.usefixtures("large")
def test_searching_before_the_rest_has_arrived_waits_for_it(
    qtbot: Any, demo_file: AssociationFile
) -> None:
    main = _window(qtbot, demo_file)
    assert main.loader.loading
    type_text(qtbot, main.roster.search, "0040")  # the last number: not in the head
    assert not main.loader.loading and main.model.table.complete
    shown = [main.model.table.value(row, 0) for row in main.model._rows]
    assert "0040" in shown
    assert main.model._rows == filter_rows(main.model.table, text="0040")


def test_a_small_roster_is_read_whole_at_once(qtbot: Any, demo_file: AssociationFile) -> None:
    main = _window(qtbot, demo_file)
    assert main.model.table.complete and not main.loader.loading
    assert main.model.rowCount() == DEMO_HOUSEHOLDS

"""Figure ``roster_cold_start_50k`` (informational): seconds from the top of the child module,
before any import, to the roster table's first completed paint on the 50,000-household file.

Ours imports the app, makes the QApplication, sets up fonts as ``run_app`` does and calls
``AppController(app, Settings()).open_path(path)``; the floor imports PySide6 and sqlite3 and
shows the tuples in a plain QTableView. Interpreter start-up before this module runs (about the
same for both) is not included.
"""

import time

STARTED = time.perf_counter()  # before any other import: the cold start counts from here

import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from tests.bench.common import Figure

NAME = "roster_cold_start_50k"
MODULE = "roster_cold_start"


def start_ours(path: Path) -> dict[str, Any]:
    """Import, start and open like ``kairan --db PATH``; seconds since :data:`STARTED`."""
    from desktop.app import AppController, ensure_japanese_font
    from desktop.ui.settings import Settings
    from tests.bench.painting import has_rows, make_app, wait_for_first_paint

    app = make_app()
    app.setApplicationName("Kairan")
    ensure_japanese_font()
    controller = AppController(app, Settings())
    if not controller.open_path(path):
        return {"error": f"open_path({path}) returned False"}
    assert controller.window is not None
    table = controller.window.roster.table
    painted = wait_for_first_paint(table.viewport(), ready=has_rows(table))
    if painted is None:
        return {"error": "the roster table never painted"}
    return {"seconds": painted - STARTED}


def start_floor(path: Path) -> dict[str, Any]:
    """The floor program from its first import to its table painted."""
    from tests.bench.painting import (
        ensure_japanese_font_floor,
        floor_window,
        has_rows,
        load_floor_rows,
        make_app,
        wait_for_first_paint,
    )

    make_app()
    ensure_japanese_font_floor()
    rows = load_floor_rows(path)
    _window, view, _model = floor_window(rows)
    painted = wait_for_first_paint(view.viewport(), ready=has_rows(view))
    if painted is None:
        return {"error": "the floor table never painted"}
    return {"seconds": painted - STARTED}


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its result."""
    side, path = argv[0], Path(argv[argv.index("--db") + 1])
    result = start_ours(path) if side == "ours" else start_floor(path)
    from tests.bench.common import child_result

    child_result(result)


def figure() -> "Figure":
    """Measure the figure (5 children per side, alternating)."""
    from tests.bench.common import measured_figure

    return measured_figure(NAME, "s", MODULE, "seconds")


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child; else measure and print the figure."""
    from tests.bench.common import figure_main  # not at the top: the child times imports

    return figure_main(argv, figure, child_main)


if __name__ == "__main__":
    sys.exit(main())

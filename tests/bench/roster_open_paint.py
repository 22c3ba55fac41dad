"""Figure ``roster_open_paint_50k``: seconds from opening the 50,000-household file to the
roster table's first completed paint, in a child that has already imported everything and made
its QApplication.

Ours: ``AppController(app, Settings()).open_path(path)``, then the paint of
``controller.window.roster.table.viewport()`` (the first screenful; the child then also
waits for the whole roster, which ``roster_open_complete`` reports). Floor: raw ``sqlite3``
fetch of the visible columns into tuples, a minimal model, a QTableView as a QMainWindow's
central widget, show, the same paint wait. The issue asks for ratio ≤ 2 and value < 1 s.

    python -m tests.bench.roster_open_paint            # the figure (5 + 5 children)
    python -m tests.bench.roster_open_paint --profile  # cProfile of one open, desktop/ entries
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.bench.common import (
    REPO,
    ChildFailed,
    Figure,
    child_result,
    demo_file,
    figure_main,
    measured_figure,
    rss_mib,
    run_child,
    warm_page_cache,
)

NAME = "roster_open_paint_50k"
MODULE = "roster_open_paint"
PROFILE_TOP = 25


def open_ours(path: Path, *, profile: bool = False) -> dict[str, Any]:
    """Open ``path`` in our window (imports and QApplication done first, untimed); return the
    seconds to the roster's first paint and the memory then."""
    from PySide6.QtCore import QEventLoop

    from desktop.app import AppController, ensure_japanese_font
    from desktop.ui.settings import Settings
    from tests.bench.painting import has_rows, make_app, wait_for_first_paint

    app = make_app()
    ensure_japanese_font()  # as run_app does before opening
    profiler = cProfile.Profile() if profile else None
    if profiler is not None:
        profiler.enable()
    started = time.perf_counter()
    controller = AppController(app, Settings())
    if not controller.open_path(path):
        return {"error": f"open_path({path}) returned False"}
    assert controller.window is not None
    table = controller.window.roster.table
    painted = wait_for_first_paint(table.viewport(), ready=has_rows(table))
    if profiler is not None:
        profiler.disable()
    if painted is None:
        return {"error": "the roster table never painted"}
    # A large roster paints its first screenful first; the rest is read in the background.
    # Memory and "complete" are taken once the whole roster is there.
    window = controller.window
    while window.loader.loading:  # sleep until the loader's result is posted, no busy loop
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    complete = time.perf_counter()
    result: dict[str, Any] = {"seconds": painted - started,
                              "seconds_complete": complete - started, "rss_mib": rss_mib()}
    if profiler is not None:
        result["profile"] = _desktop_entries(profiler)
    return result


def open_floor(path: Path) -> dict[str, Any]:
    """The floor: sqlite3 fetch, minimal model, plain QTableView, same paint wait."""
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
    started = time.perf_counter()
    rows = load_floor_rows(path)
    _window, view, _model = floor_window(rows)
    painted = wait_for_first_paint(view.viewport(), ready=has_rows(view))
    if painted is None:
        return {"error": "the floor table never painted"}
    # The floor has everything once it has painted.
    seconds = painted - started
    return {"seconds": seconds, "seconds_complete": seconds, "rss_mib": rss_mib()}


def _desktop_entries(profiler: cProfile.Profile) -> list[str]:
    """The top entries by cumulative time whose code lives in desktop/, then the top entries
    of any code by own time (the main thread only: the integrity check and the search-text
    loader run on workers)."""
    lines = ["## desktop/ by cumulative time"]
    lines += _stats_lines(profiler, pstats.SortKey.CUMULATIVE, r"[/\\]desktop[/\\]", PROFILE_TOP)
    lines.append("## all code by own time")
    lines += _stats_lines(profiler, pstats.SortKey.TIME, None, PROFILE_TOP // 2)
    return lines


def _stats_lines(profiler: cProfile.Profile, key: pstats.SortKey, pattern: str | None,
                 count: int) -> list[str]:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).sort_stats(key)
    stats.print_stats(*(pattern, count) if pattern else (count,))
    lines = stream.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [line.rstrip().replace(str(REPO) + "/", "") for line in lines[start:] if line.strip()]


def child_main(argv: Sequence[str]) -> int:
    """Run one measured side in this (fresh) process and print its result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours", "floor"))
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.side == "ours":
        child_result(open_ours(args.db, profile=args.profile))
    child_result(open_floor(args.db))


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds")


def print_profile() -> None:
    """Open the file once with cProfile in a child; print the desktop/ entries to stdout."""
    path = demo_file()
    warm_page_cache(path)
    try:
        result = run_child(MODULE, ["ours", "--db", str(path), "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# open → first paint under cProfile (main thread only): {result['seconds']:.3f} s "
          "including the profiler's overhead")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child; ``--profile`` for the profile; else the figure."""
    return figure_main(argv, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())

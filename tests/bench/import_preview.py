"""Figure ``import_preview_2000``: seconds from choosing a typical roster of 2,000 households
(.xlsx, one row per household) to its preview, against an association that already holds
those households, so nearly every row's outcome is "unchanged". The issue asks for under 1 s.

The spreadsheet is a 2,000-household demo exported once by ``export_roster`` (one row per
household, ``build/bench/demo-2k-households.xlsx``); the association is that demo file
(``build/bench/demo-2k.kairan``), only read.

Ours: ``read_roster`` (with the remembered mappings, as the wizard and ``kairan import`` pass
them) + ``plan_file`` in a read session. Baseline: python-calamine reading every sheet of the
same file into Python values, nothing more; the ratio says how much the preview adds to the
bare read.

    python -m tests.bench.import_preview            # the figure (5 + 5 children)
    python -m tests.bench.import_preview --profile  # cProfile of one preview
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.bench.common import (
    ChildFailed,
    Figure,
    child_result,
    demo_file,
    figure_main,
    measured_figure,
    profile_lines,
    roster_xlsx,
    run_child,
    warm_page_cache,
)

NAME = "import_preview_2000"
MODULE = "import_preview"
HOUSEHOLDS = 2000
PROFILE_TOP = 35


def preview_ours(xlsx: Path, db: Path, *, profile: bool = False) -> dict[str, Any]:
    """Read and plan ``xlsx`` against the association file ``db``; writes nothing."""
    from desktop.domain.imports.mappings import remembered_mappings
    from desktop.domain.imports.pipeline import plan_file, read_roster
    from desktop.domain.imports.plan import Outcome
    from desktop.store.association_file import open_association

    opened = open_association(db)  # checks and the integrity check: not measured
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with opened.read() as session:
        remembered = remembered_mappings(session)
    read = read_roster(xlsx, remembered=remembered)
    was_read = time.perf_counter()
    with opened.read() as session:
        plan = plan_file(session, read)
    finished = time.perf_counter()
    if profiler is not None:
        profiler.disable()
    opened.close()
    outcome: dict[str, Any] = {
        "seconds": finished - started, "read": was_read - started, "plan": finished - was_read,
        "rows": len(plan.rows), "unchanged": plan.count(Outcome.UNCHANGED),
        "errors": len(plan.errors)}
    if profiler is not None:
        outcome["profile"] = profile_lines(profiler, count=PROFILE_TOP)
    return outcome


def preview_floor(xlsx: Path) -> dict[str, Any]:
    """calamine's read of every sheet of the same file, values only."""
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(xlsx))
    rows = sum(len(workbook.get_sheet_by_name(name).to_python()) for name in workbook.sheet_names)
    workbook.close()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours", "floor"))
    parser.add_argument("--xlsx", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    if args.side == "ours":
        child_result(preview_ours(args.xlsx, args.db, profile=args.profile))
    child_result(preview_floor(args.xlsx))


def _arguments() -> list[str]:
    db = demo_file(HOUSEHOLDS)
    xlsx = roster_xlsx(HOUSEHOLDS, members=False)
    for path in (db, xlsx):
        warm_page_cache(path)
    return ["--xlsx", str(xlsx), "--db", str(db)]


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds", prepare=_arguments)


def print_profile() -> None:
    """Preview once under cProfile in a child; print the top entries to stdout."""
    try:
        result = run_child(MODULE, ["ours", *_arguments(), "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# preview under cProfile: {result['seconds']:.3f} s including the profiler's "
          f"overhead (read {result['read']:.3f}, plan {result['plan']:.3f}); "
          f"{result['unchanged']} of {result['rows']} unchanged")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE ...`` in a child; ``--profile`` for the profile; else the figure."""
    return figure_main(argv, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())

"""Run the benchmarks: ``python -m tests.bench [NAME ...]``.

Prints one JSON object per figure on stdout,
``{"name": ..., "value": ..., "unit": ..., "baseline": ..., "ratio": ...}`` (ratio = value /
baseline, lower is better); progress goes to stderr. NAME picks figures by module or figure
name (``roster_open_paint`` or ``roster_open_paint_50k``); without one, all of them run.
Benchmarks never fail: a figure that could not be measured is printed with a null value and
an ``error`` field, and the exit status stays 0.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType

from tests.bench import (
    bundle_size,
    bundle_start,
    circular_copies,
    circular_packet,
    disaster_burst,
    import_preview,
    mail_send,
    meeting_tally,
    meeting_tally_db,
    relay_flush,
    replica_join,
    roster_cold_start,
    roster_import,
    roster_open_complete,
    roster_open_paint,
    roster_rss,
    search_keystroke,
)
from tests.bench.common import Figure

FIGURES: tuple[ModuleType, ...] = (
    roster_open_paint,
    roster_open_complete,
    roster_cold_start,
    roster_rss,
    search_keystroke,
    roster_import,
    import_preview,
    circular_copies,
    circular_packet,
    meeting_tally,
    meeting_tally_db,
    relay_flush,
    disaster_burst,
    mail_send,
    replica_join,
    bundle_start,
    bundle_size,
)
USAGE_ERROR = 2


def _selected(names: Sequence[str]) -> list[ModuleType] | None:
    if not names:
        return list(FIGURES)
    chosen: list[ModuleType] = []
    for name in names:
        match = [m for m in FIGURES if name in (m.MODULE, m.NAME)]
        if not match:
            return None
        chosen += [m for m in match if m not in chosen]
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the chosen figures one after another and print their JSON lines."""
    names = list(sys.argv[1:] if argv is None else argv)
    modules = _selected(names)
    if modules is None:
        known = ", ".join(m.MODULE for m in FIGURES)
        print(f"usage: python -m tests.bench [NAME ...]  (NAME: {known})", file=sys.stderr)
        return USAGE_ERROR
    started = time.perf_counter()
    for module in modules:
        measure: Callable[[], Figure] = module.figure
        began = time.perf_counter()
        print(f"bench: {module.NAME} …", file=sys.stderr, flush=True)
        print(measure().as_json(), flush=True)
        print(f"bench: {module.NAME} took {time.perf_counter() - began:.0f} s",
              file=sys.stderr, flush=True)
    print(f"bench: all done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

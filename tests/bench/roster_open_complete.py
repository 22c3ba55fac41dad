"""Figure ``roster_open_complete_50k``: seconds from opening the 50,000-household file until
the whole roster is loaded and searchable, ours against the floor's open-and-paint.

Our window paints the first screenful of a large roster first (``roster_open_paint``) and
reads the rest on a worker thread; this figure is the time until that read has been applied,
so the head-first shortcut cannot hide the cost of the whole load.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tests.bench.common import Figure, child_result, measured_figure
from tests.bench.roster_open_paint import open_floor, open_ours

NAME = "roster_open_complete_50k"
MODULE = "roster_open_complete"


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its times."""
    side, path = argv[0], Path(argv[argv.index("--db") + 1])
    result = open_ours(path) if side == "ours" else open_floor(path)
    child_result(result)


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds_complete")


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child; else measure and print the figure."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--child"]:
        return child_main(arguments[1:])
    print(figure().as_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

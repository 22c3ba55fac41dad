"""Figure ``roster_rss_50k``: resident memory (VmRSS, MiB) with the 50,000-household roster
open, ours against the floor.

The children do what ``roster_open_paint`` measures (imports, QApplication, open, paint) and
read ``/proc/self/status`` once the whole roster is loaded (ours reads it in the background
after painting the first screenful; the floor has it all at its paint).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tests.bench.common import Figure, child_result, measured_figure
from tests.bench.roster_open_paint import open_floor, open_ours

NAME = "roster_rss_50k"
MODULE = "roster_rss"


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its memory with the roster loaded."""
    side, path = argv[0], Path(argv[argv.index("--db") + 1])
    result = open_ours(path) if side == "ours" else open_floor(path)
    child_result(result)


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "MiB", MODULE, "rss_mib", digits=1)


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child; else measure and print the figure."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--child"]:
        return child_main(arguments[1:])
    print(figure().as_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

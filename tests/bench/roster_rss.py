"""Figure ``roster_rss_50k``: resident memory (VmRSS, MiB) with the 50,000-household roster
open, ours against the floor.

The children do what ``roster_open_paint`` measures (imports, QApplication, open, paint) and
read ``/proc/self/status`` once the whole roster is loaded (ours reads it in the background
after painting the first screenful; the floor has it all at its paint).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tests.bench.common import Figure, figure_main, measured_figure
from tests.bench.roster_open_paint import child_main

NAME = "roster_rss_50k"
MODULE = "roster_rss"


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "MiB", MODULE, "rss_mib", digits=1)


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child (the same child as ``roster_open_paint``); else
    measure and print the figure."""
    return figure_main(argv, figure, child_main)


if __name__ == "__main__":
    sys.exit(main())

"""Figure ``roster_open_complete_50k``: seconds from opening the 50,000-household file until
the whole roster is loaded and searchable, ours against the floor's open-and-paint.

Our window paints the first screenful of a large roster first (``roster_open_paint``) and
reads the rest on a worker thread; this figure is the time until that read has been applied,
so the head-first shortcut cannot hide the cost of the whole load.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tests.bench.common import Figure, figure_main, measured_figure
from tests.bench.roster_open_paint import child_main

NAME = "roster_open_complete_50k"
MODULE = "roster_open_complete"


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds_complete")


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE --db PATH`` in a child (the same child as ``roster_open_paint``); else
    measure and print the figure."""
    return figure_main(argv, figure, child_main)


if __name__ == "__main__":
    sys.exit(main())

"""Figure ``bundle_start_demo`` (informational): seconds from starting the installed program
(the PyInstaller folder ``dist/kairan``) to its window showing the painted roster of a
300-household demo association.

Ours runs ``dist/kairan/Kairan --db demo.kairan --quit-after-paint``, which ends the program
right after the roster table's first paint; the whole process is timed from spawn to exit (the
exit is a few tens of ms). The floor runs the same from source in this virtual environment
(``python -m desktop``), so the ratio is what bundling costs or saves. Build the bundle first
(``.ci/package``, or ``pyinstaller --noconfirm kairan.spec``). Before the medians, one run
each after dropping the page cache (where this machine allows it) shows a truly cold start.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.bench.common import REPO, Figure, alternate

NAME = "bundle_start_demo"
MODULE = "bundle_start"
BUNDLE = REPO / "dist" / "kairan"
DEMO_HOUSEHOLDS = 300
TIMEOUT = 120.0


def bundled_program(name: str) -> Path:
    """``Kairan`` or ``kairan-cli`` in the built folder (``.exe`` on Windows)."""
    return BUNDLE / (f"{name}.exe" if sys.platform == "win32" else name)


def _timed(command: list[str], home: Path) -> float:
    environment = {**os.environ, "KAIRAN_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    done = subprocess.run(command, env=environment, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {done.stderr[-300:]}")
    return elapsed


def _drop_page_cache() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="ascii")
    except OSError:
        return False
    return True


def figure() -> Figure:
    """Median of 5 starts per side, alternating bundle / source."""
    window = bundled_program("Kairan")
    if not window.exists():
        return Figure(NAME, "s", None, None, error=f"no bundle at {BUNDLE}: run .ci/package")
    try:
        return _measure(window)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        # A benchmark reports its trouble, it never fails the run.
        return Figure(NAME, "s", None, None, error=f"{type(error).__name__}: {error}")


def _measure(window: Path) -> Figure:
    with tempfile.TemporaryDirectory(prefix="kairan-bench-") as folder:
        home = Path(folder) / "home"
        demo = Path(folder) / "demo.kairan"
        subprocess.run([str(bundled_program("kairan-cli")), "demo", "create", str(demo),
                        "--households", str(DEMO_HOUSEHOLDS)], check=True, capture_output=True,
                       env={**os.environ, "KAIRAN_HOME": str(home)}, timeout=TIMEOUT)
        arguments = ["--db", str(demo), "--quit-after-paint"]
        ours = [str(window), *arguments]
        floor = [sys.executable, "-m", "desktop", *arguments]
        if _drop_page_cache():
            cold = _timed(ours, home)
            _drop_page_cache()
            cold_floor = _timed(floor, home)
            print(f"# after dropping the page cache: bundle {cold:.2f} s, source "
                  f"{cold_floor:.2f} s", file=sys.stderr)
        value, baseline = alternate(lambda: _timed(ours, home), lambda: _timed(floor, home))
    return Figure(NAME, "s", value, baseline, digits=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the figure."""
    del argv
    print(figure().as_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())

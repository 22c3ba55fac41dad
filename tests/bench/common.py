"""What every benchmark shares: the cached 50,000-household demo file, running the measured
programs in fresh child processes, and printing one JSON line per figure.

Nothing here imports Qt or the product at module level, so the parent process that runs the
children stays light, and a child that imports this module pays only for the standard library.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = REPO / "build" / "bench"
HOUSEHOLDS = 50_000
DEMO_FILE = BENCH_DIR / f"demo-{HOUSEHOLDS // 1000}k.kairan"
REPEATS = 5  # per side, alternating ours / floor; the median is reported
CHILD_TIMEOUT = 180.0  # seconds; a child that takes longer is reported as failed
RESULT_PREFIX = "BENCH-RESULT "

# The cached demo file is stale when any of these is newer: they decide what it contains.
_DEMO_SOURCES = (
    "desktop/domain/demo_data.py",
    "desktop/domain/demo.py",
    "desktop/domain/models.py",
    "desktop/store/demo_file.py",
    "desktop/store/migrations/versions",
)

# The columns the floor reads, and that the roster shows first.
FLOOR_SQL = (
    "SELECT number, display_name, furigana, group_id, address, phone, channel FROM household"
)


class ChildFailed(RuntimeError):
    """A measured child process crashed, timed out or printed no result."""


@dataclass(frozen=True, slots=True)
class Figure:
    """One benchmark figure: our median against the floor's median, same run, same data."""

    name: str
    unit: str
    value: float | None
    baseline: float | None
    digits: int = 4
    error: str | None = None

    def as_json(self) -> str:
        """The JSON line printed for this figure (ratio = value / baseline, lower is better)."""
        ratio = None
        if self.value is not None and self.baseline:
            ratio = round(self.value / self.baseline, 3)
        record: dict[str, Any] = {
            "name": self.name,
            "value": None if self.value is None else round(self.value, self.digits),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, self.digits),
            "ratio": ratio,
        }
        if self.error:
            record["error"] = self.error
        return json.dumps(record, ensure_ascii=False)


# ------------------------------------------------------------------ the demo file


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in _DEMO_SOURCES:
        path = REPO / name
        files = path.rglob("*.py") if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                newest = max(newest, file.stat().st_mtime)
    return newest


@contextmanager
def throwaway_home() -> Iterator[Path]:
    """A temporary KAIRAN_HOME for this process, so no real user folder is touched."""
    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-home-"))
    previous = os.environ.get("KAIRAN_HOME")
    os.environ["KAIRAN_HOME"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("KAIRAN_HOME", None)
        else:
            os.environ["KAIRAN_HOME"] = previous
        shutil.rmtree(folder, ignore_errors=True)


def demo_file() -> Path:
    """The 50,000-household demo file under build/bench/, generated only when missing or stale.

    Stale means older than the demo generator (``desktop/domain/demo_data.py``) or the code that
    decides what is written (demo writer, models, migrations): an out-of-date schema would make
    the first measured open upgrade the file and distort the figures.
    """
    if DEMO_FILE.is_file() and DEMO_FILE.stat().st_mtime > _newest_source_mtime():
        return DEMO_FILE
    from desktop.store.demo_file import create_demo_file

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = DEMO_FILE.with_name(DEMO_FILE.stem + ".partial" + DEMO_FILE.suffix)
    for leftover in (DEMO_FILE, partial):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{leftover}{suffix}").unlink(missing_ok=True)
    print(f"bench: generating {HOUSEHOLDS} households into {DEMO_FILE} (once) …",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    with throwaway_home():
        create_demo_file(partial, households=HOUSEHOLDS)
    partial.replace(DEMO_FILE)
    print(f"bench: demo file ready in {time.perf_counter() - started:.1f} s",
          file=sys.stderr, flush=True)
    return DEMO_FILE


def warm_page_cache(path: Path) -> None:
    """Read the file once so the first measured child does not pay for a cold disk."""
    with path.open("rb") as handle:
        while handle.read(1 << 22):
            pass


# ------------------------------------------------------------------ children


def run_child(module: str, args: list[str]) -> dict[str, Any]:
    """Run ``python -m tests.bench.<module> --child ARGS`` in a fresh process and return the
    result it printed. Each child gets its own empty KAIRAN_HOME and the offscreen platform."""
    home = tempfile.mkdtemp(prefix="kairan-bench-home-")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KAIRAN_HOME=home)
    command = [sys.executable, "-m", f"tests.bench.{module}", "--child", *args]
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as error:
        raise ChildFailed(f"{' '.join(command[2:])} timed out after {CHILD_TIMEOUT:.0f} s") \
            from error
    finally:
        shutil.rmtree(home, ignore_errors=True)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            if result.get("error"):
                raise ChildFailed(f"{' '.join(command[2:])}: {result['error']}")
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    raise ChildFailed(f"{' '.join(command[2:])} exited {done.returncode}: " + " | ".join(tail))


def alternate(ours: Callable[[], float], floor: Callable[[], float],
              repeats: int = REPEATS) -> tuple[float, float]:
    """Measure both sides ``repeats`` times, alternating ours / floor; return both medians."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        mine.append(ours())
        theirs.append(floor())
    return statistics.median(mine), statistics.median(theirs)


def measured_figure(name: str, unit: str, module: str, key: str, *, digits: int = 4,
                    ours_args: list[str] | None = None,
                    floor_args: list[str] | None = None) -> Figure:
    """The figure ``name``: median of ``result[key]`` over children of ``module`` run as
    ``--child ours`` and ``--child floor`` on the demo file. A failure becomes a figure with
    no value and the error (benchmarks never fail the run)."""
    try:
        path = demo_file()
        warm_page_cache(path)
        common = ["--db", str(path)]

        def side(which: str, extra: list[str] | None) -> Callable[[], float]:
            return lambda: float(run_child(module, [which, *common, *(extra or [])])[key])

        value, baseline = alternate(side("ours", ours_args), side("floor", floor_args))
    except Exception as error:  # a benchmark reports its trouble, it never fails the run
        return Figure(name, unit, None, None, digits, error=f"{type(error).__name__}: {error}")
    return Figure(name, unit, value, baseline, digits)


# ------------------------------------------------------------------ inside a child


def rss_mib() -> float:
    """Resident memory of this process now (VmRSS), in MiB."""
    with Path("/proc/self/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def child_result(result: dict[str, Any]) -> NoReturn:
    """Print the child's result for the parent and leave at once.

    ``os._exit`` skips interpreter and Qt teardown (and the app's background work such as an
    automatic backup), which is not what is measured; nothing was written to the file.
    """
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``values`` (nearest rank, so p95 of 60 is the 57th)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def figure_main(
    argv: Sequence[str] | None,
    figure: Callable[[], Figure],
    child_main: Callable[[Sequence[str]], int],
    extras: dict[str, Callable[[], None]] | None = None,
) -> int:
    """The ``main`` of a figure module: ``--child SIDE --db PATH`` runs one side in this
    process; an extra flag (e.g. ``--profile``) runs its function; else the figure is printed."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--child"]:
        return child_main(arguments[1:])
    for flag, run in (extras or {}).items():
        if flag in arguments:
            run()
            return 0
    print(figure().as_json(), flush=True)
    return 0

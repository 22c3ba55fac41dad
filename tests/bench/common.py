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


def demo_path(households: int = HOUSEHOLDS) -> Path:
    """Where the cached demo file of ``households`` households lives (``demo-50k.kairan``)."""
    if households % 1000 == 0:
        return BENCH_DIR / f"demo-{households // 1000}k.kairan"
    return BENCH_DIR / f"demo-{households}.kairan"


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def demo_file(households: int = HOUSEHOLDS) -> Path:
    """The demo file of ``households`` (50,000 by default) under build/bench/, generated only
    when missing or stale.

    Stale means older than the demo generator (``desktop/domain/demo_data.py``) or the code that
    decides what is written (demo writer, models, migrations): an out-of-date schema would make
    the first measured open upgrade the file and distort the figures.
    """
    target = demo_path(households)
    if target.is_file() and target.stat().st_mtime > _newest_source_mtime():
        return target
    from desktop.store.demo_file import create_demo_file

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.stem + ".partial" + target.suffix)
    for leftover in (target, partial):
        _remove_database(leftover)
    print(f"bench: generating {households} households into {target} (once) …",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    with throwaway_home():
        create_demo_file(partial, households=households)
    partial.replace(target)
    print(f"bench: demo file ready in {time.perf_counter() - started:.1f} s",
          file=sys.stderr, flush=True)
    return target


# The exported spreadsheets are stale when the export code is newer than them.
_EXPORT_SOURCES = ("reports/roster_xlsx.py", "desktop/domain/roster.py")


def roster_xlsx(households: int = HOUSEHOLDS, *, members: bool) -> Path:
    """The demo of ``households`` exported by ``export_roster`` to .xlsx under build/bench/
    (``members``: one row per member, else one row per household); made once, remade when
    the demo file or the export code is newer."""
    source = demo_file(households)
    kind = "members" if members else "households"
    target = source.with_name(f"{source.stem}-{kind}.xlsx")
    newest = max([source.stat().st_mtime,
                  *((REPO / name).stat().st_mtime for name in _EXPORT_SOURCES)])
    if target.is_file() and target.stat().st_mtime > newest:
        return target
    from desktop.store.association_file import open_association
    from reports.roster_xlsx import export_roster

    print(f"bench: exporting {source.name} to {target.name} (once) …", file=sys.stderr,
          flush=True)
    started = time.perf_counter()
    with throwaway_home():
        opened = open_association(source)
        try:
            with opened.read() as session:
                export_roster(session, target, members=members)
        finally:
            opened.close()
    print(f"bench: {target.name} ready in {time.perf_counter() - started:.1f} s",
          file=sys.stderr, flush=True)
    return target


EMPTY_FILE = BENCH_DIR / "empty.kairan"


def empty_association_file() -> Path:
    """A new association file with the association recorded and no households (the target
    of a first import), under build/bench/; children import into copies of it."""
    if EMPTY_FILE.is_file() and EMPTY_FILE.stat().st_mtime > _newest_source_mtime():
        return EMPTY_FILE
    from desktop.domain.association import create_association
    from desktop.store.association_file import create_association_file

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    partial = EMPTY_FILE.with_name(EMPTY_FILE.stem + ".partial" + EMPTY_FILE.suffix)
    for leftover in (EMPTY_FILE, partial):
        _remove_database(leftover)
    with throwaway_home():
        created = create_association_file(partial)
        try:
            with created.write() as session:
                create_association(session, name="ベンチ町内会")
        finally:
            created.close()  # checkpoints the WAL: the copy is one file
    partial.replace(EMPTY_FILE)
    return EMPTY_FILE


def copy_database(source: Path, folder: Path) -> Path:
    """A copy of the SQLite file ``source`` (closed, checkpointed) in ``folder``."""
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


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
                    floor_args: list[str] | None = None,
                    prepare: Callable[[], list[str]] | None = None) -> Figure:
    """The figure ``name``: median of ``result[key]`` over children of ``module`` run as
    ``--child ours`` and ``--child floor``, both with the arguments ``prepare()`` returns
    (by default ``--db`` and the 50,000-household demo file, its pages warmed). A failure
    becomes a figure with no value and the error (benchmarks never fail the run)."""
    try:
        common = prepare() if prepare is not None else _demo_arguments()

        def side(which: str, extra: list[str] | None) -> Callable[[], float]:
            return lambda: float(run_child(module, [which, *common, *(extra or [])])[key])

        value, baseline = alternate(side("ours", ours_args), side("floor", floor_args))
    except Exception as error:  # a benchmark reports its trouble, it never fails the run
        return Figure(name, unit, None, None, digits, error=f"{type(error).__name__}: {error}")
    return Figure(name, unit, value, baseline, digits)


def _demo_arguments() -> list[str]:
    path = demo_file()
    warm_page_cache(path)
    return ["--db", str(path)]


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


def profile_lines(profiler: Any, *, pattern: str | None = None, count: int = 30,
                  by_own_time: bool = False) -> list[str]:
    """The top ``count`` entries of a ``cProfile.Profile`` by cumulative (or own) time,
    only those whose file matches ``pattern`` when given, with the repository path shortened."""
    import io
    import pstats

    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats(pstats.SortKey.TIME if by_own_time else pstats.SortKey.CUMULATIVE)
    stats.print_stats(*(pattern, count) if pattern else (count,))
    lines = stream.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return [line.rstrip().replace(str(REPO) + "/", "") for line in lines[start:] if line.strip()]


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

"""Figure ``roster_import_50k``: seconds to import the 50,000-household demo roster, one row per
member (about 120,000 rows), from .xlsx into a new, empty association file, end to end: read,
normalise, validate, diff, write. The issue asks for ratio ≤ 2.

The spreadsheet is the cached 50,000-household demo exported once by Kairan's own
``export_roster(..., members=True)`` (``build/bench/demo-50k-members.xlsx``); each child
imports it into its own copy of a new association file (``build/bench/empty.kairan``).

Ours: ``read_roster`` + ``plan_file`` + ``apply_import`` in one write transaction
(``AssociationFile.write()``), committed, as ``kairan import FILE`` does it. Floor, same run,
same file: python-calamine reads the same sheet, the rows are grouped by 世帯番号 and written
as they are read (no normalisation; the derived columns get the raw reading and the raw text
joined; ids are the app's own time-ordered UUIDv7) with raw ``sqlite3`` ``executemany`` into
the household, member and 班 tables of the same copy of the new association file (the app's
own schema and connection settings), in one transaction.

    python -m tests.bench.roster_import            # the figure (5 + 5 children)
    python -m tests.bench.roster_import --profile  # cProfile of one import, by cumulative time
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.bench.common import (
    ChildFailed,
    Figure,
    child_result,
    copy_database,
    empty_association_file,
    figure_main,
    measured_figure,
    profile_lines,
    roster_xlsx,
    run_child,
    warm_page_cache,
)

NAME = "roster_import_50k"
MODULE = "roster_import"
SHEET = "名簿"  # the sheet export_roster writes
PROFILE_TOP = 45
MEMBER_COUNT = 18  # the household table's member_count column


def import_ours(xlsx: Path, target: Path, *, profile: bool = False) -> dict[str, Any]:
    """Import ``xlsx`` into the association file ``target`` as ``kairan import`` does."""
    from desktop.domain.imports.pipeline import plan_file, read_roster
    from desktop.domain.imports.plan import apply_import
    from desktop.store.association_file import open_association

    opened = open_association(target)  # checks and the integrity check: not measured
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    read = read_roster(xlsx)
    was_read = time.perf_counter()
    with opened.write() as session:
        plan = plan_file(session, read)
        planned = time.perf_counter()
        if plan.errors:
            return {"error": f"the plan has {len(plan.errors)} errors: {plan.errors[0].message}"}
        result = apply_import(session, plan)
        applied = time.perf_counter()
    finished = time.perf_counter()  # after the commit
    if profiler is not None:
        profiler.disable()
    opened.close()
    outcome: dict[str, Any] = {
        "seconds": finished - started, "read": was_read - started, "plan": planned - was_read,
        "apply": applied - planned, "commit": finished - applied, "added": result.added,
        **_counts(target)}
    if profiler is not None:
        outcome["profile"] = profile_lines(profiler, count=PROFILE_TOP)
        outcome["profile_own"] = profile_lines(profiler, count=PROFILE_TOP, by_own_time=True)
    return outcome


def import_floor(xlsx: Path, target: Path) -> dict[str, Any]:
    """The same sheet read with calamine and written with raw ``executemany``."""
    import json
    import sqlite3
    from datetime import UTC, date, datetime

    from python_calamine import CalamineWorkbook

    from desktop.domain.ids import uuid7
    from desktop.store.engine import configure_connection

    started = time.perf_counter()
    workbook = CalamineWorkbook.from_path(str(xlsx))
    values = workbook.get_sheet_by_name(SHEET).to_python()
    workbook.close()
    header = [str(title) for title in values[0]]

    def at(title: str) -> int:
        return header.index(title)

    (number_at, group_at, name_at, furigana_at, member_at, relation_at, reading_at, postal_at,
     address_at, phone_at, email_at, channel_at, joined_at, exempt_at, notes_at) = (
        at(title) for title in ("世帯番号", "班", "世帯主", "フリガナ", "氏名", "続柄",
                                "氏名フリガナ", "郵便番号", "住所", "電話", "メール", "配布方法",
                                "入会日", "班長免除", "備考"))
    now = datetime.now(UTC).replace(microsecond=0).isoformat(" ")
    groups: dict[str, tuple[str, int]] = {}  # 班 name → (id, households so far)
    households: list[list[object]] = []
    members: list[tuple[object, ...]] = []
    household: list[object] = []
    last_number: object = None
    position = 0
    for row in values[1:]:
        number = row[number_at]
        if number != last_number:
            last_number = number
            group = str(row[group_at])
            group_id, count = groups.get(group) or (uuid7().hex, 0)
            groups[group] = (group_id, count + 1)
            name, furigana, address = row[name_at], row[furigana_at], row[address_at]
            joined = row[joined_at]
            position = 0
            household = [
                uuid7().hex, number, name, furigana, furigana, row[postal_at], address,
                row[phone_at], row[channel_at], json.dumps([row[email_at]]), group_id,
                count + 1, joined.isoformat() if isinstance(joined, date) else None, None,
                row[exempt_at] != "", False, row[notes_at],
                f"{number}\x1f{name}\x1f{furigana}\x1f{address}", 0, now]
            households.append(household)
        if row[member_at]:
            position += 1
            household[MEMBER_COUNT] = position
            relation = row[relation_at]
            members.append((uuid7().hex, household[0], row[member_at], row[reading_at],
                            relation, relation == "世帯主", "", "", False, position, ""))
    connection = sqlite3.connect(target, isolation_level=None)
    configure_connection(connection)
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO roster_group (id, parent_id, name, kind, position) VALUES (?, NULL, ?, "
        "'han', ?)", [(group_id, name, position) for position, (name, (group_id, _count))
                      in enumerate(groups.items(), start=1)])
    connection.executemany(f"INSERT INTO household VALUES ({', '.join('?' * 20)})", households)
    connection.executemany(f"INSERT INTO member VALUES ({', '.join('?' * 11)})", members)
    connection.execute("COMMIT")
    finished = time.perf_counter()
    connection.close()
    return {"seconds": finished - started, "added": len(households), **_counts(target)}


def _counts(path: Path) -> dict[str, int]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as connection:
        households = connection.execute("SELECT count(*) FROM household").fetchone()[0]
        members = connection.execute("SELECT count(*) FROM member").fetchone()[0]
    return {"households": int(households), "members": int(members)}


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process, on a private copy of the empty file."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours", "floor"))
    parser.add_argument("--xlsx", type=Path, required=True)
    parser.add_argument("--empty", type=Path, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-import-"))
    try:
        target = copy_database(args.empty, folder)
        if args.side == "ours":
            result = import_ours(args.xlsx, target, profile=args.profile)
        else:
            result = import_floor(args.xlsx, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    child_result(result)


def _arguments() -> list[str]:
    xlsx = roster_xlsx(members=True)
    warm_page_cache(xlsx)
    return ["--xlsx", str(xlsx), "--empty", str(empty_association_file())]


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds", prepare=_arguments)


def print_profile() -> None:
    """Import once under cProfile in a child; print the top entries to stdout."""
    try:
        result = run_child(MODULE, ["ours", *_arguments(), "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# import under cProfile: {result['seconds']:.3f} s including the profiler's "
          f"overhead (read {result['read']:.2f}, plan {result['plan']:.2f}, apply "
          f"{result['apply']:.2f}, commit {result['commit']:.2f})")
    print("## by cumulative time")
    print("\n".join(result["profile"]))
    print("## by own time")
    print("\n".join(result["profile_own"]))


def print_stages() -> None:
    """One child per side; print their results (stage times, rows written) as they are."""
    arguments = _arguments()
    for side in ("ours", "floor"):
        try:
            print(side, run_child(MODULE, [side, *arguments]))
        except ChildFailed as error:
            print(f"{side} failed: {error}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE ...`` in a child; ``--profile`` or ``--stages`` for a closer look;
    else the figure."""
    return figure_main(argv, figure, child_main,
                       {"--profile": print_profile, "--stages": print_stages})


if __name__ == "__main__":
    sys.exit(main())

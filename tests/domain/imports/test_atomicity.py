"""An import is all or nothing: trouble in row 4,999 of 5,000 leaves the roster as it was."""

from __future__ import annotations

import csv
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop.domain.errors import ConflictError
from desktop.domain.imports.pipeline import plan_file, read_roster
from desktop.domain.imports.plan import ImportPlan, apply_import
from desktop.store.association_file import AssociationFile

ROWS = 5000
EXISTING = 2000
TABLES = ("household", "member", "roster_group")


def _write_csv(path: Path, count: int, *, phone: str, bad_row: int | None = None) -> Path:
    """A roster of ``count`` households over 10 班; ``bad_row`` (as Excel numbers rows, the
    header being row 1) gets a reading written in kanji, which no furigana may hold."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["世帯番号", "班", "世帯主", "フリガナ", "電話"])
        for number in range(1, count + 1):
            furigana = "山田" if number + 1 == bad_row else "やまだ たろう"
            writer.writerow([f"{number:04d}", f"{number % 10 + 1}班", f"山田 {number}",
                             furigana, phone])
    return path


def _plan(association_file: AssociationFile, path: Path) -> ImportPlan:
    read = read_roster(path)
    with association_file.read() as session:
        return plan_file(session, read)


def _snapshot(association_file: AssociationFile) -> dict[str, list[tuple[object, ...]]]:
    with closing(sqlite3.connect(association_file.path)) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in TABLES}


@pytest.fixture
def seeded(association_file: AssociationFile, tmp_path: Path) -> AssociationFile:
    """2,000 households in 10 班 already in the roster."""
    plan = _plan(association_file, _write_csv(tmp_path / "first.csv", EXISTING,
                                              phone="03-0000-0000"))
    with association_file.write() as session:
        apply_import(session, plan)
    return association_file


def test_a_bad_row_4999_is_named_and_nothing_is_written(seeded: AssociationFile,
                                                       tmp_path: Path) -> None:
    before = _snapshot(seeded)
    path = _write_csv(tmp_path / "second.csv", ROWS, phone="03-1111-1111", bad_row=4999)
    plan = _plan(seeded, path)
    assert [(error.rows, error.number) for error in plan.errors] == [((4999,), "4998")]
    assert plan.errors[0].message.startswith("second.csv, row 4999, フリガナ: ")
    with pytest.raises(ConflictError), seeded.write() as session:
        apply_import(session, plan)
    assert _snapshot(seeded) == before


def test_a_write_failing_at_row_4999_rolls_back_everything(seeded: AssociationFile,
                                                          tmp_path: Path) -> None:
    """The database itself refuses the 4,999th household (as a full disk would): the 2,000
    updates and 2,997 inserts before it, and the new 班, are all undone."""
    path = _write_csv(tmp_path / "second.csv", ROWS, phone="03-1111-1111")
    plan = _plan(seeded, path)
    assert not plan.errors
    with closing(sqlite3.connect(seeded.path)) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_4999 BEFORE INSERT ON household WHEN NEW.number = '4999' "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        connection.commit()
    before = _snapshot(seeded)
    with pytest.raises(sqlite3.DatabaseError, match="disk is full"), \
            seeded.write() as session:
        apply_import(session, plan)
    assert _snapshot(seeded) == before

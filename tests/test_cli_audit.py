"""``kairan audit verify`` and ``kairan audit export``, driven through their own parser (the
lead wires them into ``desktop.cli``): exit 0 for an intact trail, 1 naming the first bad
record for a tampered one; the export writes what the history holds."""

from __future__ import annotations

import argparse
import csv
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop import cli_audit
from desktop.domain import audit
from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData, create_household
from desktop.store.association_file import AssociationFile


def run(argv: list[str]) -> int:
    """Parse like ``kairan`` does (a global --db, then the command) and run."""
    parser = argparse.ArgumentParser(prog="kairan")
    parser.add_argument("--db", type=Path)
    commands = parser.add_subparsers(dest="command")
    cli_audit.add_parser(commands)
    args = parser.parse_args(argv)
    return cli_audit.run(args, args.db)


@pytest.fixture
def db(association_file: AssociationFile) -> Path:
    association_file.actor = audit.Actor("山田")
    for number in ("1", "2"):
        with association_file.write() as session:
            create_household(session, data=HouseholdData(number=number,
                                                         display_name=f"世帯{number}"),
                             members=[MemberData(name=f"世帯{number} 一郎")])
    association_file.close()
    return association_file.path


def test_verify_an_intact_trail(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["audit", "verify", "--db", str(db)]) == 0
    assert "intact" in capsys.readouterr().out
    assert run(["--db", str(db), "audit", "verify"]) == 0  # --db before the command too


def test_verify_names_the_first_tampered_record(db: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with closing(sqlite3.connect(db)) as connection:
        last = connection.execute("SELECT max(seq) FROM audit_record").fetchone()[0]
        connection.execute("UPDATE audit_record SET actor = '誰か' WHERE seq = ?", (last - 1,))
        connection.commit()
    assert run(["audit", "verify", "--db", str(db)]) == cli_audit.EXIT_TAMPERED
    out = capsys.readouterr().out
    assert "tampered" in out and f"record {last - 1}" in out


def test_verify_a_deleted_record(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with closing(sqlite3.connect(db)) as connection:
        connection.execute("DELETE FROM audit_record WHERE seq = 3")
        connection.commit()
    assert run(["audit", "verify", "--db", str(db)]) == cli_audit.EXIT_TAMPERED
    assert "Record 3 is missing" in capsys.readouterr().out


def test_export_writes_the_history(db: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "history.csv"
    assert run(["audit", "export", "--db", str(db), str(out)]) == 0
    with closing(sqlite3.connect(db)) as connection:
        total = connection.execute("SELECT count(*) FROM audit_record").fetchone()[0]
    assert f"Wrote {total} records" in capsys.readouterr().out
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert {int(row[0]) for row in rows[1:]} == set(range(1, total + 1))
    assert any("世帯1" in cell for row in rows for cell in row)


def test_export_one_household_to_xlsx(db: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "one.xlsx"
    assert run(["--db", str(db), "audit", "export", str(out), "--household", "2"]) == 0
    workbook = load_workbook(out, read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    texts = " ".join(str(cell) for row in rows[1:] for cell in row)
    assert "世帯2" in texts and "世帯1" not in texts


def test_export_refuses_an_unknown_household_and_a_bad_name(db: Path, tmp_path: Path) -> None:
    with pytest.raises(KairanError, match="99"):
        run(["audit", "export", "--db", str(db), str(tmp_path / "x.csv"), "--household", "99"])
    with pytest.raises(KairanError, match=r"\.csv"):
        run(["audit", "export", "--db", str(db), str(tmp_path / "x.pdf")])

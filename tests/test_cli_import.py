"""``kairan export`` then ``kairan import``: the round trip changes nothing; a dry run writes
nothing; problems stop the import with the row named."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from desktop.cli import main
from desktop.cli_import import parse_mapping
from desktop.domain.errors import KairanError
from desktop.domain.imports.model import Field


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    path = tmp_path / "demo.kairan"
    assert main(["--lang", "en", "demo", "create", str(path), "--households", "30"]) == 0
    return path


def test_export_then_import_changes_nothing(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "roster.xlsx"
    assert main(["--lang", "en", "--db", str(demo), "export", str(sheet)]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "--db", str(demo), "import", str(sheet), "--dry-run"]) == 0
    assert "0 new, 0 to update, 30 unchanged, 0 with problems" in capsys.readouterr().out


def test_import_into_a_new_association_then_again(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet, fresh = tmp_path / "roster.xlsx", tmp_path / "fresh.kairan"
    assert main(["--lang", "en", "--db", str(demo), "export", str(sheet)]) == 0
    assert main(["--lang", "en", "--db", str(fresh), "new", "--name", "新町内会"]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "--db", str(fresh), "import", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "30 new" in out and "30 added" in out and "new 班: 1班、2班" in out
    assert main(["--lang", "en", "--db", str(fresh), "import", str(sheet), "--dry-run"]) == 0
    assert "30 unchanged" in capsys.readouterr().out


def test_a_dry_run_writes_nothing(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet, fresh = tmp_path / "roster.xlsx", tmp_path / "fresh.kairan"
    assert main(["--lang", "en", "--db", str(demo), "export", str(sheet)]) == 0
    assert main(["--lang", "en", "--db", str(fresh), "new", "--name", "新町内会"]) == 0
    assert main(["--lang", "en", "--db", str(fresh), "import", str(sheet), "--dry-run"]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "--db", str(fresh), "import", str(sheet), "--dry-run"]) == 0
    assert "30 new" in capsys.readouterr().out


def test_a_bad_row_stops_the_import_and_names_the_row(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet, fresh = tmp_path / "roster.xlsx", tmp_path / "fresh.kairan"
    assert main(["--lang", "en", "--db", str(demo), "export", str(sheet)]) == 0
    book = openpyxl.load_workbook(sheet)
    book.active["D5"] = "漢字の読み"  # the フリガナ column of the fourth household
    book.save(sheet)
    assert main(["--lang", "en", "--db", str(fresh), "new", "--name", "新町内会"]) == 0
    capsys.readouterr()
    assert main(["--lang", "en", "--db", str(fresh), "import", str(sheet)]) == 2
    out = capsys.readouterr().out
    assert "roster.xlsx, 名簿, row 5, フリガナ" in out and "Nothing was imported" in out
    assert main(["--lang", "en", "--db", str(fresh), "roster", "list", "--format", "csv"]) == 0
    assert capsys.readouterr().out.count("\n") == 1  # the header only: nothing imported


def test_mapping_option() -> None:
    assert parse_mapping("name=B, number=1") == {Field.NAME: 1, Field.NUMBER: 0}
    assert parse_mapping("address=AA") == {Field.ADDRESS: 26}
    with pytest.raises(KairanError, match="Unknown field"):
        parse_mapping("colour=A")
    with pytest.raises(KairanError, match="not a column"):
        parse_mapping("name=?")

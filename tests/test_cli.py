"""The ``kairan`` command line, run in-process (and once as ``python -m desktop``)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import __version__
from desktop.cli import EXIT_PROBLEM, main
from desktop.i18n import current_language

DEMO_HOUSEHOLDS = 40


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo file for the module, written through the CLI itself; tests work on copies."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.kairan"
    with pytest.MonkeyPatch.context() as patch:  # the per-test KAIRAN_HOME is not set yet
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        code = main(
            ["--lang", "en", "demo", "create", str(path), "--households", str(DEMO_HOUSEHOLDS)]
        )
    assert code == 0
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.kairan"
    copy.write_bytes(demo_template.read_bytes())
    return copy


def test_demo_create(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "new-demo.kairan"
    code, out, err = _run(capsys, "demo", "create", str(path), "--households", "12")
    assert (code, err) == (0, "")
    assert "12 households" in out
    assert path.is_file()
    code, out, _err = _run(capsys, "--db", str(path), "roster", "list", "--format", "json")
    assert code == 0
    assert len(json.loads(out)) == 12


def test_demo_create_refuses_a_silly_size(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = _run(
        capsys, "demo", "create", str(tmp_path / "x.kairan"), "--households", "0"
    )
    assert code == EXIT_PROBLEM
    assert "--households" in err
    assert not (tmp_path / "x.kairan").exists()


def test_roster_list_json(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, err = _run(capsys, "--db", str(demo), "roster", "list", "--format", "json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert len(rows) == DEMO_HOUSEHOLDS
    assert set(rows[0]) == {
        "number",
        "name",
        "furigana",
        "group",
        "address",
        "phone",
        "channel",
        "members",
        "withdrawn",
    }
    assert len({row["number"] for row in rows}) == DEMO_HOUSEHOLDS
    assert all(row["withdrawn"] is False and row["members"] >= 1 for row in rows)


def test_roster_list_csv(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, _err = _run(capsys, "--db", str(demo), "roster", "list", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == DEMO_HOUSEHOLDS
    assert rows[0]["channel"] in {"app", "email", "paper"}


def test_roster_list_table(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, _err = _run(capsys, "--db", str(demo), "roster", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["No.", "Name", "Furigana"]
    assert len(lines) == DEMO_HOUSEHOLDS + 1


def test_roster_list_one_group(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, _err = _run(
        capsys, "--db", str(demo), "roster", "list", "--group", "１班", "--format", "json"
    )
    assert code == 0
    rows = json.loads(out)
    assert 0 < len(rows) < DEMO_HOUSEHOLDS
    assert {row["group"] for row in rows} == {"1班"}


def test_roster_list_unknown_group(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, out, err = _run(capsys, "--db", str(demo), "roster", "list", "--group", "99班")
    assert code == EXIT_PROBLEM
    assert out == ""
    assert "There is no group called 99班" in err
    assert "1班" in err and "2班" in err


def test_new_association(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "new.kairan"
    code, out, _err = _run(
        capsys, "--db", str(path), "new", "--name", "桜町自治会", "--start-month", "1"
    )
    assert code == 0
    assert "Created" in out
    code, out, _err = _run(capsys, "--db", str(path), "roster", "list", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_new_with_a_bad_month_leaves_no_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "new.kairan"
    code, _out, err = _run(capsys, "--db", str(path), "new", "--name", "町", "--start-month", "13")
    assert code == EXIT_PROBLEM
    assert "month" in err
    assert not path.exists()


def test_default_file_lives_in_the_redirected_home(
    capsys: pytest.CaptureFixture[str], kairan_home: Path
) -> None:
    code, _out, _err = _run(capsys, "new", "--name", "桜町自治会")
    assert code == 0
    assert (kairan_home / "association.kairan").is_file()


def test_backup_then_restore(
    capsys: pytest.CaptureFixture[str], demo: Path, kairan_home: Path
) -> None:
    code, out, _err = _run(capsys, "--db", str(demo), "restore", "--list")
    assert (code, out) == (0, "")

    code, out, err = _run(capsys, "--db", str(demo), "backup")
    assert (code, err) == (0, "")
    assert "Backed up to" in out
    backup = Path(out.strip().removeprefix("Backed up to ").removesuffix("."))
    assert backup.is_file()
    assert kairan_home in backup.parents  # backups stay on this PC, in Kairan's folder

    code, out, _err = _run(capsys, "--db", str(demo), "restore", "--list")
    assert code == 0
    assert "manual" in out
    assert str(backup) in out

    demo.write_bytes(b"ruined")  # the officer's file is lost
    code, out, err = _run(capsys, "--db", str(demo), "restore")
    assert (code, err) == (0, "")
    assert f"Restored {backup}" in out
    assert "kept as" not in out  # the ruined file was not worth keeping
    code, out, _err = _run(capsys, "--db", str(demo), "roster", "list", "--format", "json")
    assert len(json.loads(out)) == DEMO_HOUSEHOLDS


def test_restore_a_named_backup_keeps_the_replaced_file(
    capsys: pytest.CaptureFixture[str], demo: Path
) -> None:
    _run(capsys, "--db", str(demo), "backup")
    [line] = _run(capsys, "--db", str(demo), "restore", "--list")[1].splitlines()
    backup = line.split()[-1]
    code, out, _err = _run(capsys, "--db", str(demo), "restore", backup)
    assert code == 0
    assert "The replaced file was kept as" in out
    code, out, _err = _run(capsys, "--db", str(demo), "restore", "--list")
    assert "before-restore" in out


def test_restore_without_backups(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    code, _out, err = _run(capsys, "--db", str(demo), "restore")
    assert code == EXIT_PROBLEM
    assert "There is no good backup" in err


@pytest.mark.parametrize("command", [["roster", "list"], ["backup"]])
def test_missing_file_is_exit_2_with_a_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "missing.kairan"
    code, out, err = _run(capsys, "--db", str(missing), *command)
    assert code == EXIT_PROBLEM
    assert out == ""
    assert err.startswith("Error: There is no file at")
    assert "missing.kairan" in err
    assert not missing.exists()


def test_not_a_kairan_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "meibo.kairan"
    path.write_text("山田,太郎\n", encoding="utf-8")
    code, _out, err = _run(capsys, "--db", str(path), "roster", "list")
    assert code == EXIT_PROBLEM
    assert "not a Kairan association file" in err


@pytest.mark.parametrize(
    ("argv", "language"), [([], "ja"), (["--lang", "ja"], "ja"), (["--lang", "en"], "en")]
)
def test_messages_follow_lang(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], language: str
) -> None:
    code = main([*argv, "--db", str(tmp_path / "missing.kairan"), "roster", "list"])
    assert code == EXIT_PROBLEM
    assert "missing.kairan" in capsys.readouterr().err
    assert current_language() == language  # Japanese unless --lang says otherwise


def test_python_m_desktop_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Kairan {__version__}"

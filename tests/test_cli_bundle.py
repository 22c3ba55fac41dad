"""``kairan export-all`` and ``kairan import-all`` from the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlmodel import func, select

from desktop import cli_bundle
from desktop.domain.errors import KairanError
from desktop.domain.households import HouseholdData, MemberData, create_household
from desktop.domain.models import Household, Member
from desktop.store.association_file import AssociationFile, open_association


def kairan(argv: Sequence[str]) -> int:
    """The two commands behind a top-level ``--db``, as ``desktop.cli`` declares it."""
    parser = argparse.ArgumentParser(prog="kairan")
    parser.add_argument("--db", type=Path)
    commands = parser.add_subparsers(dest="command")
    cli_bundle.add_parser(commands)
    args = parser.parse_args(list(argv))
    assert args.command in cli_bundle.COMMANDS
    return cli_bundle.run(args, args.db)


@pytest.fixture
def source(association_file: AssociationFile) -> Path:
    """The test association with three households."""
    with association_file.write() as session:
        for number, name in (("0001", "青木 一郎"), ("0002", "石井 花子"), ("0003", "上田 三郎")):
            create_household(session, data=HouseholdData(number=number, display_name=name),
                             members=[MemberData(name=name, is_head=True)])
    association_file.close()
    return association_file.path


def _counts(path: Path) -> tuple[int, int]:
    opened = open_association(path)
    try:
        with opened.read() as session:
            return (session.exec(select(func.count()).select_from(Household)).one(),
                    session.exec(select(func.count()).select_from(Member)).one())
    finally:
        opened.close()


def test_export_all_to_a_zip_and_import_all_into_a_new_file(
        source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kairan(["--db", str(source), "export-all", str(tmp_path / "全データ"), "--zip"]) == 0
    out = capsys.readouterr().out
    assert f"Wrote the whole association to {tmp_path / '全データ.zip'}" in out
    new = tmp_path / "restored.kairan"
    assert kairan(["import-all", str(tmp_path / "全データ.zip"), "--db", str(new)]) == 0
    assert f"Made {new} from" in capsys.readouterr().out
    assert _counts(new) == _counts(source) == (3, 3)


def test_db_may_follow_the_command_and_a_folder_is_the_default(
        source: Path, tmp_path: Path) -> None:
    assert kairan(["export-all", str(tmp_path / "out"), "--db", str(source)]) == 0
    assert json.loads((tmp_path / "out" / "manifest.json").read_text("utf-8"))["tables"][
        "household"]["rows"] == 3


def test_import_all_needs_a_new_file_named(source: Path, tmp_path: Path) -> None:
    kairan(["--db", str(source), "export-all", str(tmp_path / "out")])
    with pytest.raises(KairanError, match="with --db"):
        kairan(["import-all", str(tmp_path / "out")])
    with pytest.raises(KairanError, match="already exists"):
        kairan(["import-all", str(tmp_path / "out"), "--db", str(source)])
    assert _counts(source) == (3, 3)


def test_a_bundle_from_a_newer_kairan_is_refused_and_no_file_is_made(
        source: Path, tmp_path: Path) -> None:
    kairan(["--db", str(source), "export-all", str(tmp_path / "out")])
    manifest_path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest.update(format_version=99, kairan_version="3.0.0")
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(KairanError, match=r"newer version of Kairan \(3\.0\.0\)"):
        kairan(["import-all", str(tmp_path / "out"), "--db", str(tmp_path / "new.kairan")])
    assert not (tmp_path / "new.kairan").exists()

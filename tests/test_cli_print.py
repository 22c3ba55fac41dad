"""``kairan print roster``: valid PDFs from a demo association, clear errors for bad input."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from desktop.cli import EXIT_PROBLEM, main
from desktop.domain.association import current_year
from desktop.domain.circulars import find_circular, recipients
from desktop.domain.groups import group_tree
from desktop.domain.households import han_route
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.domain.roles import role_board
from desktop.store.association_file import open_association
from tests.reports.pdf.pdf_checks import assert_fonts_embedded, page_count, page_texts

DEMO_HOUSEHOLDS = 40


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo association for the module; printing only reads it."""
    folder = tmp_path_factory.mktemp("print-demo")
    path = folder / "demo.kairan"
    with pytest.MonkeyPatch.context() as patch:  # the per-test KAIRAN_HOME is not set yet
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        code = main(["--lang", "en", "demo", "create", str(path), "--households",
                     str(DEMO_HOUSEHOLDS)])
    assert code == 0
    return path


def _print(capsys: pytest.CaptureFixture[str], demo: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", "--db", str(demo), "print", "roster", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_group_lists_follow_each_route(capsys: pytest.CaptureFixture[str], demo: Path,
                                       tmp_path: Path) -> None:
    out = tmp_path / "班別名簿.pdf"
    code, printed, err = _print(capsys, demo, "--kind", "groups", "--out", str(out))
    assert (code, err) == (0, "")
    pages = page_count(out)
    assert f"Wrote {out} (pages: {pages})." in printed
    assert_fonts_embedded(out)
    association_file = open_association(demo)
    try:
        with association_file.read() as session:
            hans = [g for g in group_tree(session) if g.kind == GroupKind.HAN]
            routes = {g.name: [stop.number for stop in han_route(session, group_id=g.id)]
                      for g in hans}
            year = current_year(session, today=date.today())
            leaders = {slot.group_name: slot.holders[0].member_name
                       for slot in role_board(session, year=year)
                       if slot.group_name and slot.holders}
    finally:
        association_file.close()
    assert leaders, "the demo names a 班長 for each 班"
    texts = page_texts(out)
    assert len(texts) >= len(routes)
    for name, numbers in routes.items():
        text = "\n".join(t for t in texts if f"班別名簿　{name}" in t)
        positions = [text.find(f"\n{number}\n") for number in numbers]
        assert -1 not in positions and positions == sorted(positions), name
        assert f"計 {len(numbers)}世帯" in text
        if name in leaders:
            assert f"班長 {leaders[name]}" in text


def test_officers_list(capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "役員.pdf"
    code, _printed, err = _print(capsys, demo, "--kind", "officers", "--out", str(out),
                                 "--large")
    assert (code, err) == (0, "")
    text = "\n".join(page_texts(out))
    assert "役員連絡先一覧" in text and "取扱注意" in text and "会長" in text
    assert_fonts_embedded(out)


def test_labels_for_paper_households(capsys: pytest.CaptureFixture[str], demo: Path,
                                     tmp_path: Path) -> None:
    association_file = open_association(demo)
    try:
        with association_file.read() as session:
            paper = sum(g.paper_households for g in group_tree(session)
                        if g.kind == GroupKind.HAN)
    finally:
        association_file.close()
    assert paper > 0
    for kind, per_sheet in (("labels12", 12), ("labels24", 24)):
        out = tmp_path / f"{kind}.pdf"
        code, _printed, err = _print(capsys, demo, "--kind", kind, "--paper-only",
                                     "--out", str(out))
        assert (code, err) == (0, "")
        assert page_count(out) == math.ceil(paper / per_sheet)
        assert "\n".join(page_texts(out)).count("様") == paper
        assert_fonts_embedded(out)
    out = tmp_path / "large.pdf"
    code, printed, _err = _print(capsys, demo, "--kind", "labels24", "--large", "--group",
                                 "1班", "--out", str(out))
    assert code == 0 and "12 per sheet" in printed


def test_paper_only_lists_only_paper_households(capsys: pytest.CaptureFixture[str],
                                                demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "paper.pdf"
    code, _printed, _err = _print(capsys, demo, "--kind", "groups", "--paper-only",
                                  "--group", "1班", "--group", "2班", "--out", str(out))
    assert code == 0
    text = "\n".join(page_texts(out))
    assert "班別名簿　1班" in text and "班別名簿　2班" in text and "班別名簿　3班" not in text
    assert "\n紙\n" in text
    assert "\nアプリ\n" not in text and "\nメール\n" not in text


def test_an_unknown_group_is_a_clear_error(capsys: pytest.CaptureFixture[str], demo: Path,
                                           tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    code, printed, err = _print(capsys, demo, "--kind", "groups", "--group", "9班",
                                "--out", str(out))
    assert code == EXIT_PROBLEM and printed == ""
    assert "There is no group called 9班" in err and "1班" in err
    assert not out.exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--kind", "groups", "--out", "roster.xlsx"], "ends in .pdf"),
    (["--kind", "officers", "--paper-only", "--out", "x.pdf"], "--paper-only"),
    (["--kind", "officers", "--year", "99", "--out", "x.pdf"], "--year"),
])
def test_bad_options_are_clear_errors(capsys: pytest.CaptureFixture[str], demo: Path,
                                      tmp_path: Path, argv: list[str], message: str) -> None:
    argv = [str(tmp_path / arg) if arg.endswith((".pdf", ".xlsx")) else arg for arg in argv]
    code, _printed, err = _print(capsys, demo, *argv)
    assert code == EXIT_PROBLEM and message in err
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_a_clear_error(capsys: pytest.CaptureFixture[str], demo: Path,
                                           tmp_path: Path) -> None:
    code, _printed, err = _print(capsys, demo, "--kind", "groups", "--out",
                                 str(tmp_path / "nowhere" / "x.pdf"))
    assert code == EXIT_PROBLEM and "does not exist" in err


def test_a_missing_association_file_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                                     tmp_path: Path) -> None:
    code, _printed, err = _print(capsys, tmp_path / "none.kairan", "--kind", "groups",
                                 "--out", str(tmp_path / "x.pdf"))
    assert code == EXIT_PROBLEM and err.startswith("Error: ")


def test_characters_outside_the_font_are_named(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    from desktop.domain.groups import create_group
    from desktop.domain.households import HouseholdData, create_household

    db = tmp_path / "new.kairan"
    assert main(["--lang", "en", "--db", str(db), "new", "--name", "新町内会"]) == 0
    association_file = open_association(db)
    try:
        with association_file.write() as session:
            han = create_group(session, name="1班")
            create_household(session, group_id=han, data=HouseholdData(
                number="1", display_name="𠮷田 太郎", address="桜町1-1"))
    finally:
        association_file.close()
    capsys.readouterr()
    out = tmp_path / "labels.pdf"
    code, _printed, err = _print(capsys, db, "--kind", "labels12", "--out", str(out))
    assert code == 0 and out.is_file()
    assert "Warning" in err and "「𠮷」" in err


def _circulars(capsys: pytest.CaptureFixture[str], demo: Path) -> dict[str, str]:
    """Title → the id prefix ``print circular --list`` shows."""
    code = main(["--lang", "en", "--db", str(demo), "print", "circular", "--list"])
    listed = capsys.readouterr().out
    assert code == 0
    return {line.split("\t")[-1]: line.split("\t")[0] for line in listed.splitlines()}


def test_a_circular_prints_its_packets_then_the_paper_copies(
        capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    prefix = _circulars(capsys, demo)["秋の一斉清掃のお知らせ"]
    out = tmp_path / "回覧.pdf"
    code = main(["--lang", "en", "--db", str(demo), "print", "circular", prefix,
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert_fonts_embedded(out)
    texts = page_texts(out)
    association_file = open_association(demo)
    try:
        with association_file.read() as session:
            circular_id = find_circular(session, reference=prefix)
            paper = recipients(session, circular_id=circular_id, channel=NoticeChannel.PAPER)
    finally:
        association_file.close()
    routes = [page for page in texts if "回覧板 順路表" in page]
    copies = [page for page in texts if " 様" in page and "世帯番号" in page]
    assert routes and len(copies) >= len(paper)
    assert texts.index(routes[-1]) < texts.index(copies[0])  # packets first, then copies
    assert all(any(f"世帯番号 {r.number}" in page for page in copies) for r in paper)


def test_print_circular_for_one_group_and_its_errors(
        capsys: pytest.CaptureFixture[str], demo: Path, tmp_path: Path) -> None:
    prefix = _circulars(capsys, demo)["秋の一斉清掃のお知らせ"]
    out = tmp_path / "1班.pdf"
    code = main(["--lang", "en", "--db", str(demo), "print", "circular", prefix,
                 "--group", "1班", "--kind", "packet", "--out", str(out)])
    assert code == 0
    routes = [page for page in page_texts(out) if "回覧板 順路表" in page]
    assert routes and all("1班" in page for page in routes)
    capsys.readouterr()

    for argv, expected in (
            (["nope", "--out", str(out)], "not a circular id"),
            (["ffff", "--out", str(out)], "No circular has an id starting with ffff"),
            ([prefix, "--group", "99班", "--out", str(out)], "There is no group called 99班"),
            ([prefix], "Name the circular and the file to write"),
    ):
        code = main(["--lang", "en", "--db", str(demo), "print", "circular", *argv])
        assert code == EXIT_PROBLEM
        assert expected in capsys.readouterr().err

"""``kairan meeting list`` and ``kairan meeting tally``: the demo's meeting as text and JSON,
agreeing with the tally read in the domain, and clear errors for bad ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import EXIT_PROBLEM, main
from desktop.domain.meeting.entries import meeting_tally
from desktop.domain.meeting.explain import quorum_text, summary_lines
from desktop.domain.meeting.meetings import list_meetings
from desktop.store.association_file import AssociationFile, open_association

DEMO_HOUSEHOLDS = 60


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo association for the module; the meeting commands only read it."""
    folder = tmp_path_factory.mktemp("meeting-demo")
    path = folder / "demo.kairan"
    with pytest.MonkeyPatch.context() as patch:  # the per-test KAIRAN_HOME is not set yet
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        assert main(["--lang", "en", "demo", "create", str(path), "--households",
                     str(DEMO_HOUSEHOLDS)]) == 0
    return path


def _run(capsys: pytest.CaptureFixture[str], demo: Path, *argv: str,
         lang: str = "en") -> tuple[int, str, str]:
    code = main(["--lang", lang, "--db", str(demo), "meeting", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_names_each_meeting_by_a_short_id(capsys: pytest.CaptureFixture[str],
                                               demo: Path) -> None:
    code, out, err = _run(capsys, demo, "list")
    assert (code, err) == (0, "")
    opened = open_association(demo)
    try:
        with opened.read() as session:
            [summary] = list_meetings(session)
    finally:
        opened.close()
    prefix, held_on, returned, title = out.rstrip("\n").split("\t")
    assert summary.id.hex.startswith(prefix) and len(prefix) == 4
    assert (held_on, returned, title) == (
        summary.held_on.isoformat(), f"{summary.returned}/{summary.voters}", summary.title)
    assert title.endswith("年度 定期総会") and summary.voters == DEMO_HOUSEHOLDS


def _meeting_prefix(capsys: pytest.CaptureFixture[str], demo: Path) -> str:
    return _run(capsys, demo, "list")[1].split("\t")[0]


def test_tally_as_text_is_the_results_sheet_then_the_chase_list(
        capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    prefix = _meeting_prefix(capsys, demo)
    code, out, err = _run(capsys, demo, "tally", prefix)
    assert (code, err) == (0, "")
    opened = open_association(demo)
    try:
        with opened.read() as session:
            [summary] = list_meetings(session)
            result = meeting_tally(session, meeting_id=summary.id)
    finally:
        opened.close()
    lines = out.rstrip("\n").split("\n")
    assert lines[0].startswith(f"{summary.title} — ")
    assert "(voter list of " in lines[0]
    summary_text = summary_lines(result)
    assert lines[1:1 + len(summary_text)] == summary_text
    assert lines[2] == quorum_text(result) and lines[2].startswith("Quorum: in person ")
    assert sum(line.startswith("  For ") and "→" in line for line in lines) == 4
    chase = lines[1 + len(summary_text):]
    missing = sum(len(group.voters) for group in result.not_returned)
    assert chase[0] == f"Not returned yet ({missing}):"
    first = result.not_returned[0]
    assert chase[1] == (f"  {first.group_name} ({len(first.voters)}): "
                        + "、".join(voter.label for voter in first.voters))


def test_tally_in_japanese(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    prefix = _meeting_prefix(capsys, demo)
    code, out, _err = _run(capsys, demo, "tally", prefix, lang="ja")
    assert code == 0
    assert "定足数" in out and "可決" in out


def test_tally_as_json(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    prefix = _meeting_prefix(capsys, demo)
    code, out, err = _run(capsys, demo, "tally", prefix, "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    opened = open_association(demo)
    try:
        with opened.read() as session:
            [summary] = list_meetings(session)
            result = meeting_tally(session, meeting_id=summary.id)
    finally:
        opened.close()
    assert data["meeting"]["id"] == str(summary.id)
    assert data["meeting"]["title"] == summary.title
    counts = result.counts
    assert data["counts"] == {
        "eligible": counts.eligible, "in_person": counts.in_person,
        "proxies_to_members": counts.to_holder, "proxies_to_chair": counts.to_chair,
        "written": counts.written, "absent": counts.absent, "no_reply": counts.no_reply,
        "lapsed": counts.lapsed, "present": counts.present}
    assert (data["quorum"]["required"], data["quorum"]["counted"],
            data["quorum"]["reached"]) == (result.quorum.required, result.quorum.counted,
                                           result.quorum.reached)
    assert [item["number"] for item in data["items"]] == [1, 2, 3, 4]
    for item, computed in zip(data["items"], result.items, strict=True):
        assert item["votes"] == {"for": computed.votes.for_,
                                 "against": computed.votes.against,
                                 "abstain": computed.votes.abstain}
        assert (item["base"], item["required"], item["passed"], item["arithmetic"]) == (
            computed.base, computed.required, computed.passed, computed.arithmetic)
    assert data["items"][3]["majority"] == {
        "numerator": 2, "denominator": 3, "strict": False, "base": "present",
        "text": "at least 2/3 of those present"}
    assert [problem["message"] for problem in data["problems"]] == [
        problem.message for problem in result.problems]
    assert [group["group"] for group in data["not_returned"]] == [
        group.group_name for group in result.not_returned]
    assert sum(len(group["voters"]) for group in data["not_returned"]) == counts.no_reply


@pytest.mark.parametrize(("reference", "message"), [
    ("総会", "「総会」 is not a meeting id"),
    ("ffffffff", "No meeting has an id starting with ffffffff"),
])
def test_bad_ids_are_clear_errors(capsys: pytest.CaptureFixture[str], demo: Path,
                                  reference: str, message: str) -> None:
    code, out, err = _run(capsys, demo, "tally", reference)
    assert (code, out) == (EXIT_PROBLEM, "")
    assert err.startswith("Error: " + message)


def test_tally_needs_an_id(capsys: pytest.CaptureFixture[str], demo: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(capsys, demo, "tally")
    assert exited.value.code == EXIT_PROBLEM
    assert "ID" in capsys.readouterr().err


def test_a_file_without_meetings(capsys: pytest.CaptureFixture[str],
                                 association_file: AssociationFile) -> None:
    association_file.close()
    code, out, err = _run(capsys, association_file.path, "list")
    assert (code, out, err) == (0, "There are no meetings yet.\n", "")

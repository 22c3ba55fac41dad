"""``kairan --self-test`` and the start-up hook the cold-start benchmark uses."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from desktop import self_test
from desktop.app import run_app
from desktop.cli import main
from desktop.store.demo_file import create_demo_file
from desktop.ui import startup_probe


def test_every_step_passes_here(qapp: QApplication, kairan_home: Path) -> None:
    out = io.StringIO()
    assert self_test.run_self_test(out) == 0
    lines = out.getvalue().splitlines()
    assert lines[-1] == "self-test passed"
    assert sum(line.startswith("ok ") for line in lines) == len(self_test.STEPS)
    assert "roster painted, 40 rows" in out.getvalue()
    # It worked in a throw-away folder: the officer's data folder got nothing.
    assert not kairan_home.exists() or not any(kairan_home.iterdir())
    assert os.environ["KAIRAN_HOME"] == str(kairan_home)


def test_a_broken_step_is_named_and_the_others_still_run(
    qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fonts(_work: object) -> str:
        raise self_test.SelfTestFailed("the IPAex font is not embedded in the PDF")

    steps = dict(self_test.STEPS)
    steps["PDF with Japanese fonts"] = no_fonts
    monkeypatch.setattr(self_test, "STEPS", tuple(steps.items()))
    out = io.StringIO()
    assert self_test.run_self_test(out) == 1
    text = out.getvalue()
    assert "FAIL  PDF with Japanese fonts: SelfTestFailed: the IPAex font is not embedded" in text
    assert "ok    TLS certificates" in text  # later steps still ran
    assert text.splitlines()[-1] == "self-test FAILED (1 steps)"


def test_the_command_line_runs_it(qapp: QApplication,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--lang", "en", "--self-test"]) == 0
    assert "self-test passed" in capsys.readouterr().out


def test_quit_after_paint_ends_once_the_roster_is_painted(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = create_demo_file(tmp_path / "demo.kairan", households=20)
    painted: list[int] = []
    watch = startup_probe.quit_after_first_paint

    def counting(app: QApplication, roster_view: QWidget) -> None:
        table = roster_view.parent()
        assert isinstance(table, QAbstractItemView)
        startup_probe.FirstPaint(roster_view, lambda: painted.append(table.model().rowCount()))
        watch(app, roster_view)

    monkeypatch.setattr(startup_probe, "quit_after_first_paint", counting)
    assert run_app(demo, language="en", quit_after_paint=True) == 0
    assert painted == [20]

"""``kairan --self-test`` and the start-up hook the cold-start benchmark uses."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop import self_test
from desktop.cli import main
from desktop.store.demo_file import create_demo_file
from desktop.ui.main_window import MainWindow


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
    # Its window is gone, and with it the backup timer it starts 10 s after the file check,
    # which would otherwise fire on the closed file into whatever runs next.
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]


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


def test_quit_after_paint_ends_once_the_roster_is_painted(tmp_path: Path) -> None:
    # In a child process: app.exec() leaves Qt "closing", which later tests must not inherit.
    demo = create_demo_file(tmp_path / "demo.kairan", households=20)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "desktop", "--db", str(demo),
                           "--quit-after-paint"], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60  # it did not sit there waiting for the officer

"""The print dialogs: the choices reach the PDF, the job runs in the background through to the
preview, Cancel leaves no file, and a circular with characters the font lacks is warned about
before it is printed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest

from desktop.domain import circulars
from desktop.domain.circulars import CircularData
from desktop.domain.models import Ask
from desktop.ui.main_window import MainWindow
from desktop.ui.pdf_preview import PdfPreview
from desktop.ui.print_dialog import CircularPrintDialog, RosterPrintDialog
from reports.pdf import roster_pdf
from tests.ui.helpers import Messages

WAIT = 10000  # ms
CLEANUP = "秋の一斉清掃のお知らせ"  # the demo's sent circular


@pytest.fixture
def jobs(window: MainWindow, tmp_path: Path) -> Path:
    folder = tmp_path / "jobs"
    folder.mkdir()
    window.circular_actions.job_folder = folder
    return folder


def texts(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def run(qtbot: Any, dialog: RosterPrintDialog | CircularPrintDialog) -> PdfPreview:
    dialog.print_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)
    assert dialog.preview is not None, dialog.status.text()
    assert not dialog.isVisible()  # done: the preview takes over
    return dialog.preview


def test_the_group_lists_of_one_group_run_through_to_the_preview(
    qtbot: Any, window: MainWindow, jobs: Path
) -> None:
    dialog = window.circular_actions.print_roster()
    assert dialog.isVisible() and dialog.document() == "groups"
    dialog.tick_only(["1班"])
    preview = run(qtbot, dialog)
    assert preview.isVisible() and preview.page_count >= 1
    assert preview.suggested_name.endswith("_班別名簿_20260601.pdf")
    pages = texts(preview.path)
    every = "".join(pages)
    assert "班別名簿" in pages[0] and "1班" in pages[0]
    assert "服部 修" in every and "石田 キヨ" not in every  # 0001 of 1班, not 0020 of 2班
    assert preview.path.parent == jobs
    preview.reject()
    assert list(jobs.iterdir()) == []  # the job's PDF went with the preview


def test_labels_of_paper_households_and_the_officers_list(
    qtbot: Any, window: MainWindow, jobs: Path
) -> None:
    dialog = window.circular_actions.print_roster()
    dialog.choose("labels24")
    assert dialog.first_label.maximum() == 24 and dialog.first_label_row.isVisibleTo(dialog)
    dialog.paper_only.setChecked(True)
    preview = run(qtbot, dialog)
    assert preview.page_count == 1  # 11 paper households on one sheet of 24
    assert texts(preview.path)[0].count("様") == 11
    preview.reject()

    dialog = window.circular_actions.print_roster()
    dialog.choose("officers")
    assert not dialog.paper_only.isEnabled()
    preview = run(qtbot, dialog)
    assert "役員連絡先一覧" in texts(preview.path)[0]
    preview.reject()


def test_nothing_ticked_prints_nothing(window: MainWindow, jobs: Path) -> None:
    dialog = window.circular_actions.print_roster()
    dialog.no_groups.click()
    dialog.print_button.click()
    assert dialog.status.text() == "Tick at least one 班."
    assert not dialog.running and dialog.isVisible()
    dialog.reject()
    assert not dialog.isVisible()


def gate(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> tuple[threading.Event,
                                                                             threading.Event]:
    """Make ``module.name`` stop at its first progress call until the test lets it go."""
    started, go = threading.Event(), threading.Event()
    real: Callable[..., int] = getattr(module, name)

    def gated(out: Any, **kwargs: Any) -> int:
        progress = kwargs["progress"]

        def wait_then_report(done: int, total: int) -> None:
            started.set()
            go.wait(WAIT / 1000)
            progress(done, total)

        return real(out, **{**kwargs, "progress": wait_then_report})

    monkeypatch.setattr(module, name, gated)
    return started, go


def test_cancel_leaves_no_file(
    qtbot: Any, window: MainWindow, jobs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, go = gate(monkeypatch, roster_pdf, "render_group_lists")
    dialog = window.circular_actions.print_roster()
    dialog.print_button.click()
    assert dialog.running and not dialog.print_button.isEnabled()
    dialog.reject()  # Cancel of the dialog does nothing while the job runs
    assert dialog.isVisible()
    assert started.wait(WAIT / 1000)
    assert dialog.task is not None
    dialog.task.dialog.canceled.emit()  # what the progress dialog's Cancel button sends
    go.set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT)
    assert dialog.status.text() == "Cancelled: nothing was printed."
    assert dialog.preview is None and dialog.isVisible() and dialog.print_button.isEnabled()
    assert list(jobs.iterdir()) == []


# ---------------------------------------------------------------- circulars


def circular_id(window: MainWindow, title: str) -> Any:
    with window.file.read() as session:
        return next(row.id for row in circulars.list_circulars(session) if row.title == title)


def test_a_circular_prints_its_packets_and_paper_copies(
    qtbot: Any, window: MainWindow, jobs: Path, messages: Messages
) -> None:
    dialog = window.circular_actions.print_circular(circular_id(window, CLEANUP))
    assert dialog is not None and dialog.document() == "all"
    assert [dialog.groups.item(row).text() for row in range(dialog.groups.count())] == [
        "1班 (17 households, 5 on paper)", "2班 (23 households, 6 on paper)"]
    dialog.choose("packet")
    dialog.tick_only(["2班"])
    preview = run(qtbot, dialog)
    every = "".join(texts(preview.path))
    assert CLEANUP in every and "石田 キヨ" in every and "服部 修" not in every
    preview.reject()

    dialog = window.circular_actions.print_circular(circular_id(window, CLEANUP))
    assert dialog is not None
    dialog.tick_only(["1班"])
    dialog.choose("copies")
    dialog.large.setChecked(True)
    preview = run(qtbot, dialog)
    pages = texts(preview.path)
    assert sum("河野 進" in page for page in pages) >= 1  # 0004, paper, 1班
    assert not any("服部 修" in page for page in pages)  # 0001 uses the app
    assert messages.warnings == []
    preview.reject()

    dialog = window.circular_actions.print_circular(circular_id(window, CLEANUP))
    assert dialog is not None
    preview = run(qtbot, dialog)  # both, every 班: one job for the officer
    pages = texts(preview.path)
    packets = [index for index, page in enumerate(pages) if "回覧板 順路表" in page]
    copies = [index for index, page in enumerate(pages) if "河野 進 様" in page]
    assert packets and copies and max(packets) < min(copies)
    preview.reject()
    assert list(jobs.iterdir()) == []


def test_characters_outside_the_font_are_warned_about_before_printing(
    qtbot: Any, window: MainWindow, jobs: Path, messages: Messages
) -> None:
    with window.file.write() as session:
        draft = circulars.create_circular(session, data=CircularData(
            title="お知らせ🙂", body="よろしく", issued_on=date(2026, 6, 1), ask=Ask.NOTHING))
    dialog = window.circular_actions.print_circular(draft)
    assert dialog is not None
    dialog.choose("packet")
    preview = run(qtbot, dialog)
    assert len(messages.warnings) == 1 and "🙂" in messages.warnings[0]
    preview.reject()

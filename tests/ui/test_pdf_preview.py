"""The PDF preview: every page is there, only the pages on screen are rendered, zoom keeps the
page, printing sends every page (or the range chosen) and a copy can be saved."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog, QWidget
from reportlab.lib.pagesizes import A4, landscape

from desktop.ui.pdf_preview import PdfPreview, open_document, render_page
from desktop.ui.tasks import TaskRunner
from reports.pdf.fonts import GOTHIC
from reports.pdf.page import new_canvas
from tests.ui.helpers import Messages

WAIT = 5000  # ms


def make_pdf(path: Path, pages: int, *, wide_page: int | None = None) -> Path:
    """A PDF whose page k says 「ページ k」 over a black square (page ``wide_page`` landscape)."""
    canvas = new_canvas(str(path), title="test", author="test")
    for number in range(1, pages + 1):
        if number == wide_page:
            canvas.setPageSize(landscape(A4))
        else:
            canvas.setPageSize(A4)
        canvas.setFont(GOTHIC, 60)
        canvas.drawString(80, 500, f"ページ {number}")
        canvas.rect(80, 200, 200, 200, stroke=0, fill=1)  # 8 % of the page: ink to find
        canvas.showPage()
    canvas.save()
    return path


@pytest.fixture
def parent(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def open_preview(qtbot: Any, parent: QWidget, path: Path, **kwargs: Any) -> PdfPreview:
    preview = PdfPreview(parent, path, tasks=TaskRunner(parent), title="Preview", **kwargs)
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitExposed(preview)
    return preview


def ink(image: QImage) -> float:
    """The share of dark pixels in an image (0 for a blank page)."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = bytes(gray.constBits())
    line = gray.bytesPerLine()
    pixels = b"".join(rows[y * line:y * line + gray.width()] for y in range(gray.height()))
    dark = len(pixels) - len(pixels.translate(None, bytes(range(128))))
    return dark / len(pixels)


def test_every_page_is_listed_and_the_first_is_drawn(
    qtbot: Any, parent: QWidget, tmp_path: Path
) -> None:
    preview = open_preview(qtbot, parent, make_pdf(tmp_path / "a.pdf", 5))
    assert preview.page_count == 5
    assert preview.page_total.text() == "/ 5"
    assert preview.page.value() == 1 and preview.page.maximum() == 5
    qtbot.waitUntil(lambda: 0 in preview.view.cache, timeout=WAIT)
    assert ink(preview.view.cache[0]) > 0.05  # the page drawn, not a blank one
    preview.page.setValue(5)
    assert preview.current_page() == 5
    qtbot.waitUntil(lambda: 4 in preview.view.cache, timeout=WAIT)
    preview.reject()
    assert not preview.isVisible()
    assert (tmp_path / "a.pdf").exists()  # not a temporary file: kept


def test_a_two_thousand_page_pdf_opens_at_once_and_renders_only_what_is_seen(
    qtbot: Any, parent: QWidget, tmp_path: Path
) -> None:
    path = make_pdf(tmp_path / "big.pdf", 2000)
    started = time.perf_counter()
    preview = open_preview(qtbot, parent, path)
    assert time.perf_counter() - started < 1.5
    assert preview.page_total.text() == "/ 2000"
    qtbot.waitUntil(lambda: 0 in preview.view.cache, timeout=WAIT)
    preview.page.setValue(1500)
    qtbot.waitUntil(lambda: 1499 in preview.view.cache, timeout=WAIT)
    qtbot.wait(50)
    assert len(preview.view.cache) < 10  # the pages on screen, not all 2,000
    assert preview.current_page() == 1500
    preview.reject()


def test_zoom_keeps_the_page_and_renders_it_sharper(
    qtbot: Any, parent: QWidget, tmp_path: Path
) -> None:
    preview = open_preview(qtbot, parent, make_pdf(tmp_path / "a.pdf", 6, wide_page=3))
    preview.page.setValue(3)
    qtbot.waitUntil(lambda: 2 in preview.view.cache, timeout=WAIT)
    before = preview.view.cache[2].width()
    preview.view.set_zoom(1.0)
    preview.zoom_in_button.click()
    assert preview.zoom_label.text() == "125%"
    assert preview.current_page() == 3
    qtbot.waitUntil(lambda: preview.view.cache[2].width() != before, timeout=WAIT)
    preview.zoom_out_button.click()
    preview.zoom_out_button.click()
    assert preview.zoom_label.text() == "75%"
    assert preview.current_page() == 3
    preview.reject()


def test_printing_sends_each_page_to_the_printer(
    qtbot: Any, parent: QWidget, tmp_path: Path, messages: Messages
) -> None:
    printed = tmp_path / "printed.pdf"

    def choose_printer(printer: QPrinter, _parent: QWidget) -> bool:
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(printed))
        printer.setResolution(72)  # a quick test: few pixels per page
        return True

    preview = open_preview(qtbot, parent, make_pdf(tmp_path / "a.pdf", 3),
                           ask_printer=choose_printer)
    preview.print_button.click()
    qtbot.waitUntil(lambda: not preview.printing, timeout=WAIT)
    assert messages.informations == ["Sent 3 pages to the printer."]
    assert len(pypdf.PdfReader(printed).pages) == 3
    document = open_document(printed)
    assert ink(render_page(document, 2, QSize(200, 283))) > 0.05  # the page, not a blank sheet
    document.close()

    def pages_two_to_three(printer: QPrinter, parent: QWidget) -> bool:
        choose_printer(printer, parent)
        printer.setPrintRange(QPrinter.PrintRange.PageRange)
        printer.setFromTo(2, 3)
        return True

    preview.ask_printer = pages_two_to_three
    preview.print_button.click()
    qtbot.waitUntil(lambda: not preview.printing, timeout=WAIT)
    assert len(pypdf.PdfReader(printed).pages) == 2
    preview.ask_printer = lambda _printer, _parent: False  # the officer cancels the dialog
    preview.print_button.click()
    assert not preview.printing and len(messages.informations) == 2
    preview.reject()


def test_save_a_copy_and_a_temporary_pdf_is_deleted_on_close(
    qtbot: Any, parent: QWidget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    messages: Messages
) -> None:
    source = make_pdf(tmp_path / "job.pdf", 2)
    asked: list[tuple[Any, ...]] = []

    def answer(*args: Any) -> tuple[str, str]:
        asked.append(args)
        return str(tmp_path / "out" / "回覧"), ""

    (tmp_path / "out").mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(answer))
    preview = open_preview(qtbot, parent, source, delete_on_close=True,
                           suggested_name="回覧_20260601.pdf", folder=str(tmp_path))
    saved = preview.save_copy()
    assert saved == tmp_path / "out" / "回覧.pdf"
    assert asked[0][2] == str(tmp_path / "回覧_20260601.pdf")
    assert saved.read_bytes() == source.read_bytes()
    assert messages.informations == [f"Saved the PDF as {saved}."]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["回覧.pdf"]

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a: (str(tmp_path / "missing" / "x.pdf"), "")))
    assert preview.save_copy() is None
    assert "does not exist" in messages.warnings[0]

    preview.reject()
    assert not source.exists()  # the temporary job is gone with the preview
    assert saved.exists()


def test_a_file_that_is_not_a_pdf_is_refused_clearly(
    qtbot: Any, parent: QWidget, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    from desktop.domain.errors import KairanError

    with pytest.raises(KairanError, match=r"bad\.pdf cannot be shown"):
        PdfPreview(parent, bad, tasks=TaskRunner(parent), title="x")

"""The preview of a PDF inside Kairan: its pages, zoom, page n/N, print and save a copy.

A 2,000-page set of personal copies must open at once, so nothing is rendered up front: the
view lays the pages out from the first page's size and asks a renderer thread for the pages
that are on screen only, keeping the last few in a small cache. PDFium may not be called from
two threads at a time (not even for two documents), so every call holds :data:`PDFIUM_LOCK`.

Printing renders each page again at the printer's resolution (capped, see
:data:`MAX_PRINT_DPI`) on the window's :class:`~desktop.ui.tasks.TaskRunner`, with progress
and Cancel, and paints it onto the :class:`QPrinter` chosen in the system print dialog.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]  # ships no type information
from PySide6.QtCore import QObject, QPoint, QRect, QSize, QStandardPaths, Qt, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFont,
    QImage,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.tasks import TaskCancelled, TaskContext, TaskRunner
from reports.pdf.output import pdf_target

PDFIUM_LOCK = threading.Lock()  # PDFium is not thread-safe: one call at a time, any thread
ZOOM_STEPS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)  # 1.0 = the paper's real size on screen
MAX_PRINT_DPI = 300  # an A4 page at 600 dpi is 140 MB of pixels; 300 dpi prints text crisply
CACHED_PAGES = 24  # rendered pages kept (a screenful at the smallest zoom, and some)
PAGE_GAP = 16  # pixels between pages and around them
TOOLBAR_SCALE = 1.2  # the preview's buttons and page number read without glasses

AskPrinter = Callable[[QPrinter, QWidget], bool]  # configure the printer; False = cancelled
AskSavePath = Callable[[QWidget, str], Path | None]  # where to save a copy; None = cancelled


def render_page(document: pdfium.PdfDocument, index: int, size: QSize) -> QImage:
    """Page ``index`` rendered to fit inside ``size`` pixels, aspect ratio kept (any thread)."""
    with PDFIUM_LOCK:
        page = document[index]
        try:
            width, height = page.get_size()
            scale = max(min(size.width() / width, size.height() / height), 0.01)
            bitmap = page.render(scale=scale, prefer_bgrx=True)
            try:
                # BGRx bytes are QImage's RGB32 on the little-endian PCs Kairan runs on.
                image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                               QImage.Format.Format_RGB32).copy()
            finally:
                bitmap.close()
        finally:
            page.close()
    return image


def open_document(path: Path) -> pdfium.PdfDocument:
    """Open a PDF for rendering; a file PDFium cannot read becomes a clear message."""
    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(str(path))
    except (pdfium.PdfiumError, OSError) as error:
        raise KairanError(_("{file} cannot be shown: it is not a readable PDF ({error}).")
                          .format(file=path.name, error=error)) from None


class _Delivery(QObject):
    """Carries rendered pages from the renderer thread to the main thread (queued)."""

    rendered = Signal(int, QSize, QImage)


class PageRenderer:
    """A thread that renders the pages the view asks for, newest wish first.

    The view calls :meth:`want` with the pages on screen that it has no image of yet; a
    wish replaces the previous one, so pages scrolled past are never rendered.
    """

    def __init__(self, document: pdfium.PdfDocument) -> None:
        self.delivery = _Delivery()
        self._document = document
        self._condition = threading.Condition()
        self._wanted: list[int] = []
        self._size = QSize()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="PDF preview", daemon=True)
        self._thread.start()

    def want(self, pages: list[int], size: QSize) -> None:
        """Render these pages at this size (pixels), in this order."""
        with self._condition:
            self._wanted = list(pages)
            self._size = QSize(size)
            self._condition.notify()

    def stop(self) -> None:
        """Stop after the page being rendered; returns when the thread has ended."""
        with self._condition:
            self._stopped = True
            self._condition.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and not self._wanted:
                    self._condition.wait()
                if self._stopped:
                    return
                index = self._wanted.pop(0)
                size = QSize(self._size)
            image = render_page(self._document, index, size)
            self.delivery.rendered.emit(index, size, image)


class PageView(QAbstractScrollArea):
    """The pages one below the other, each in a slot sized from the first page."""

    current_page_changed = Signal(int)  # 0-based index of the page at the top of the view

    def __init__(self, page_count: int, page_size: tuple[float, float],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.page_count = page_count
        self.page_size = page_size  # points, of the first page
        self.zoom = 1.0
        self.fit_width = True  # follow the window's width until the officer zooms
        self.cache: OrderedDict[int, QImage] = OrderedDict()
        self.renderer: PageRenderer | None = None
        self._current = -1
        self.viewport().setAutoFillBackground(True)
        palette = self.viewport().palette()
        palette.setColor(self.viewport().backgroundRole(), QColor(128, 128, 128))
        self.viewport().setPalette(palette)
        self.verticalScrollBar().valueChanged.connect(lambda _value: self._scrolled())
        self.horizontalScrollBar().valueChanged.connect(lambda _value: self.viewport().update())
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ------------------------------------------------------------ geometry

    def _pixels_per_point(self) -> float:
        return self.logicalDpiX() / 72

    def page_pixels(self) -> QSize:
        """The slot of one page on screen at the current zoom."""
        width, height = self.page_size
        scale = self.zoom * self._pixels_per_point()
        return QSize(max(1, round(width * scale)), max(1, round(height * scale)))

    def _slot_height(self) -> int:
        return self.page_pixels().height() + PAGE_GAP

    def _update_scrollbars(self) -> None:
        page = self.page_pixels()
        total_height = self.page_count * self._slot_height() + PAGE_GAP
        total_width = page.width() + 2 * PAGE_GAP
        viewport = self.viewport().size()
        self.verticalScrollBar().setRange(0, max(0, total_height - viewport.height()))
        self.verticalScrollBar().setPageStep(viewport.height())
        self.verticalScrollBar().setSingleStep(max(20, self._slot_height() // 20))
        self.horizontalScrollBar().setRange(0, max(0, total_width - viewport.width()))
        self.horizontalScrollBar().setPageStep(viewport.width())

    def _fit_zoom(self) -> float:
        available = self.viewport().width() - 2 * PAGE_GAP
        return max(ZOOM_STEPS[0], available / (self.page_size[0] * self._pixels_per_point()))

    def set_zoom(self, zoom: float, *, fit_width: bool = False) -> None:
        """Show the pages at ``zoom`` (1.0 = real size), keeping the current page in view."""
        first = self.current_page()
        self.fit_width = fit_width
        self.zoom = min(max(zoom, ZOOM_STEPS[0] / 2), ZOOM_STEPS[-1])
        self._update_scrollbars()
        self.go_to_page(first)
        self.viewport().update()

    def zoom_in(self) -> None:
        """The next larger zoom step."""
        self.set_zoom(next((step for step in ZOOM_STEPS if step > self.zoom + 0.01),
                           ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        """The next smaller zoom step."""
        self.set_zoom(next((step for step in reversed(ZOOM_STEPS) if step < self.zoom - 0.01),
                           ZOOM_STEPS[0]))

    def zoom_to_width(self) -> None:
        """Make a page as wide as the view."""
        self.set_zoom(self._fit_zoom(), fit_width=True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.fit_width:
            first = self.current_page()
            self.zoom = self._fit_zoom()
            self._update_scrollbars()
            self.go_to_page(first)
        else:
            self._update_scrollbars()

    # ------------------------------------------------------------ pages

    def current_page(self) -> int:
        """The page at the middle of the view's top half (0-based)."""
        if self.page_count == 0:
            return 0
        probe = self.verticalScrollBar().value() + self.viewport().height() // 4
        return min(self.page_count - 1, max(0, probe // self._slot_height()))

    def go_to_page(self, index: int) -> None:
        """Scroll so that page ``index`` (0-based) starts at the top."""
        index = min(max(index, 0), max(self.page_count - 1, 0))
        self.verticalScrollBar().setValue(index * self._slot_height())
        self._scrolled()

    def visible_pages(self) -> range:
        """The pages at least partly on screen."""
        top = self.verticalScrollBar().value()
        slot = self._slot_height()
        first = max(0, (top - PAGE_GAP) // slot)
        last = min(self.page_count - 1, (top + self.viewport().height()) // slot)
        return range(first, last + 1)

    def _scrolled(self) -> None:
        current = self.current_page()
        if current != self._current:
            self._current = current
            self.current_page_changed.emit(current)
        self.viewport().update()

    def page_rect(self, index: int) -> QRect:
        """Where page ``index`` is drawn in the viewport."""
        page = self.page_pixels()
        left = max(PAGE_GAP, (self.viewport().width() - page.width()) // 2)
        left -= self.horizontalScrollBar().value()
        top = PAGE_GAP + index * self._slot_height() - self.verticalScrollBar().value()
        return QRect(QPoint(left, top), page)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        ratio = self.devicePixelRatioF()
        page = self.page_pixels()
        wanted_size = QSize(round(page.width() * ratio), round(page.height() * ratio))
        missing: list[int] = []
        for index in self.visible_pages():
            rect = self.page_rect(index)
            painter.fillRect(rect, Qt.GlobalColor.white)
            image = self.cache.get(index)
            if image is not None:
                self.cache.move_to_end(index)
                fitted = image.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
                target = QRect(QPoint(0, 0), fitted)
                target.moveCenter(rect.center())
                painter.drawImage(target, image)
            # A page of another shape fills its slot in one direction only: only when both
            # differ was it rendered at another zoom.
            stale = image is not None and (abs(image.width() - wanted_size.width()) > 2
                                           and abs(image.height() - wanted_size.height()) > 2)
            if image is None or stale:
                missing.append(index)
                if image is None:
                    painter.setPen(QColor(160, 160, 160))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter,
                                     _("Page {page}").format(page=index + 1))
        painter.end()
        if self.renderer is not None:
            self.renderer.want(missing, wanted_size)

    @Slot(int, QSize, QImage)
    def page_rendered(self, index: int, _size: QSize, image: QImage) -> None:
        """Keep a page the renderer delivered and show it."""
        self.cache[index] = image
        self.cache.move_to_end(index)
        while len(self.cache) > CACHED_PAGES:
            self.cache.popitem(last=False)
        self.viewport().update()


def _ask_printer(printer: QPrinter, parent: QWidget) -> bool:
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(_("Print"))
    return dialog.exec() == QDialog.DialogCode.Accepted


def _ask_save_path(parent: QWidget, suggested: str) -> Path | None:
    name, _filter = QFileDialog.getSaveFileName(parent, _("Save the PDF as"), suggested,
                                                _("PDF document (*.pdf)"))
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".pdf" else path.with_name(path.name + ".pdf")


def print_pdf(path: Path, printer: QPrinter, context: TaskContext) -> int:
    """Paint the pages of ``path`` onto ``printer`` (on a worker thread); returns pages printed.

    The printer's page range is honoured. Each page is fitted to the whole sheet: the PDF
    has its own margins.
    """
    document = open_document(path)
    try:
        with PDFIUM_LOCK:
            count = len(document)
        first, last = 1, count
        if printer.printRange() == QPrinter.PrintRange.PageRange and printer.fromPage() > 0:
            first, last = printer.fromPage(), min(printer.toPage() or count, count)
        pages = range(first - 1, last)
        dpi = min(printer.resolution(), MAX_PRINT_DPI)
        printer.setFullPage(True)
        painter = QPainter()
        if not painter.begin(printer):
            raise KairanError(_("The printer {printer} cannot be used. Check that it is on "
                                "and connected, then print again.").format(
                                    printer=printer.printerName() or printer.outputFileName()))
        try:
            for done, index in enumerate(pages):
                context.progress(done, len(pages))
                if done:
                    printer.newPage()
                sheet = printer.pageLayout().fullRectPixels(printer.resolution())
                size = QSize(round(sheet.width() * dpi / printer.resolution()),
                             round(sheet.height() * dpi / printer.resolution()))
                image = render_page(document, index, size)
                fitted = image.size().scaled(sheet.size(), Qt.AspectRatioMode.KeepAspectRatio)
                target = QRect(QPoint(0, 0), fitted)
                target.moveCenter(QRect(QPoint(0, 0), sheet.size()).center())
                painter.drawImage(target, image)
            context.progress(len(pages), len(pages))
        except TaskCancelled:
            printer.abort()
            raise
        finally:
            painter.end()
        return len(pages)
    finally:
        with PDFIUM_LOCK:
            document.close()


def copy_file(source: Path, target: Path) -> None:
    """Copy through a temporary file beside ``target``, so a failure leaves no half file."""
    with pdf_target(target) as temporary:
        assert isinstance(temporary, str)
        shutil.copyfile(source, temporary)


class PdfPreview(QDialog):
    """The pages of one PDF, to look at, print or save a copy of."""

    def __init__(
        self,
        parent: QWidget | None,
        path: Path,
        *,
        tasks: TaskRunner,
        title: str,
        suggested_name: str = "",
        folder: str = "",
        delete_on_close: bool = False,
        ask_printer: AskPrinter = _ask_printer,
        ask_save_path: AskSavePath = _ask_save_path,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.tasks = tasks
        self.folder = folder or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation)
        self.suggested_name = suggested_name or path.name
        self.delete_on_close = delete_on_close
        self.ask_printer = ask_printer
        self.ask_save_path = ask_save_path
        self.printing = False
        self.printer: QPrinter | None = None  # kept alive while a worker paints on it
        self.saved_to: Path | None = None
        self.setWindowTitle(title)
        self.document = open_document(path)
        with PDFIUM_LOCK:
            self.page_count = len(self.document)
            size = self.document.get_page_size(0) if self.page_count else (595.0, 842.0)
        self.view = PageView(self.page_count, (float(size[0]), float(size[1])))
        self.renderer: PageRenderer | None = PageRenderer(self.document)
        self.renderer.delivery.rendered.connect(self.view.page_rendered)
        self.view.renderer = self.renderer

        toolbar = self._build_toolbar()
        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(self.view, 1)

        for keys, slot in ((QKeySequence.StandardKey.ZoomIn, self._zoom_in),
                           ("Ctrl+=", self._zoom_in),
                           (QKeySequence.StandardKey.ZoomOut, self._zoom_out),
                           (QKeySequence.StandardKey.Print, self.print_document),
                           (QKeySequence.StandardKey.Save, self.save_copy)):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        em = self.fontMetrics().horizontalAdvance("あ")
        self.resize(em * 60, em * 52)
        self._show_zoom()
        self._show_page(0)
        self.view.setFocus()

    def _build_toolbar(self) -> QHBoxLayout:
        self.page = QSpinBox()
        self.page.setRange(1, max(1, self.page_count))
        self.page.setKeyboardTracking(False)
        self.page.valueChanged.connect(lambda value: self.view.go_to_page(value - 1))
        self.page_total = QLabel(f"/ {self.page_count}")
        self.view.current_page_changed.connect(self._show_page)
        self.zoom_out_button = QPushButton(_("Smaller (−)"))
        self.zoom_out_button.clicked.connect(self._zoom_out)
        self.zoom_in_button = QPushButton(_("Larger (+)"))
        self.zoom_in_button.clicked.connect(self._zoom_in)
        self.fit_button = QPushButton(_("Page &width"))
        self.fit_button.clicked.connect(self._fit)
        self.zoom_label = QLabel()
        self.print_button = QPushButton(_("&Print…"))
        self.print_button.clicked.connect(self.print_document)
        self.save_button = QPushButton(_("&Save PDF…"))
        self.save_button.clicked.connect(self.save_copy)
        self.close_button = QPushButton(_("&Close"))
        self.close_button.clicked.connect(self.reject)

        toolbar = QHBoxLayout()
        page_label = QLabel(_("Page"))
        for widget in (page_label, self.page, self.page_total, self.zoom_out_button,
                       self.zoom_label, self.zoom_in_button, self.fit_button, self.print_button,
                       self.save_button, self.close_button):
            _enlarge(widget)
        toolbar.addWidget(page_label)
        toolbar.addWidget(self.page)
        toolbar.addWidget(self.page_total)
        toolbar.addSpacing(24)
        toolbar.addWidget(self.zoom_out_button)
        toolbar.addWidget(self.zoom_label)
        toolbar.addWidget(self.zoom_in_button)
        toolbar.addWidget(self.fit_button)
        toolbar.addStretch(1)
        toolbar.addWidget(self.print_button)
        toolbar.addWidget(self.save_button)
        toolbar.addWidget(self.close_button)
        return toolbar

    # ------------------------------------------------------------ page and zoom

    def current_page(self) -> int:
        """The page shown at the top, 1-based as on the toolbar."""
        return self.view.current_page() + 1

    def _show_page(self, index: int) -> None:
        self.page.blockSignals(True)
        self.page.setValue(index + 1)
        self.page.blockSignals(False)

    def _show_zoom(self) -> None:
        self.zoom_label.setText(f"{round(self.view.zoom * 100)}%")

    def _zoom_in(self) -> None:
        self.view.zoom_in()
        self._show_zoom()

    def _zoom_out(self) -> None:
        self.view.zoom_out()
        self._show_zoom()

    def _fit(self) -> None:
        self.view.zoom_to_width()
        self._show_zoom()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_zoom()

    # ------------------------------------------------------------ print and save

    def print_document(self) -> None:
        """Choose a printer in the system dialog, then print in the background."""
        if self.printing:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.suggested_name)
        printer.setFromTo(1, max(1, self.page_count))
        if not self.ask_printer(printer, self):
            return
        path = self.path

        def work(context: TaskContext) -> int:
            return print_pdf(path, printer, context)

        def printed(pages: int) -> None:
            self.printing = False
            self.print_button.setEnabled(True)
            self.printer = None
            messages.inform(self, _("Sent {pages} pages to the printer.").format(pages=pages))

        def failed(error: BaseException) -> None:
            self.printing = False
            self.print_button.setEnabled(True)
            self.printer = None
            if isinstance(error, KairanError):
                messages.warn(self, error.message)
            elif not isinstance(error, TaskCancelled):
                raise error

        self.printing = True
        self.printer = printer  # lives until the worker is done with it
        self.print_button.setEnabled(False)
        self.tasks.run(work, parent=self, title=_("Printing…"), on_success=printed,
                       on_failure=failed)

    def save_copy(self) -> Path | None:
        """Ask where, then copy the PDF there; returns the file written."""
        target = self.ask_save_path(self, str(Path(self.folder) / self.suggested_name))
        if target is None:
            return None
        try:
            copy_file(self.path, target)
        except KairanError as error:
            messages.warn(self, error.message)
            return None
        self.folder = str(target.parent)
        self.saved_to = target
        messages.inform(self, _("Saved the PDF as {file}.").format(file=target))
        return target

    # ------------------------------------------------------------ closing

    def done(self, result: int) -> None:
        """Close; not while printing (the printer is still being fed)."""
        if self.printing:
            messages.warn(self, _("The pages are still being sent to the printer. Cancel the "
                                  "printing or wait, then close the preview."))
            return
        self.close_document()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.printing:
            event.ignore()
            self.done(QDialog.DialogCode.Rejected)
            return
        self.close_document()
        super().closeEvent(event)

    def close_document(self) -> None:
        """Stop rendering, close the PDF and delete it if it was a temporary one."""
        if self.renderer is None:
            return
        self.renderer.stop()
        self.renderer = None
        self.view.renderer = None
        with PDFIUM_LOCK:
            self.document.close()
        if self.delete_on_close:
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)


def _enlarge(widget: QWidget) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * TOOLBAR_SCALE)
    widget.setFont(font)

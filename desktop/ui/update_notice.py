"""Telling the officer that a newer Kairan exists: a calm bar at the top of the window, the Help
menu's 「新しいバージョンを確認」 and 「Kairan について」.

Only the relay the file is paired with is asked (:mod:`sync.update_check`), at most once a
day, a few seconds after the window opens, on a worker thread of its own, quietly: offline or
not paired, nothing is said. What the relay said is remembered for the day, so the bar comes
back at the next start until Kairan is updated or the officer says 「このバージョンは知らせない」;
「あとで」 hides it until Kairan starts again. Nothing is ever downloaded or installed: the
only thing opened is the release's download page, in the browser, and only an https one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import desktop
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.ui import messages
from desktop.ui.settings import (
    UPDATE_CHECKED_AT,
    UPDATE_DISMISSED,
    UPDATE_LATEST_NOTES,
    UPDATE_LATEST_URL,
    UPDATE_LATEST_VERSION,
)
from desktop.ui.tasks import Task, TaskContext, TaskRunner
from desktop.ui.window_actions import WindowActions
from sync.pairing import pairing_info
from sync.protocol import ReleaseInfo
from sync.update_check import (
    CheckOutcome,
    CheckResult,
    UpdateNotice,
    check_due,
    check_for_update,
    download_url,
    notice_for,
)

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

UPDATE_DELAY_SECONDS = 8  # after the window opens: the officer's first look is not disturbed
TEXT_SCALE = 1.25  # the bar's text against the window's (already the officer's chosen size)
_NEVER = 1 << 30  # ms: the automatic check's progress dialog never shows

# Versions hidden with 「あとで」: until Kairan starts again, which is this process's life
# (a language switch rebuilds the window, and must not bring the bar back).
_hidden_until_restart: set[str] = set()


def running_version() -> str:
    """The version of the Kairan that is running (read when asked: tests pin it)."""
    return desktop.__version__


def with_bar(bar: QWidget, content: QWidget) -> QWidget:
    """``content`` with ``bar`` above it, for the window's central widget."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(bar)
    layout.addWidget(content, 1)
    return holder


class UpdateBar(QFrame):
    """The notice: one plain sentence in large text and three buttons. Hidden until
    :meth:`show_notice`; it only asks, the window's :class:`UpdateActions` acts."""

    open_requested = Signal()
    later_requested = Signal()
    dismiss_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("updateBar")
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Calm: a pale blue band, not a warning colour; nothing blinks or steals the focus.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("#eaf2fb"))
        palette.setColor(QPalette.ColorRole.WindowText, QColor("#1a1a1a"))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.notice: UpdateNotice | None = None
        self._watched: QWidget | None = None
        self.message = QLabel()
        self.notes = QLabel()
        for label in (self.message, self.notes):
            label.setWordWrap(True)
            # What the relay sent is shown as text, never as HTML (no links, no images).
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.open_button = QPushButton(_("Open the download page"))
        self.later_button = QPushButton(_("Later"))
        self.dismiss_button = QPushButton(_("Don't tell me about this version"))
        self.open_button.clicked.connect(self.open_requested.emit)
        self.later_button.clicked.connect(self.later_requested.emit)
        self.dismiss_button.clicked.connect(self.dismiss_requested.emit)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.later_button, self.dismiss_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addWidget(self.message)
        layout.addWidget(self.notes)
        layout.addLayout(buttons)
        self.setAccessibleName(_("A new version of Kairan"))
        self._fit_text()
        self.hide()

    def show_notice(self, notice: UpdateNotice) -> None:
        """Show ``notice`` (the download button only when there is an https page)."""
        self.notice = notice
        self.message.setText(
            _("A new version of Kairan, {version}, is available (you are using version "
              "{current}).").format(version=notice.version, current=notice.current))
        self.notes.setText(notice.notes)
        self.notes.setVisible(bool(notice.notes))
        self.open_button.setVisible(notice.url is not None)
        self.show()

    def _fit_text(self) -> None:
        font = QApplication.font()
        font.setPointSizeF(font.pointSizeF() * TEXT_SCALE)
        self.setFont(font)  # the buttons inherit it

    def showEvent(self, event: QShowEvent) -> None:
        # A widget with a font of its own is not told that the application's font changed
        # (the officer's text size); its window is, so the bar listens there.
        window = self.window()
        if window is not self and window is not self._watched:
            if self._watched is not None:
                self._watched.removeEventFilter(self)
            window.installEventFilter(self)
            self._watched = window
        self._fit_text()
        super().showEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched and event.type() == QEvent.Type.ApplicationFontChange:
            self._fit_text()
        return False


class UpdateActions(WindowActions):
    """The automatic check behind the bar, the bar's buttons, and the Help menu's commands."""

    def __init__(self, window: MainWindow, bar: UpdateBar) -> None:
        super().__init__(window)
        self.bar = bar
        self.settings = window.settings
        # Not the window's (like the sync cycles): a check may outlive a window closed under
        # it, and its answer is then dropped.
        self._host = QWidget()
        self.runner = TaskRunner()
        self.task: Task[CheckResult] | None = None
        self.stopped = False
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.automatic_check)
        bar.open_requested.connect(self.open_page)
        bar.later_requested.connect(self.later)
        bar.dismiss_requested.connect(self.dismiss)

    def start(self) -> None:
        """Check a few seconds from now (the window does once it is built)."""
        self.timer.start(UPDATE_DELAY_SECONDS * 1000)

    def stop(self) -> None:
        """The window is closing: no check starts, and one under way is not shown."""
        self.stopped = True
        self.timer.stop()

    # ------------------------------------------------------------ the automatic check

    def automatic_check(self) -> None:
        """Ask the relay when a day has passed since it last answered; otherwise show what
        it said then. Not paired: nothing at all."""
        if self.stopped or self.task is not None or pairing_info(self.file) is None:
            return
        if not check_due(self.settings.get(UPDATE_CHECKED_AT), datetime.now(UTC)):
            self._offer(self._remembered())
            return
        store, current = self.file, running_version()

        def work(_context: TaskContext) -> CheckResult:
            return check_for_update(store, current=current)

        self.task = self.runner.run(work, parent=self._host, title=_("Checking for a new "
                                                                      "version…"),
                                    on_success=self._checked, on_failure=self._check_failed,
                                    cancellable=False)
        self.task.dialog.setMinimumDuration(_NEVER)  # quiet: no progress dialog

    def _checked(self, result: CheckResult) -> None:
        self.task = None
        if self.stopped:
            return
        if result.asked:
            self._remember(result.latest)
            self._offer(result.latest)
        # Offline, no token, the relay down: the officer is not bothered; tomorrow's start
        # (or the Help menu) asks again.

    def _check_failed(self, error: BaseException) -> None:
        self.task = None
        if not isinstance(error, KairanError):  # a bug: loudly
            raise error

    def _offer(self, latest: ReleaseInfo | None) -> None:
        notice = notice_for(latest, current=running_version(),
                            dismissed=self.settings.get(UPDATE_DISMISSED))
        if notice is not None and notice.version not in _hidden_until_restart:
            self.bar.show_notice(notice)

    def _remember(self, latest: ReleaseInfo | None) -> None:
        self.settings.set(UPDATE_CHECKED_AT, datetime.now(UTC).isoformat(timespec="seconds"))
        self.settings.set(UPDATE_LATEST_VERSION, latest.version if latest else "")
        self.settings.set(UPDATE_LATEST_URL, latest.url if latest else "")
        self.settings.set(UPDATE_LATEST_NOTES, latest.notes if latest else "")

    def _remembered(self) -> ReleaseInfo | None:
        version = self.settings.get(UPDATE_LATEST_VERSION)
        if not version:
            return None
        return ReleaseInfo(version=version, url=self.settings.get(UPDATE_LATEST_URL),
                           notes=self.settings.get(UPDATE_LATEST_NOTES))

    # ------------------------------------------------------------ the bar's buttons

    def open_page(self) -> bool:
        """「ダウンロードページを開く」: the release's page in the browser (https only)."""
        notice = self.bar.notice
        url = download_url(notice.url or "") if notice is not None else None
        if url is None:  # the bar shows no button then; checked again all the same
            return False
        if not QDesktopServices.openUrl(QUrl(url)):
            messages.warn(self.window, _("The download page could not be opened. Open this "
                                         "address in a web browser: {url}").format(url=url))
            return False
        return True

    def later(self) -> None:
        """「あとで」: hide the bar until Kairan starts again."""
        if self.bar.notice is not None:
            _hidden_until_restart.add(self.bar.notice.version)
        self.bar.hide()

    def dismiss(self) -> None:
        """「このバージョンは知らせない」: never show this version again (a later one is news)."""
        if self.bar.notice is not None:
            self.settings.set(UPDATE_DISMISSED, self.bar.notice.version)
        self.bar.hide()

    # ------------------------------------------------------------ the Help menu

    def check_now(self) -> None:
        """「新しいバージョンを確認」: ask the relay now and say plainly what came of it."""
        if pairing_info(self.file) is None:
            self._report(CheckResult(CheckOutcome.NOT_PAIRED))
            return
        store, current = self.file, running_version()

        def work(_context: TaskContext) -> CheckResult:
            return check_for_update(store, current=current)

        def failed(error: BaseException) -> None:
            if not isinstance(error, KairanError):
                raise error
            messages.warn(self.window, error.message)

        self.window.tasks.run(work, parent=self.window, title=_("Checking for a new version…"),
                              on_success=self._report, on_failure=failed, cancellable=False)

    def _report(self, result: CheckResult) -> None:
        if result.asked:
            self._remember(result.latest)
        current = running_version()
        if result.outcome == CheckOutcome.NEWER:
            # Asked for: shown even if dismissed or put off before.
            notice = notice_for(result.latest, current=current)
            assert notice is not None
            self.bar.show_notice(notice)
            text = _("A new version of Kairan, {version}, is available (you are using version "
                     "{current}).").format(version=notice.version, current=current)
            if notice.url is not None:
                text += "\n\n" + _("To get it, press 「{button}」 in the bar at the top of "
                                   "the window.").format(button=_("Open the download page"))
            else:
                text += "\n\n" + _("Ask the relay's administrator how to get it.")
            messages.inform(self.window, text)
        elif result.outcome == CheckOutcome.UP_TO_DATE:
            messages.inform(self.window, _("This is the newest version of Kairan ({current})."
                                           ).format(current=current))
        elif result.outcome == CheckOutcome.NOT_PAIRED:
            messages.inform(self.window, _(
                "Kairan hears of new versions from the relay, and this file is not connected "
                "to one, so it cannot check. Connect it first (同期 → リレーに接続), or ask "
                "whoever looks after your association's Kairan."))
        else:
            messages.warn(self.window, _("Kairan could not ask the relay whether a new version "
                                         "exists.") + "\n\n" + result.message)

    def about(self) -> None:
        """「Kairan について」: name, version and the licences of what is shipped with it."""
        licence = resources.files("resources") / "fonts" / "IPA_Font_License.txt"
        text = "\n\n".join((
            _("Kairan (回覧) {version}").format(version=running_version()),
            _("The office program of a neighbourhood association. Free software under the MIT "
              "licence."),
            _("The Japanese fonts IPAex Gothic and IPAex Mincho are included under the IPA "
              "Font License Agreement v1.0; its text is in {file}.").format(file=licence),
            _("The window is made with Qt for Python (PySide6), used under the GNU LGPL "
              "version 3."),
        ))
        messages.inform(self.window, text, title=_("About Kairan"))

"""The update notice in the window, against a real relay over HTTPS: the bar for a newer
version and its three buttons (the browser only for an https page, and never anything
downloaded), once a day, quiet when offline or not paired; the Help menu's check and About."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import QApplication

import desktop
from desktop.ui import update_notice
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import (
    UPDATE_CHECKED_AT,
    UPDATE_DISMISSED,
    UPDATE_LATEST_NOTES,
    UPDATE_LATEST_URL,
    UPDATE_LATEST_VERSION,
    Settings,
)
from sync import credentials
from sync.pairing import pair
from sync.relay import releases
from sync.update_check import UpdateNotice
from tests.relay.relay_server import RunningRelay
from tests.sync.helpers import MemoryKeyring, mark_paired
from tests.ui.helpers import TODAY, Messages, menu_titles

WAIT = 10_000  # ms
PAGE = "https://kairan.example.jp/download/0.2.0"
NEWER = "A new version of Kairan, 0.2.0, is available (you are using version 0.1.0)."


class Browser:
    """Stands in for QDesktopServices.openUrl: records, opens nothing."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: QUrl) -> bool:
        self.opened.append(url.toString())
        return True


@pytest.fixture(autouse=True)
def running_0_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kairan 0.1.0 is running, and no version was put off with 「あとで」 (a new start)."""
    monkeypatch.setattr(desktop, "__version__", "0.1.0")
    monkeypatch.setattr(update_notice, "_hidden_until_restart", set())


@pytest.fixture(autouse=True)
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    """No test ever opens a real browser."""
    recorder = Browser()
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(recorder))
    return recorder


@pytest.fixture
def paired(window: MainWindow, relay: RunningRelay, memory_keyring: MemoryKeyring
           ) -> RunningRelay:
    """The window's file paired with the relay (directly: pairing has its own tests), the
    start-up timer stopped so that each test runs the check itself."""
    window.update_actions.timer.stop()
    _association, code = relay.new_association("桜町自治会")
    pair(window.file, relay_url=relay.url, code=code, device_name="事務所PC",
         ca_file=str(relay.tls.ca_file), today=TODAY)
    return relay


def _check(qtbot: Any, window: MainWindow) -> None:
    """The automatic check, waited for."""
    actions = window.update_actions
    actions.automatic_check()
    qtbot.waitUntil(lambda: actions.task is None, timeout=WAIT)


def _check_now(qtbot: Any, window: MainWindow) -> None:
    """The Help menu's check, waited for."""
    window.update_actions.check_now()
    qtbot.waitUntil(lambda: not window.tasks.busy(), timeout=WAIT)


def _long_ago(settings: Settings) -> None:
    """The relay last answered two days ago: the next start asks again."""
    settings.set(UPDATE_CHECKED_AT, (datetime.now(UTC) - timedelta(days=2)).isoformat())


# ---------------------------------------------------------------- the automatic check


def test_a_newer_version_shows_the_bar(qtbot: Any, window: MainWindow, paired: RunningRelay,
                                       messages: Messages) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE,
                         notes="名簿の印刷が速くなりました")
    bar = window.update_bar
    assert not bar.isVisible()
    _check(qtbot, window)
    assert bar.isVisible()
    assert bar.message.text() == NEWER
    assert bar.notes.text() == "名簿の印刷が速くなりました"
    assert bar.open_button.isVisible() and bar.later_button.isVisible()
    assert bar.dismiss_button.isVisible()
    assert [bar.open_button.text(), bar.later_button.text(), bar.dismiss_button.text()] == [
        "Open the download page", "Later", "Don't tell me about this version"]
    assert bar.font().pointSizeF() > QApplication.font().pointSizeF()  # large text
    assert bar.geometry().top() <= window.tabs.geometry().top()  # above the tabs
    assert messages.warnings == [] and messages.informations == []  # a bar, not a dialog
    settings = window.settings
    assert settings.get(UPDATE_LATEST_VERSION) == "0.2.0"
    assert settings.get(UPDATE_LATEST_URL) == PAGE
    assert settings.get(UPDATE_CHECKED_AT)


def test_the_bar_follows_the_officers_text_size(qtbot: Any, window: MainWindow,
                                                qapp: QApplication) -> None:
    window.update_bar.show_notice(UpdateNotice("0.2.0", "0.1.0", PAGE))
    before = QFont(qapp.font())
    try:
        larger = QFont(before)
        larger.setPointSizeF(before.pointSizeF() * 2)
        qapp.setFont(larger)
        expected = larger.pointSizeF() * update_notice.TEXT_SCALE
        qtbot.waitUntil(lambda: window.update_bar.font().pointSizeF() == pytest.approx(expected),
                        timeout=WAIT)  # the window hears of it through its event queue
    finally:
        qapp.setFont(before)


def test_nothing_newer_shows_nothing(qtbot: Any, window: MainWindow,
                                     paired: RunningRelay) -> None:
    _check(qtbot, window)  # the relay records no release
    assert not window.update_bar.isVisible()
    assert window.settings.get(UPDATE_CHECKED_AT)  # it answered: not asked again today
    releases.set_release(paired.database, version="0.1.0", url=PAGE)
    _long_ago(window.settings)
    _check(qtbot, window)
    assert not window.update_bar.isVisible()
    releases.set_release(paired.database, version="0.1.0rc9", url=PAGE)
    _long_ago(window.settings)
    _check(qtbot, window)
    assert not window.update_bar.isVisible()


def test_the_check_starts_a_few_seconds_after_the_window_opens(window: MainWindow) -> None:
    timer = window.update_actions.timer
    assert timer.isActive() and timer.isSingleShot()
    assert timer.interval() == update_notice.UPDATE_DELAY_SECONDS * 1000


def test_not_paired_asks_nobody_and_says_nothing(qtbot: Any, window: MainWindow,
                                                 messages: Messages) -> None:
    window.update_actions.timer.stop()
    window.update_actions.automatic_check()
    assert window.update_actions.task is None  # nothing started
    assert not window.update_bar.isVisible()
    assert window.settings.get(UPDATE_CHECKED_AT) == ""
    assert messages.warnings == [] and messages.informations == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_offline_the_automatic_check_says_nothing(
    qtbot: Any, window: MainWindow, memory_keyring: MemoryKeyring, messages: Messages
) -> None:
    window.update_actions.timer.stop()
    url = f"https://127.0.0.1:{_closed_port()}"
    with window.file.write() as session:
        mark_paired(session, relay_url=url)
    credentials.store_token(credentials.token_key(url, "a1"), "token")
    _check(qtbot, window)
    assert not window.update_bar.isVisible()
    assert messages.warnings == [] and messages.informations == []
    assert window.settings.get(UPDATE_CHECKED_AT) == ""  # asked again at the next start


def test_the_relay_is_asked_at_most_once_a_day(qtbot: Any, window: MainWindow,
                                               paired: RunningRelay) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    releases.set_release(paired.database, version="0.3.0", url=PAGE)
    window.update_bar.hide()
    _check(qtbot, window)  # the same day: what the relay said then, without asking
    assert window.update_bar.isVisible() and "0.2.0" in window.update_bar.message.text()
    _long_ago(window.settings)
    _check(qtbot, window)
    assert "0.3.0" in window.update_bar.message.text()


def test_after_updating_kairan_the_remembered_release_is_not_news(
    qtbot: Any, window: MainWindow, paired: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    window.update_bar.hide()
    monkeypatch.setattr(desktop, "__version__", "0.2.0")  # the officer installed it
    _check(qtbot, window)
    assert not window.update_bar.isVisible()


# ---------------------------------------------------------------- the bar's buttons


def test_the_download_button_opens_the_https_page_and_downloads_nothing(
    qtbot: Any, window: MainWindow, paired: RunningRelay, browser: Browser
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    window.update_bar.open_button.click()
    assert browser.opened == [PAGE]
    assert window.update_bar.isVisible()  # still there to come back to


def test_no_button_and_no_browser_for_a_page_that_is_not_https(
    qtbot: Any, window: MainWindow, paired: RunningRelay, browser: Browser
) -> None:
    # A relay never stores one (it refuses); a file from elsewhere or an old relay might.
    settings = window.settings
    settings.set(UPDATE_CHECKED_AT, datetime.now(UTC).isoformat())
    settings.set(UPDATE_LATEST_VERSION, "0.2.0")
    settings.set(UPDATE_LATEST_URL, "http://kairan.example.jp/setup.exe")
    settings.set(UPDATE_LATEST_NOTES, "")
    _check(qtbot, window)
    bar = window.update_bar
    assert bar.isVisible() and bar.message.text() == NEWER
    assert not bar.open_button.isVisible()
    assert window.update_actions.open_page() is False
    bar.show_notice(UpdateNotice("0.2.0", "0.1.0", "file:///C:/setup.exe"))  # slipped through
    bar.open_button.click()
    assert browser.opened == []


def test_what_the_relay_sent_is_shown_as_plain_text(qtbot: Any, window: MainWindow,
                                                   paired: RunningRelay) -> None:
    notes = '<a href="http://example.com">ここ</a><img src="file:///C:/x.png">'
    releases.set_release(paired.database, version="0.2.0", url=PAGE, notes=notes)
    _check(qtbot, window)
    bar = window.update_bar
    assert bar.notes.text() == notes
    assert bar.notes.textFormat() == Qt.TextFormat.PlainText
    assert bar.message.textFormat() == Qt.TextFormat.PlainText


def test_the_officer_is_told_when_the_browser_cannot_open(
    qtbot: Any, window: MainWindow, paired: RunningRelay, monkeypatch: pytest.MonkeyPatch,
    messages: Messages
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda _url: False))
    window.update_bar.open_button.click()
    assert PAGE in messages.warnings[-1]


def test_later_hides_the_bar_until_kairan_starts_again(
    qtbot: Any, window: MainWindow, paired: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    window.update_bar.later_button.click()
    assert not window.update_bar.isVisible()
    _check(qtbot, window)  # another window of the same run (a language switch)
    assert not window.update_bar.isVisible()
    assert window.settings.get(UPDATE_DISMISSED) == ""
    monkeypatch.setattr(update_notice, "_hidden_until_restart", set())  # Kairan restarted
    _check(qtbot, window)
    assert window.update_bar.isVisible()


def test_dismissing_a_version_silences_it_but_not_the_next(
    qtbot: Any, window: MainWindow, paired: RunningRelay
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    _check(qtbot, window)
    window.update_bar.dismiss_button.click()
    assert not window.update_bar.isVisible()
    assert window.settings.get(UPDATE_DISMISSED) == "0.2.0"
    _long_ago(window.settings)
    _check(qtbot, window)
    assert not window.update_bar.isVisible()
    releases.set_release(paired.database, version="0.3.0", url=PAGE)
    _long_ago(window.settings)
    _check(qtbot, window)
    assert window.update_bar.isVisible() and "0.3.0" in window.update_bar.message.text()


# ---------------------------------------------------------------- the Help menu


def test_the_window_has_a_help_menu(window: MainWindow) -> None:
    assert menu_titles(window)[-1] == "&Help"
    help_menu = window.menuBar().actions()[-1].menu()
    texts = [action.text() for action in help_menu.actions() if not action.isSeparator()]
    assert texts == ["Check for a &new version", "&About Kairan"]
    shortcuts = [action.shortcut().toString() for action in help_menu.actions()
                 if not action.isSeparator()]
    assert shortcuts == ["Ctrl+Alt+V", "F1"]


def test_checking_by_hand_when_up_to_date(qtbot: Any, window: MainWindow,
                                          paired: RunningRelay, messages: Messages) -> None:
    _check_now(qtbot, window)
    assert messages.informations == ["This is the newest version of Kairan (0.1.0)."]
    assert not window.update_bar.isVisible()


def test_checking_by_hand_finds_a_newer_version_even_one_dismissed(
    qtbot: Any, window: MainWindow, paired: RunningRelay, messages: Messages
) -> None:
    releases.set_release(paired.database, version="0.2.0", url=PAGE)
    window.settings.set(UPDATE_DISMISSED, "0.2.0")
    _check_now(qtbot, window)
    [text] = messages.informations
    assert text.startswith(NEWER) and "「Open the download page」" in text
    assert window.update_bar.isVisible()  # asked for: shown
    assert window.settings.get(UPDATE_LATEST_VERSION) == "0.2.0"


def test_checking_by_hand_when_not_connected(qtbot: Any, window: MainWindow,
                                             messages: Messages) -> None:
    _check_now(qtbot, window)
    [text] = messages.informations
    assert "not connected" in text and "リレーに接続" in text
    assert messages.warnings == []


def test_checking_by_hand_when_the_relay_cannot_be_reached(
    qtbot: Any, window: MainWindow, paired: RunningRelay, messages: Messages
) -> None:
    paired.stop()  # the relay goes away (or this PC goes offline)
    _check_now(qtbot, window)
    [text] = messages.warnings
    assert text.startswith("Kairan could not ask the relay whether a new version exists.")
    assert "cannot be reached" in text
    assert messages.informations == []


def test_about_names_the_version_and_the_font_licence(window: MainWindow,
                                                      messages: Messages) -> None:
    window.update_actions.about()
    [text] = messages.informations
    assert "Kairan (回覧) 0.1.0" in text
    assert "IPA Font License" in text and "IPA_Font_License.txt" in text
    licence = text.split("its text is in ", 1)[1].split(";")[0].split("\n")[0].rstrip(".")
    assert Path(licence).is_file()


def test_closing_the_window_stops_the_check(window: MainWindow) -> None:
    window.close()
    assert window.update_actions.stopped
    assert not window.update_actions.timer.isActive()

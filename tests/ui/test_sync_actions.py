"""Sync in the window, against the real relay over HTTPS: pairing from the dialog, the status
bar, 今すぐ同期, going offline and the network coming back, the sync problems, residents'
safety answers reaching the board, disconnecting, and a PC without a keyring."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from sqlmodel import select

from desktop.domain.households import HouseholdData, create_household
from desktop.domain.models import Household
from desktop.ui.main_window import MainWindow
from desktop.ui.sync_actions import SyncActions
from sync import outbox
from sync.engine import Outcome
from sync.relay.db import append_log
from tests.relay.relay_server import RunningRelay
from tests.sync.helpers import MemoryKeyring
from tests.ui.helpers import Messages

WAIT = 10_000  # ms


class SwitchableProxy:
    """A TCP forwarder on a fixed port of 127.0.0.1 that can be unplugged and plugged back:
    the network going away and coming back, as far as this PC can tell."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.plug()

    def plug(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def unplug(self) -> None:
        if self.listener is not None:  # shutdown wakes the accepting thread at once
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxy(relay: RunningRelay) -> Iterator[SwitchableProxy]:
    host, port = relay.url.removeprefix("https://").split(":")
    switch = SwitchableProxy((host, int(port)))
    yield switch
    switch.unplug()


def _idle(qtbot: Any, sync: SyncActions) -> None:
    qtbot.waitUntil(lambda: not sync.syncing and sync.probe is None, timeout=WAIT)


def _pair(qtbot: Any, window: MainWindow, relay: RunningRelay, url: str) -> str:
    """Pair the window's file from the dialog, as an officer would; returns the association."""
    association_id, code = relay.new_association("桜町自治会")
    dialog = window.sync_actions.connect_relay()
    assert dialog is not None
    dialog.relay_url.setText(url)
    dialog.code.setText(code)
    dialog.device_name.setText("事務所PC")
    dialog.ca_file.setText(str(relay.tls.ca_file))
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.result_ is not None, dialog.problem.text()
    _idle(qtbot, window.sync_actions)
    return association_id


@pytest.fixture
def paired(qtbot: Any, window: MainWindow, relay: RunningRelay, proxy: SwitchableProxy,
           memory_keyring: MemoryKeyring) -> Iterator[str]:
    """The demo file paired (through the proxy), its households and open circulars sent."""
    association_id = _pair(qtbot, window, relay, f"https://127.0.0.1:{proxy.port}")
    yield association_id
    window.sync_actions.stop()
    _idle(qtbot, window.sync_actions)


def test_pairing_sends_the_roster_and_the_status_bar_says_synced(
    qtbot: Any, window: MainWindow, paired: str, memory_keyring: MemoryKeyring
) -> None:
    sync = window.sync_actions
    dialog = sync.pairing_dialog
    assert dialog is not None and dialog.result_ is not None
    assert sync.status.outcome == Outcome.SYNCED
    assert sync.status.pushed == dialog.result_.queued > 40  # households, open circulars
    assert window.sync_label.isVisible()
    assert window.sync_label.text().startswith("Synced ")
    assert len(memory_keyring.passwords) == 1  # the token, and nowhere else
    assert window.sync_actions.connect_relay() is None  # already connected: it says so


def test_offline_then_the_network_comes_back(
    qtbot: Any, window: MainWindow, paired: str, proxy: SwitchableProxy, messages: Messages
) -> None:
    sync = window.sync_actions
    proxy.unplug()
    with window.file.write() as session:
        create_household(session, data=HouseholdData(number="0100", display_name="新井 一郎"))
    window.reload()
    assert window.sync_label.text().endswith("1 waiting to be sent")
    sync.sync_now()
    assert window.sync_label.text().startswith("Syncing…")
    _idle(qtbot, sync)
    assert window.sync_label.text() == "Offline・1 waiting to be sent"
    assert "cannot be reached" in messages.warnings[-1]  # asked for: told why
    sync.next_at = time.monotonic() + 3600  # the backoff would wait; the network check won't
    sync.tick()
    _idle(qtbot, sync)
    assert sync.status.outcome == Outcome.OFFLINE  # still unplugged: nothing sent
    proxy.plug()
    sync.tick()
    _idle(qtbot, sync)
    assert sync.status.outcome == Outcome.SYNCED and sync.status.pending == 0
    assert window.sync_label.text().startswith("Synced ")


def test_a_refused_change_is_listed_and_can_be_given_up(
    qtbot: Any, window: MainWindow, paired: str, messages: Messages
) -> None:
    sync = window.sync_actions
    with window.file.write() as session:
        outbox.enqueue(session, kind="household.upsert", body={
            "household_id": str(uuid.uuid4()), "number": "X1", "display_name": "毒",
            "group_id": None, "group_name": "", "address": "桜町1-1"})
    sync.sync_now()
    _idle(qtbot, sync)
    assert window.sync_label.text().endswith("1 sync problems")
    dialog = sync.show_problems()
    [(what, why)] = dialog.problem_texts()
    assert what == "Household X1 毒" and "address" in why
    dialog.retry_button.click()  # sent again: refused again
    sync.sync_now()
    _idle(qtbot, sync)
    dialog.refresh()
    assert len(dialog.problem_texts()) == 1
    messages.answer = True
    dialog.discard_button.click()
    assert dialog.problem_texts() == []
    assert not window.sync_label.text().endswith("sync problems")


def test_residents_safety_answers_reach_the_board(
    qtbot: Any, window: MainWindow, paired: str, relay: RunningRelay, answer_input: Any
) -> None:
    window.show_safety_board()
    answer_input("getText", "")
    window.safety_actions.switch()
    with window.file.read() as session:
        household = session.exec(select(Household).where(Household.number == "0005")).one()
    with relay.database.write() as connection:
        append_log(connection, association_id=paired, kind="safety", body={
            "answer_id": str(uuid.uuid4()), "household_id": str(household.id),
            "status": "urgent", "note": "", "needs_help": True,
            "at": "2099-01-01T00:00:00+00:00"}, household_id=str(household.id))
    window.sync_actions.sync_now()
    _idle(qtbot, window.sync_actions)
    assert window.sync_actions.status.applied.safety == 1
    assert window.safety_board.counts()["All"] == (1, 39, 0, 1)


def test_disconnecting_forgets_the_relay(
    qtbot: Any, window: MainWindow, paired: str, messages: Messages,
    memory_keyring: MemoryKeyring
) -> None:
    messages.answer = True
    assert window.sync_actions.disconnect_relay()
    assert "Disconnect this file from the relay" in messages.questions[-1]
    assert memory_keyring.passwords == {}
    assert not window.sync_label.isVisible()


def test_without_a_keyring_pairing_says_so_and_keeps_the_code(
    qtbot: Any, window: MainWindow, relay: RunningRelay, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(fail.Keyring())
    _association_id, code = relay.new_association()
    dialog = window.sync_actions.connect_relay()
    assert dialog is not None
    dialog.relay_url.setText(relay.url)
    dialog.code.setText(code)
    dialog.ca_file.setText(str(relay.tls.ca_file))
    dialog.connect_relay()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert "no usable password store" in dialog.problem.text()
    assert dialog.isVisible() and dialog.result_ is None
    keyring.set_keyring(memory_keyring)  # the officer starts a keyring: the same code works
    dialog.connect_relay()
    qtbot.waitUntil(lambda: dialog.task is None, timeout=WAIT)
    assert dialog.result_ is not None
    _idle(qtbot, window.sync_actions)
    window.sync_actions.stop()


def test_the_timer_waits_as_the_relay_asked(qtbot: Any, window: MainWindow, paired: str
                                            ) -> None:
    sync = window.sync_actions
    sync.status = replace(sync.status, outcome=Outcome.BUSY, retry_in=120.0)
    sync.next_at = time.monotonic() + 120
    sync.tick()
    assert not sync.syncing and sync.probe is None  # busy, not offline: no shortcut
    sync.next_at = time.monotonic() - 1
    sync.tick()
    assert sync.syncing
    _idle(qtbot, sync)
    assert sync.status.outcome == Outcome.SYNCED


def test_closing_the_window_while_it_syncs(qtbot: Any, window: MainWindow, paired: str
                                           ) -> None:
    sync = window.sync_actions
    sync.sync_now()
    assert sync.syncing
    window.close()  # the cycle stops at its next step; its result is dropped
    qtbot.waitUntil(lambda: not sync.runner.busy(), timeout=WAIT)
    assert sync.stopped and not sync.timer.isActive()

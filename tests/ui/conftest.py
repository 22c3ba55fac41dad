"""Fixtures for widget tests: a small demo association, an open main window, and no modal
dialog that could ever block a test run.

Every message box goes through :mod:`desktop.ui.messages`, which is replaced here by a
recorder; Qt's own modal entry points (``QDialog.exec``, ``QMessageBox``, ``QInputDialog``,
``QFileDialog``) fail the test unless the test patches the one it drives.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
)

from desktop.domain.demo import populate_demo
from desktop.domain.demo_data import DemoRoster, generate_demo_roster, iter_han
from desktop.store.association_file import (
    AssociationFile,
    create_association_file,
    open_association,
)
from desktop.ui import messages as messages_module
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import Settings
from tests.ui.helpers import DEMO_HOUSEHOLDS, DEMO_SEED, TODAY, YEAR, Asked, Messages

if TYPE_CHECKING:
    from tests.relay.relay_server import RunningRelay, TlsFiles
    from tests.sync.helpers import MemoryKeyring
from tests.ui.sharing_fakes import FakeService, SheetRecorder, install

# ---------------------------------------------------------------- the demo association


@pytest.fixture(scope="session")
def demo_roster() -> DemoRoster:
    """The generated demo (pure data): the source of truth the widgets are compared with."""
    roster = generate_demo_roster(DEMO_HOUSEHOLDS, seed=DEMO_SEED)
    first = next(iter(iter_han(roster))).households[0]
    # The tests name households of this seed; a changed generator must fail here, plainly.
    assert (first.number, first.display_name, first.furigana) == (
        "0001",
        "服部 修",
        "ハットリ オサム",
    ), "the demo generator changed; update the households the UI tests name"
    return roster


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, demo_roster: DemoRoster) -> Path:
    """One demo file per run, copied for each test (writing one takes most of a second).

    It is written like ``create_demo_file`` does, but with the officers in :data:`YEAR`
    rather than the year of the real clock, so the role board tests do not depend on it.
    """
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        created = create_association_file(folder / "demo.kairan")
        try:
            with created.write() as session:
                populate_demo(session, demo_roster, year=YEAR)
        finally:
            created.close()
    assert not Path(f"{created.path}-wal").exists()
    return created.path


@pytest.fixture
def demo_path(tmp_path: Path, demo_template: Path) -> Path:
    """A fresh copy of the demo file for this test."""
    path = tmp_path / "demo.kairan"
    shutil.copyfile(demo_template, path)
    return path


@pytest.fixture
def demo_file(demo_path: Path) -> Iterator[AssociationFile]:
    """The demo file, open."""
    opened = open_association(demo_path)
    yield opened
    opened.close()


@pytest.fixture
def window(qtbot: Any, demo_file: AssociationFile) -> Iterator[MainWindow]:
    """The main window over the demo file, shown and active (so focus and shortcuts work)."""
    main = MainWindow(demo_file, Settings(), today=lambda: TODAY)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitExposed(main)
    yield main
    main.close()


# ---------------------------------------------------------------- no modal dialogs


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> Messages:
    """Record the messages instead of showing them (autouse: nothing may block)."""
    recorder = Messages()
    monkeypatch.setattr(messages_module, "warn", recorder.warn)
    monkeypatch.setattr(messages_module, "inform", recorder.inform)
    monkeypatch.setattr(messages_module, "confirm", recorder.confirm)
    return recorder


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any modal dialog a test did not drive fails the test instead of hanging it."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError(f"a modal dialog was opened in a widget test: {args!r}")

    monkeypatch.setattr(QDialog, "exec", refuse)
    for name in ("warning", "information", "question", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(refuse))
    for name in ("getText", "getItem", "getInt"):
        monkeypatch.setattr(QInputDialog, name, staticmethod(refuse))
    for name in ("getOpenFileName", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(refuse))


@pytest.fixture
def answer_input(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Asked]:
    """``answer_input("getText", "3班")`` makes that QInputDialog call return the answer."""

    def patch(method: str, answer: str, *, ok: bool = True) -> Asked:
        asked = Asked()

        def fake(*args: Any, **kwargs: Any) -> tuple[str, bool]:
            asked.calls.append(args)
            asked.kwargs.append(kwargs)
            return answer, ok

        monkeypatch.setattr(QInputDialog, method, staticmethod(fake))
        return asked

    return patch


# ---------------------------------------------------------------- sharing between office PCs


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeService:
    """The stand-in sharing service (tests/ui/sharing_fakes.py), installed."""
    service = FakeService()
    install(monkeypatch, service)
    return service


@pytest.fixture
def sheet(monkeypatch: pytest.MonkeyPatch) -> SheetRecorder:
    """The recovery sheet's PDF function, recorded."""
    from reports.pdf import recovery_sheet

    recorder = SheetRecorder()
    monkeypatch.setattr(recovery_sheet, "recovery_sheet_pdf", recorder)
    return recorder


# ---------------------------------------------------------------- a relay for the sync windows
# (the relay's modules are imported only by the tests that ask for one)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An in-memory keyring in place of the OS one, for pairing."""
    from tests.sync.helpers import memory_keyring_installed

    with memory_keyring_installed() as ring:
        yield ring


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A trial CA and server certificate for the module's relays."""
    from tests.relay.relay_server import make_tls_files

    return make_tls_files(tmp_path_factory.mktemp("ui-relay-tls"))


@pytest.fixture
def relay(tmp_path: Path, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A real relay over HTTPS on SQLite, without the residents' pages and with no rate
    limit to speak of."""
    from sync.relay.config import Settings
    from tests.relay.relay_server import running_relay

    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files,
                       settings=Settings(rate_burst=10_000, rate_per_second=10_000.0),
                       resident_routes=lambda _database: []) as running:
        yield running

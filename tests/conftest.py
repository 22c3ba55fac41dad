"""Test-wide set-up: no real user folders, no screen, English messages unless a test asks."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: widgets render offscreen, so tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Nothing in a test run may reach the real user folders, not even a session-wide fixture that
# runs before the per-test KAIRAN_HOME below: point them all at a throw-away folder first.
_SESSION_HOME = tempfile.mkdtemp(prefix="kairan-tests-")
os.environ["KAIRAN_HOME"] = _SESSION_HOME
atexit.register(shutil.rmtree, _SESSION_HOME, ignore_errors=True)

from desktop.i18n import set_language  # noqa: E402  (after the environment is set)

pytest_plugins = ["tests.fixtures_store"]


@pytest.fixture(autouse=True)
def kairan_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every path Kairan uses (data, settings, backups) lives in the test's own folder."""
    home = tmp_path / "kairan-home"
    monkeypatch.setenv("KAIRAN_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages in English, so assertions read plainly; tests of Japanese set it themselves."""
    set_language("en")
    yield
    set_language("en")

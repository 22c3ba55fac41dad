"""Test-wide set-up: no real user folders, no screen, English messages unless a test asks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any Qt import: widgets render offscreen, so tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop.i18n import set_language

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

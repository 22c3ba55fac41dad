"""Fixtures for tests that need an association file (loaded as a plugin by conftest)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.domain.association import create_association
from desktop.store.association_file import (
    AssociationFile,
    create_association_file,
    open_association,
)


@pytest.fixture(scope="session")
def association_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One new association file per test run, made the way the app makes one.

    Running every migration takes tens of milliseconds; copying the result takes one, and
    most tests need a file.
    """
    folder = tmp_path_factory.mktemp("association-template")
    path = folder / "template.kairan"
    with pytest.MonkeyPatch.context() as patch:  # the per-test KAIRAN_HOME is not set yet
        patch.setenv("KAIRAN_HOME", str(folder / "kairan-home"))
        created = create_association_file(path)
        try:
            with created.write() as session:
                create_association(session, name="桜町自治会")
        finally:
            created.close()
    return path


@pytest.fixture
def association_file(tmp_path: Path, association_template: Path) -> Iterator[AssociationFile]:
    """A new, empty association called 桜町自治会 (year starting in April), with its roles."""
    path = tmp_path / "test.kairan"
    shutil.copyfile(association_template, path)
    opened = open_association(path)
    yield opened
    opened.close()

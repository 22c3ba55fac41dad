"""Every folder and file Kairan uses on the officer's PC, in one place.

Tests redirect all of them with the ``KAIRAN_HOME`` environment variable, so no test ever
touches the real user folders.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "Kairan"
FILE_SUFFIX = ".kairan"


def data_dir() -> Path:
    """The user's data folder for Kairan (created on first use)."""
    override = os.environ.get("KAIRAN_HOME")
    folder = Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_association_path() -> Path:
    """Where the association file lives unless ``--db`` names another."""
    return data_dir() / f"association{FILE_SUFFIX}"


def settings_path() -> Path:
    """The settings file (an INI file, so it can be backed up and read by a person)."""
    return data_dir() / "settings.ini"


def backups_dir_for(association_path: Path) -> Path:
    """The backup folder of one association file.

    Backups stay on the PC's own disk, not beside the file: a USB stick that is lost or broken
    must not take the backups with it. The folder name carries a hash of the absolute path so
    two files with the same name keep separate backups.
    """
    absolute = str(association_path.resolve())
    digest = hashlib.sha256(absolute.encode("utf-8")).hexdigest()[:10]
    return data_dir() / "backups" / f"{association_path.stem}-{digest}"


def new_demo_dir() -> Path:
    """A throw-away folder for the demo association."""
    return Path(tempfile.mkdtemp(prefix="kairan-demo-"))

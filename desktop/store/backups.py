"""Rotating backups of an association file, and restoring one.

Backups are taken with SQLite's online backup API (consistent even while the file is open),
written under a temporary name, checked with ``quick_check`` and only then renamed into place,
so a backup that exists is a backup that opens.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.i18n import _

Progress = Callable[[int, int], None]  # (pages done, pages in all)
_STAMP = "%Y%m%d-%H%M%S-%f"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6}-\d{6})-(?P<reason>[a-z-]+)\.kairan$")
REASONS = ("auto", "manual", "before-upgrade", "before-restore", "before-purge")


class BackupCancelled(Exception):
    """The officer cancelled a backup; nothing was written."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """One backup file."""

    path: Path
    created_at: datetime
    reason: str
    size: int


def quick_check(path: Path) -> bool:
    """Whether SQLite's ``quick_check`` finds ``path`` sound (a file that is no database is not)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError:
        return False
    finally:
        connection.close()
    return rows == [("ok",)]


def copy_database(
    source: Path,
    target: Path,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> None:
    """Copy the database at ``source`` into a new file ``target`` with the backup API."""

    def report(_status: int, remaining: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise BackupCancelled
        if progress is not None:
            progress(total - remaining, total)

    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=256, progress=report)
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


class BackupStore:
    """The backup folder of one association file, keeping the newest ``keep`` backups."""

    def __init__(self, folder: Path, *, keep: int = 10) -> None:
        if keep < 1:
            raise ValueError("keep at least one backup")
        self.folder = folder
        self.keep = keep

    def make(
        self,
        source: Path,
        *,
        reason: str = "auto",
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> BackupInfo:
        """Back up ``source`` now; raises :class:`KairanError` when the disk refuses."""
        if reason not in REASONS:
            raise ValueError(f"unknown backup reason {reason!r}")
        created = datetime.now()
        final = self.folder / f"{source.stem}-{created.strftime(_STAMP)}-{reason}.kairan"
        partial = final.with_suffix(".partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            copy_database(source, partial, progress=progress, cancelled=cancelled)
            if not quick_check(partial):
                raise KairanError(
                    _("The backup of {file} could not be verified. Check the disk and try again.")
                    .format(file=source.name)
                )
            _fsync(partial)
            partial.replace(final)
        except (OSError, sqlite3.Error) as error:
            raise KairanError(
                _("Could not write a backup to {folder}: {error}. "
                  "Free some disk space or choose another folder.")
                .format(folder=self.folder, error=error)
            ) from error
        finally:
            with contextlib.suppress(OSError):  # never hide the error that got us here
                partial.unlink()
        self.rotate()
        return BackupInfo(final, created, reason, final.stat().st_size)

    def list(self) -> list[BackupInfo]:
        """All backups, newest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _NAME.match(path.name)
            if match is None:
                continue
            created = datetime.strptime(match["stamp"], _STAMP)
            found.append(BackupInfo(path, created, match["reason"], path.stat().st_size))
        return sorted(found, key=lambda info: info.created_at, reverse=True)

    def newest_good(self) -> BackupInfo | None:
        """The newest backup that passes ``quick_check``, if any."""
        return next((info for info in self.list() if quick_check(info.path)), None)

    def rotate(self) -> None:
        """Delete all but the newest ``keep`` backups."""
        for info in self.list()[self.keep :]:
            with contextlib.suppress(FileNotFoundError):
                info.path.unlink()


def restore(backup: Path, target: Path, *, store: BackupStore) -> BackupInfo | None:
    """Replace ``target`` with ``backup``; the replaced file is backed up first if it is sound.

    The association file must be closed by every connection first. The copy is made beside
    the target and renamed over it, so a failure leaves the old file as it was.
    Returns the safety backup of the replaced file, if one was made.
    """
    if not quick_check(backup):
        raise KairanError(
            _("The backup {file} is damaged and cannot be restored. Choose an older backup.")
            .format(file=backup.name)
        )
    safety = None
    if target.exists() and quick_check(target):
        safety = store.make(target, reason="before-restore")
    partial = target.with_name(target.name + ".restoring")
    try:
        copy_database(backup, partial)
        _fsync(partial)
        # A stale write-ahead log would be replayed onto the restored file: remove it first.
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        partial.replace(target)
    except (OSError, sqlite3.Error) as error:
        raise KairanError(
            _("Could not restore {backup} onto {file}: {error}.")
            .format(backup=backup.name, file=target, error=error)
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return safety

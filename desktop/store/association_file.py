"""Opening, creating and closing an association file, with every check before the first write.

Order matters: a file that is not ours, damaged, read-only, locked or on a network share is
refused before anything is written to it; an older file is backed up and then upgraded; a file
from a newer Kairan is refused rather than half-understood.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from desktop import paths
from desktop.domain import audit
from desktop.domain.errors import KairanError
from desktop.i18n import _
from desktop.store import migrate
from desktop.store.backups import BackupInfo, BackupStore, quick_check
from desktop.store.engine import APPLICATION_ID, IMMEDIATE, configure_connection, make_engine
from desktop.store.location import is_network_path
from sync.replica import capture as _replica_capture  # noqa: F401  (queues shared changes)

SQLITE_HEADER = b"SQLite format 3\x00"


class FileProblem(KairanError):
    """The association file cannot be used as it is."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotAKairanFile(FileProblem):
    """Some other file was chosen."""


class DamagedFile(FileProblem):
    """``quick_check`` failed; ``backup`` is the newest backup that passes it, if any."""

    def __init__(self, message: str, *, path: Path, backup: BackupInfo | None) -> None:
        super().__init__(message, path=path)
        self.backup = backup


class NewerFile(FileProblem):
    """Written by a newer Kairan than this one."""


class ReadOnlyFile(FileProblem):
    """The file or its folder cannot be written."""


class LockedFile(FileProblem):
    """Another program holds the file's write lock."""


class NetworkShareFile(FileProblem):
    """The file lives on a network share, where SQLite's WAL mode is unsafe."""


class MissingFile(FileProblem):
    """There is no file at the path given."""


class AssociationFile:
    """An open association file: sessions for reading and for one-transaction writes.

    A file may be opened before its integrity check has finished (the window paints while
    ``quick_check`` runs in the background): every write waits for the check and is refused
    if it failed, so a damaged file is never written to.

    ``actor`` is who is using the file (the officer profile chosen); every write records its
    changes in the audit trail under that name (none chosen: the actor is "").
    """

    def __init__(self, path: Path, engine: Engine, backups: BackupStore, *,
                 verified: bool) -> None:
        self.path = path
        self.engine = engine
        self.backups = backups
        self._writer = engine.execution_options(**{IMMEDIATE: True})
        self._checked = threading.Event()
        self._verifying = threading.Lock()  # one check at a time; later callers wait for it
        self._sound = True
        self.actor: audit.Actor | None = None
        if verified:
            self._checked.set()

    @property
    def verified(self) -> bool:
        """Whether the integrity check has run (and passed, or writes are refused)."""
        return self._checked.is_set()

    def verify(self) -> None:
        """Run the integrity check now; raises :class:`DamagedFile` if it fails."""
        with self._verifying:
            if not self._checked.is_set():
                self._sound = quick_check(self.path)
                self._checked.set()
        if not self._sound:
            raise _damaged(self.path, self.backups)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing it does is kept."""
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes are committed together at the end, or not at all, and
        recorded in the audit trail under :attr:`actor`."""
        self.verify()  # waits for a check under way, or runs it if nobody has
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            audit.attach(session, self.actor)
            yield session

    def close(self) -> None:
        """Release every connection (the WAL is checkpointed as the last one closes)."""
        self.engine.dispose()


def backup_store_for(path: Path, *, keep: int = 10) -> BackupStore:
    """The backup folder of the file at ``path``."""
    return BackupStore(paths.backups_dir_for(path), keep=keep)


def _check_location(path: Path) -> None:
    if is_network_path(path):
        raise NetworkShareFile(
            _("{file} is on a network share. Kairan keeps its file on this PC's own disk, "
              "because a shared file can be damaged when two PCs write at once. "
              "Copy the file to a local folder (for example Documents) and open it there.")
            .format(file=path),
            path=path,
        )


def _check_writable(path: Path) -> None:
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise ReadOnlyFile(
            _("{file} is read-only (or its folder is), so changes could not be saved. "
              "Copy it to a folder you can write to, or clear its read-only setting.")
            .format(file=path),
            path=path,
        )


def _check_header(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise NotAKairanFile(
            _("{file} is not a Kairan association file. Choose a file ending in .kairan.")
            .format(file=path),
            path=path,
        )


def _damaged(path: Path, backups: BackupStore) -> DamagedFile:
    return DamagedFile(
        _("{file} is damaged. Nothing has been written to it. "
          "Restore the newest good backup, or ask for help before using it again.")
        .format(file=path),
        path=path,
        backup=backups.newest_good(),
    )


def _inspect(path: Path) -> str | None:
    """Check the file's identity and lock; return its schema revision."""
    with closing(sqlite3.connect(path, timeout=0.5, isolation_level=None)) as connection:
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            revision = migrate.current_revision(connection)
        except sqlite3.DatabaseError as error:
            raise _NeedsCheck from error
        if application_id != APPLICATION_ID:
            raise NotAKairanFile(
                _("{file} is a database, but not a Kairan association file.").format(file=path),
                path=path,
            )
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            raise LockedFile(
                _("{file} is in use by another program (perhaps Kairan on another window or a "
                  "backup tool). Close it there and open the file again.").format(file=path),
                path=path,
            ) from error
        return revision


class _NeedsCheck(Exception):
    """The file could not even be read: let the integrity check name the damage."""


def open_association(
    path: Path, *, backup_keep: int = 10, verify_now: bool = True
) -> AssociationFile:
    """Open an existing association file, upgrading it (after a backup) when it is older.

    With ``verify_now=False`` the integrity check is left to the caller (``verify()`` on a
    worker thread) unless the file must be upgraded, which is never done unchecked.
    """
    path = path.expanduser().absolute()
    if not path.is_file():
        raise MissingFile(_("There is no file at {file}.").format(file=path), path=path)
    _check_location(path)
    _check_header(path)
    _check_writable(path)
    backups = backup_store_for(path, keep=backup_keep)
    try:
        revision = _inspect(path)
    except _NeedsCheck:
        raise _damaged(path, backups) from None
    if revision is None:
        raise NotAKairanFile(
            _("{file} has no Kairan schema; it was not made by Kairan.").format(file=path),
            path=path,
        )
    if not migrate.is_known_revision(revision):
        raise NewerFile(
            _("{file} was saved by a newer version of Kairan. Install the newest Kairan to open "
              "it; this version leaves the file untouched.").format(file=path),
            path=path,
        )
    upgrade = revision != migrate.head_revision()
    opened = AssociationFile(path, make_engine(path), backups, verified=False)
    if verify_now or upgrade:
        try:
            opened.verify()
        except DamagedFile:
            opened.close()
            raise
    if upgrade:
        try:
            backups.make(path, reason="before-upgrade")
            migrate.upgrade(path)
        except BaseException:
            opened.close()
            raise
    return opened


def create_association_file(path: Path, *, backup_keep: int = 10) -> AssociationFile:
    """Make a new, empty association file at the current schema (the association is added by
    :func:`desktop.domain.association.create_association`)."""
    path = path.expanduser().absolute()
    if path.exists():
        raise KairanError(
            _("{file} already exists. Choose another name, or open the file instead.")
            .format(file=path)
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_location(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as connection:
        configure_connection(connection)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    migrate.upgrade(path)
    return AssociationFile(path, make_engine(path), backup_store_for(path, keep=backup_keep),
                           verified=True)

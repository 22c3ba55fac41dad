"""Opening and creating association files: every refusal happens before anything is written."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from desktop.domain.association import create_association, get_association
from desktop.domain.errors import KairanError
from desktop.store import location
from desktop.store.association_file import (
    DamagedFile,
    LockedFile,
    MissingFile,
    NetworkShareFile,
    NewerFile,
    NotAKairanFile,
    ReadOnlyFile,
    backup_store_for,
    create_association_file,
    open_association,
)
from desktop.store.demo_file import create_demo_file
from desktop.store.engine import APPLICATION_ID, BUSY_TIMEOUT_MS


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _new_file(path: Path, name: str = "桜町自治会") -> Path:
    created = create_association_file(path)
    try:
        with created.write() as session:
            create_association(session, name=name)
    finally:
        created.close()
    return path


@pytest.fixture
def kairan_file(tmp_path: Path) -> Path:
    """A closed association file with its association recorded."""
    return _new_file(tmp_path / "town.kairan")


# ---------------------------------------------------------------- opening what is ours


def test_create_then_open(kairan_file: Path) -> None:
    assert not Path(f"{kairan_file}-wal").exists()  # closing checkpoints the write-ahead log
    opened = open_association(kairan_file)
    try:
        assert opened.path == kairan_file
        with opened.read() as session:
            assert get_association(session).name == "桜町自治会"
    finally:
        opened.close()
    assert opened.backups.list() == []  # a current file needs no upgrade backup


def test_create_refuses_an_existing_path(kairan_file: Path) -> None:
    before = _digest(kairan_file)
    with pytest.raises(KairanError, match="already exists"):
        create_association_file(kairan_file)
    assert _digest(kairan_file) == before


def test_file_is_marked_as_kairans(kairan_file: Path) -> None:
    with closing(sqlite3.connect(kairan_file)) as connection:
        assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_session_connections_have_the_durable_settings(kairan_file: Path) -> None:
    opened = open_association(kairan_file)
    try:
        for sessions in (opened.read, opened.write):
            with sessions() as session:
                connection = session.connection()

                def pragma(name: str, connection: object = connection) -> object:
                    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # type: ignore[attr-defined]

                assert pragma("journal_mode") == "wal"
                assert pragma("synchronous") == 2  # FULL
                assert pragma("foreign_keys") == 1
                assert pragma("busy_timeout") == BUSY_TIMEOUT_MS
    finally:
        opened.close()


def test_write_sessions_take_the_write_lock_up_front(kairan_file: Path) -> None:
    opened = open_association(kairan_file)
    other = sqlite3.connect(kairan_file, timeout=0, isolation_level=None)
    try:
        with opened.read() as session:
            session.connection()
            other.execute("BEGIN IMMEDIATE")  # a reader does not block a writer
            other.execute("ROLLBACK")
        with opened.write() as session:
            session.connection()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
        opened.close()


# ---------------------------------------------------------------- refusals


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFile) as caught:
        open_association(tmp_path / "nowhere.kairan")
    assert "nowhere.kairan" in caught.value.message
    assert caught.value.path == tmp_path / "nowhere.kairan"
    assert not (tmp_path / "nowhere.kairan").exists()


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFile):
        open_association(tmp_path)


@pytest.mark.parametrize("content", [b"", "名簿\n山田,太郎\n".encode(), b"SQLite format 2\x00"])
def test_text_file_renamed_kairan_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "meibo.kairan"
    path.write_bytes(content)
    with pytest.raises(NotAKairanFile, match="not a Kairan association file"):
        open_association(path)
    assert path.read_bytes() == content


def test_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.kairan"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('hello')")
        connection.commit()
    before = _digest(path)
    with pytest.raises(NotAKairanFile, match="not a Kairan association file"):
        open_association(path)
    assert _digest(path) == before


def test_file_with_our_mark_but_no_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "blank.kairan"
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
    before = _digest(path)
    with pytest.raises(NotAKairanFile, match="no Kairan schema"):
        open_association(path)
    assert _digest(path) == before


def _garble(path: Path, pages: list[int]) -> None:
    """Overwrite whole pages (numbered from 1, as SQLite does) with noise."""
    with closing(sqlite3.connect(path)) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    noise = bytes((i * 151 + 7) % 256 for i in range(page_size))
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek((page - 1) * page_size)
            handle.write(noise)


def _corrupt_middle(path: Path) -> None:
    """Damage rows in the middle of the file, leaving its header and schema readable."""
    with closing(sqlite3.connect(path)) as connection:
        try:
            pages = [
                row[0]
                for row in connection.execute(
                    "SELECT pageno FROM dbstat WHERE name IN ('household', 'member') "
                    "AND pagetype = 'leaf' ORDER BY pageno"
                )
            ]
        except sqlite3.OperationalError:
            pytest.skip("this SQLite has no dbstat table to find the data pages")
    assert len(pages) >= 20, "the file is too small to damage its middle"
    _garble(path, pages[len(pages) // 4 : len(pages) * 3 // 4])


def test_damaged_file_is_refused_naming_the_newest_good_backup(tmp_path: Path) -> None:
    path = create_demo_file(tmp_path / "demo.kairan", households=200)
    store = backup_store_for(path)
    good = store.make(path, reason="manual")
    _corrupt_middle(path)
    before = _digest(path)

    with pytest.raises(DamagedFile) as caught:
        open_association(path)

    assert caught.value.backup is not None
    assert caught.value.backup.path == good.path
    assert "damaged" in caught.value.message
    assert _digest(path) == before
    assert [info.path for info in store.list()] == [good.path]  # no backup of the damage


def test_damaged_file_without_backups(tmp_path: Path) -> None:
    path = create_demo_file(tmp_path / "demo.kairan", households=200)
    _corrupt_middle(path)
    with pytest.raises(DamagedFile) as caught:
        open_association(path)
    assert caught.value.backup is None


def test_damaged_file_opened_unchecked_is_never_written(tmp_path: Path) -> None:
    path = create_demo_file(tmp_path / "demo.kairan", households=200)
    _corrupt_middle(path)
    before = _digest(path)
    opened = open_association(path, verify_now=False)  # the window checks in the background
    try:
        with pytest.raises(DamagedFile):
            opened.verify()
        with pytest.raises(DamagedFile), opened.write():
            pytest.fail("a write session was opened on a damaged file")
    finally:
        opened.close()
    assert _digest(path) == before


def test_file_with_a_damaged_schema_is_refused_at_once(kairan_file: Path) -> None:
    with closing(sqlite3.connect(kairan_file)) as connection:
        page_count = connection.execute("PRAGMA page_count").fetchone()[0]
    _garble(kairan_file, list(range(2, page_count + 1)))
    before = _digest(kairan_file)
    with pytest.raises(DamagedFile):
        open_association(kairan_file, verify_now=False)
    assert _digest(kairan_file) == before


@pytest.fixture
def read_only(kairan_file: Path) -> Iterator[Path]:
    kairan_file.chmod(0o444)
    try:
        yield kairan_file
    finally:
        kairan_file.chmod(0o644)


def test_read_only_file_is_refused(read_only: Path) -> None:
    if os.access(read_only, os.W_OK):
        pytest.skip("chmod cannot make a file read-only for this user (root?)")
    before = _digest(read_only)
    with pytest.raises(ReadOnlyFile, match="read-only"):
        open_association(read_only)
    assert _digest(read_only) == before


def test_file_the_system_says_is_not_writable_is_refused(
    kairan_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if mode == os.W_OK and Path(str(path)) == kairan_file:
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ReadOnlyFile):
        open_association(kairan_file)


def test_locked_file_is_refused(kairan_file: Path) -> None:
    holder = sqlite3.connect(kairan_file, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(LockedFile, match="in use by another program"):
            open_association(kairan_file)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    open_association(kairan_file).close()  # fine once the other program lets go


def test_network_share_is_refused(kairan_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.store.association_file.is_network_path", lambda _path: True)
    before = _digest(kairan_file)
    with pytest.raises(NetworkShareFile, match="network share"):
        open_association(kairan_file)
    assert _digest(kairan_file) == before
    new_path = kairan_file.with_name("new.kairan")
    with pytest.raises(NetworkShareFile):
        create_association_file(new_path)
    assert not new_path.exists()


def test_newer_file_is_refused_and_left_untouched(kairan_file: Path) -> None:
    with closing(sqlite3.connect(kairan_file)) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        connection.commit()
    before = _digest(kairan_file)
    with pytest.raises(NewerFile, match="newer version of Kairan"):
        open_association(kairan_file)
    assert _digest(kairan_file) == before
    assert backup_store_for(kairan_file).list() == []


# ---------------------------------------------------------------- location


needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="mount tables are POSIX")


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """A folder the fake mount table below says is an NFS mount."""
    folder = (tmp_path / "mnt" / "office share").resolve()
    folder.mkdir(parents=True)
    return folder


def _mounts(tmp_path: Path, share: Path) -> Path:
    mounts = tmp_path / "mounts"
    escaped = str(share).replace(" ", "\\040")  # how the kernel writes a space
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        f"server:/export {escaped} nfs4 rw,relatime 0 0\n"
        f"/dev/sdb1 {escaped}/local ext4 rw 0 0\n"
        "broken line\n",
        encoding="utf-8",
    )
    return mounts


@needs_posix
def test_is_network_path_reads_the_mount_table(tmp_path: Path, share: Path) -> None:
    mounts = _mounts(tmp_path, share)
    assert location.is_network_path(share / "town.kairan", mounts_file=mounts)
    assert location.is_network_path(share, mounts_file=mounts)
    # The longest mount point wins: a local disk mounted inside the share is local.
    assert not location.is_network_path(share / "local" / "town.kairan", mounts_file=mounts)
    # A sibling whose name merely starts the same is not inside the share.
    assert not location.is_network_path(Path(f"{share}2") / "town.kairan", mounts_file=mounts)
    assert not location.is_network_path(tmp_path / "town.kairan", mounts_file=mounts)


@needs_posix
def test_is_network_path_follows_links(
    tmp_path: Path, share: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = _mounts(tmp_path, share)
    link = tmp_path / "desktop-shortcut.kairan"
    link.symlink_to(share / "town.kairan")
    assert location.is_network_path(link, mounts_file=mounts)

    # A path that resolves somewhere else is judged by where it resolves to.
    elsewhere = tmp_path / "local.kairan"
    monkeypatch.setattr(Path, "resolve", lambda self, strict=False: share / "town.kairan")
    assert location.is_network_path(elsewhere, mounts_file=mounts)


@needs_posix
def test_is_network_path_without_a_mount_table(tmp_path: Path) -> None:
    assert not location.is_network_path(
        tmp_path / "town.kairan", mounts_file=tmp_path / "no-such-file"
    )


@pytest.mark.skipif(sys.platform != "win32", reason="UNC paths exist on Windows only")
def test_unc_paths_are_network_paths(tmp_path: Path) -> None:
    assert location.is_network_path(
        Path("//server/share/town.kairan"), mounts_file=tmp_path / "no-such-file"
    )

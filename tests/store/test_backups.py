"""Rotating backups and restoring one."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from desktop.domain.association import create_association, get_association, update_association
from desktop.domain.errors import KairanError
from desktop.store.association_file import create_association_file, open_association
from desktop.store.backups import BackupCancelled, BackupStore, quick_check, restore


def _name(path: Path) -> str:
    opened = open_association(path)
    try:
        with opened.read() as session:
            return get_association(session).name
    finally:
        opened.close()


def _rename(path: Path, name: str) -> None:
    opened = open_association(path)
    try:
        with opened.write() as session:
            update_association(session, name=name, fiscal_year_start_month=4)
    finally:
        opened.close()


@pytest.fixture
def kairan_file(tmp_path: Path) -> Path:
    path = tmp_path / "town.kairan"
    created = create_association_file(path)
    with created.write() as session:
        create_association(session, name="桜町自治会")
    created.close()
    return path


@pytest.fixture
def store(tmp_path: Path) -> BackupStore:
    return BackupStore(tmp_path / "backups", keep=3)


def test_make_a_backup(kairan_file: Path, store: BackupStore) -> None:
    info = store.make(kairan_file, reason="manual")
    assert info.path.parent == store.folder
    assert info.path.name.startswith("town-")
    assert info.path.name.endswith("-manual.kairan")
    assert info.reason == "manual"
    assert info.size == info.path.stat().st_size > 0
    assert quick_check(info.path)
    assert _name(info.path) == "桜町自治会"
    assert sorted(p.name for p in store.folder.iterdir()) == [info.path.name]  # no leftovers


def test_backup_is_one_self_contained_file(kairan_file: Path, store: BackupStore) -> None:
    info = store.make(kairan_file)
    with closing(sqlite3.connect(info.path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_backup_of_an_open_file_sees_committed_changes(
    kairan_file: Path, store: BackupStore
) -> None:
    opened = open_association(kairan_file)
    try:
        with opened.write() as session:
            update_association(session, name="新町自治会", fiscal_year_start_month=4)
        info = store.make(kairan_file)  # the change is still in the write-ahead log
    finally:
        opened.close()
    assert _name(info.path) == "新町自治会"


def test_list_is_newest_first_and_rotation_keeps_n(kairan_file: Path, store: BackupStore) -> None:
    made = [
        store.make(kairan_file, reason=reason)
        for reason in ("auto", "manual", "auto", "before-upgrade", "auto")
    ]
    listed = store.list()
    assert [info.path for info in listed] == [info.path for info in reversed(made[-3:])]
    assert [info.reason for info in listed] == ["auto", "before-upgrade", "auto"]
    assert [info.created_at for info in listed] == sorted(
        (info.created_at for info in listed), reverse=True
    )
    assert not made[0].path.exists()
    assert not made[1].path.exists()


def test_list_ignores_foreign_files(kairan_file: Path, store: BackupStore) -> None:
    assert store.list() == []  # no folder yet
    store.make(kairan_file)
    (store.folder / "notes.txt").write_text("x", encoding="utf-8")
    (store.folder / "town-2025.kairan").write_bytes(b"")
    assert len(store.list()) == 1


def test_bad_arguments(kairan_file: Path, store: BackupStore) -> None:
    with pytest.raises(ValueError, match="keep"):
        BackupStore(store.folder, keep=0)
    with pytest.raises(ValueError, match="reason"):
        store.make(kairan_file, reason="because")


def test_progress_is_reported(kairan_file: Path, store: BackupStore) -> None:
    seen: list[tuple[int, int]] = []
    store.make(kairan_file, progress=lambda done, total: seen.append((done, total)))
    assert seen
    done, total = seen[-1]
    assert done == total > 0


def test_cancel_leaves_no_file(kairan_file: Path, store: BackupStore) -> None:
    with pytest.raises(BackupCancelled):
        store.make(kairan_file, cancelled=lambda: True)
    assert store.list() == []
    assert list(store.folder.iterdir()) == []


def test_backup_to_an_unwritable_place_is_a_clear_error(kairan_file: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(KairanError, match="Could not write a backup"):
        BackupStore(blocker / "backups").make(kairan_file)


def test_restore_replaces_the_file_and_keeps_a_safety_copy(
    kairan_file: Path, store: BackupStore
) -> None:
    backup = store.make(kairan_file, reason="manual")
    _rename(kairan_file, "新町自治会")

    safety = restore(backup.path, kairan_file, store=store)

    assert _name(kairan_file) == "桜町自治会"
    assert safety is not None
    assert safety.reason == "before-restore"
    assert _name(safety.path) == "新町自治会"
    assert {info.path for info in store.list()} == {backup.path, safety.path}
    assert not kairan_file.with_name(kairan_file.name + ".restoring").exists()
    assert quick_check(backup.path)  # the backup itself is left as it was


def test_restore_removes_a_stale_write_ahead_log(kairan_file: Path, store: BackupStore) -> None:
    backup = store.make(kairan_file)
    wal = Path(f"{kairan_file}-wal")
    wal.write_bytes(b"stale")
    restore(backup.path, kairan_file, store=store)
    assert not wal.exists()
    assert _name(kairan_file) == "桜町自治会"


def test_restore_onto_a_missing_file(kairan_file: Path, store: BackupStore) -> None:
    backup = store.make(kairan_file)
    kairan_file.unlink()
    assert restore(backup.path, kairan_file, store=store) is None
    assert _name(kairan_file) == "桜町自治会"


def test_restore_of_a_damaged_backup_is_refused(kairan_file: Path, store: BackupStore) -> None:
    backup = store.make(kairan_file)
    backup.path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    before = hashlib.sha256(kairan_file.read_bytes()).hexdigest()
    with pytest.raises(KairanError, match="damaged"):
        restore(backup.path, kairan_file, store=store)
    assert hashlib.sha256(kairan_file.read_bytes()).hexdigest() == before
    assert len(store.list()) == 1  # no safety copy for a restore that did not happen


def test_newest_good_skips_a_damaged_newest_backup(kairan_file: Path, store: BackupStore) -> None:
    assert store.newest_good() is None
    older = store.make(kairan_file)
    newest = store.make(kairan_file)
    assert store.newest_good() == newest
    newest.path.write_bytes(b"not a database at all")
    good = store.newest_good()
    assert good is not None
    assert good.path == older.path


def test_quick_check(tmp_path: Path, kairan_file: Path) -> None:
    assert quick_check(kairan_file)
    garbage = tmp_path / "garbage.kairan"
    garbage.write_bytes(b"hello")
    assert not quick_check(garbage)
    assert not quick_check(tmp_path / "missing.kairan")
    assert not (tmp_path / "missing.kairan").exists()

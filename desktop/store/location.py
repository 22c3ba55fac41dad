"""Where a file lives: local disk or a network share.

SQLite's WAL mode needs shared memory that network file systems do not provide reliably, so an
association file on a share could be corrupted by two PCs writing at once. Kairan refuses it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "ncpfs", "9p", "fuse.sshfs",
     "davfs", "fuse.davfs2", "glusterfs", "ceph", "lustre"}
)
_DRIVE_REMOTE = 4  # GetDriveTypeW result for a mapped network drive


def _mount_fs_type(path: Path, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The file system type of the mount holding ``path`` (Linux), or None when unknown."""
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best, best_type = "", None
    target = str(path)
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def _windows_drive_is_remote(path: Path) -> bool:
    import ctypes  # Windows only

    root = os.path.splitdrive(str(path))[0] + "\\"
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    return bool(kernel32.GetDriveTypeW(root) == _DRIVE_REMOTE)


def is_network_path(path: Path, *, mounts_file: Path = Path("/proc/mounts")) -> bool:
    """Whether ``path`` is on a network share (UNC path, mapped drive or network mount)."""
    absolute = path.resolve()
    text = str(absolute)
    if text.startswith(("\\\\", "//")):
        return True
    if sys.platform == "win32":
        return _windows_drive_is_remote(absolute)
    fs_type = _mount_fs_type(absolute, mounts_file)
    return fs_type is not None and fs_type.lower() in NETWORK_FILESYSTEMS

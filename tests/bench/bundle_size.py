"""Figure ``bundle_size`` (informational): megabytes of the installed program, the
PyInstaller folder ``dist/kairan`` (what the installer puts in Program Files).

The baseline is the installer that carries it (``dist/Kairan-<version>-setup.exe``) when it
has been built, else empty: ``makensis installer.nsi`` compresses with LZMA as releases do,
``.ci/package`` with zlib to save time. The folder built here is the Linux one; the Windows
folder, built by .github/workflows/release.yml, has Qt's DLLs instead of the X11 libraries.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from desktop import __version__
from tests.bench.bundle_start import BUNDLE
from tests.bench.common import REPO, Figure

NAME = "bundle_size"
MODULE = "bundle_size"
MIB = 1024 * 1024


def figure() -> Figure:
    """Sum of the bundle's file sizes (links not followed), in MiB."""
    if not BUNDLE.is_dir():
        return Figure(NAME, "MiB", None, None, error=f"no bundle at {BUNDLE}: run .ci/package")
    size = sum(path.lstat().st_size for path in BUNDLE.rglob("*") if path.is_file()
               and not path.is_symlink())
    installer = REPO / "dist" / f"Kairan-{__version__}-setup.exe"
    compressed = installer.stat().st_size / MIB if installer.exists() else None
    return Figure(NAME, "MiB", size / MIB, compressed, digits=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the figure."""
    del argv
    print(figure().as_json())
    return 0


if __name__ == "__main__":
    sys.exit(main())

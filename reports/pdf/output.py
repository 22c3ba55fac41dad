"""Writing a finished PDF to a path (through :mod:`reports.output`) or a file object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from desktop.i18n import _
from reports.output import replacing

__all__ = ["deliver", "pdf_target"]


@contextmanager
def pdf_target(out: BinaryIO | Path) -> Iterator[str | BinaryIO]:
    """Where a canvas should save: ``out`` itself for a file object; for a path, a temporary
    file beside it that replaces the path only once the whole document is saved, so a failure
    or a cancelled job (``progress`` raising) never leaves half a PDF behind."""
    if not isinstance(out, Path):
        yield out
        return
    with replacing(out, open_elsewhere=_(
            "{file} cannot be replaced: it is open in another program (perhaps a PDF viewer) "
            "or read-only. Close it there and print again.").format(file=out)) as temporary:
        yield str(temporary)


def deliver(data: bytes, out: BinaryIO | Path) -> None:
    """Write a PDF made in memory to ``out`` (a path, through :func:`pdf_target`)."""
    with pdf_target(out) as target:
        if isinstance(target, str):
            Path(target).write_bytes(data)
        else:
            target.write(data)

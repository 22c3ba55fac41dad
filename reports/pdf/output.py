"""Writing a finished PDF to where the officer asked, never leaving half a file behind.

A document is written to a temporary file beside the target and renamed over it only once
it is complete, so a failure or a cancelled job (a ``progress`` callback that raises) leaves
the old file, or nothing, in place. Trouble becomes a message that says what to do.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from desktop.domain.errors import KairanError
from desktop.i18n import _

__all__ = ["deliver", "pdf_target"]


@contextmanager
def pdf_target(out: BinaryIO | Path) -> Iterator[str | BinaryIO]:
    """Where a canvas should save: ``out`` itself for a file object; for a path, a temporary
    file beside it that replaces the path only once the whole document is saved, so a failure
    or a cancelled job (``progress`` raising) never leaves half a PDF behind."""
    if not isinstance(out, Path):
        yield out
        return
    if not out.parent.is_dir():
        raise KairanError(_("The folder {folder} does not exist. Choose an existing folder.")
                          .format(folder=out.parent))
    temporary = out.with_name(f".{out.stem}-{secrets.token_hex(4)}.pdf.tmp")
    try:
        try:
            yield str(temporary)
        except PermissionError:
            raise KairanError(
                _("Kairan cannot save in the folder {folder}. Choose a folder you can save in, "
                  "such as Documents.").format(folder=out.parent)
            ) from None
        try:
            temporary.replace(out)
        except PermissionError:
            raise KairanError(
                _("{file} cannot be replaced: it is open in another program (perhaps a PDF "
                  "viewer) or read-only. Close it there and print again.").format(file=out)
            ) from None
    except OSError as error:
        raise KairanError(
            _("{file} could not be written ({reason}). Check that the disk has free space "
              "and try again.").format(file=out, reason=error.strerror or error)
        ) from error
    finally:
        temporary.unlink(missing_ok=True)


def deliver(data: bytes, out: BinaryIO | Path) -> None:
    """Write a PDF made in memory to ``out`` (a path, through :func:`pdf_target`)."""
    with pdf_target(out) as target:
        if isinstance(target, str):
            Path(target).write_bytes(data)
        else:
            target.write(data)

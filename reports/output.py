"""Writing a finished file (PDF, xlsx) to where the officer asked, never half a file.

The document is written to a temporary file beside the target and renamed over it only once
it is complete, so a failure or a cancelled job (a ``progress`` callback that raises) leaves
the old file, or nothing, in place. Trouble becomes a message that says what to do.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop.domain.errors import KairanError
from desktop.i18n import _

__all__ = ["replacing"]


@contextmanager
def replacing(path: Path, *, open_elsewhere: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block ends
    without an error, and is deleted in any case. ``open_elsewhere`` is the message for a
    target that cannot be replaced (open in Excel or a PDF viewer, or read-only)."""
    if not path.parent.is_dir():
        raise KairanError(_("The folder {folder} does not exist. Choose an existing folder.")
                          .format(folder=path.parent))
    temporary = path.with_name(f".{path.stem}-{secrets.token_hex(4)}{path.suffix}.tmp")
    try:
        try:
            yield temporary
        except PermissionError:
            raise KairanError(
                _("Kairan cannot save in the folder {folder}. Choose a folder you can save in, "
                  "such as Documents.").format(folder=path.parent)
            ) from None
        try:
            temporary.replace(path)
        except PermissionError:
            raise KairanError(open_elsewhere) from None
    except OSError as error:
        raise KairanError(
            _("{file} could not be written ({reason}). Check that the disk has free space "
              "and try again.").format(file=path, reason=error.strerror or error)
        ) from error
    finally:
        temporary.unlink(missing_ok=True)

"""Expected trouble the officer can do something about, already worded in the UI language.

Anything that is not one of these is a bug and should surface loudly (in tests and in the
crash dialog), not be dressed up as a message.
"""

from __future__ import annotations


class KairanError(Exception):
    """A problem with a clear message: what went wrong, where, and what to do."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field at fault, so the editor can focus it

    def __str__(self) -> str:
        return self.message


class ValidationError(KairanError):
    """A value the officer typed cannot be kept as it is."""


class ConflictError(KairanError):
    """The change clashes with what is already recorded (a duplicate, a taken role)."""


class NotFoundError(KairanError):
    """The thing the change refers to no longer exists."""

"""Holding off Python's cyclic garbage collector while an import makes its objects.

An import of 50,000 households makes millions of short-lived tuples, strings and dataclass
instances, none of which form reference cycles; the collector's passes over them (triggered
by allocation counts alone) cost a quarter of the import. Reference counting still frees
everything as usual; cycles made meanwhile are collected once the pause ends.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["no_gc_pauses", "without_gc_pauses"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nesting is fine: only the outermost
    block turns it back on, and only if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_gc_pauses(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` inside :func:`no_gc_pauses`."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with no_gc_pauses():
            return function(*args, **kwargs)

    return wrapper

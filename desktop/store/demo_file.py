"""A demo association file, generated and written in one go (for newcomers and benchmarks)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from desktop.domain.demo import Progress, populate_demo
from desktop.domain.demo_data import generate_demo_roster
from desktop.domain.wareki import association_year
from desktop.store.association_file import create_association_file


def create_demo_file(
    path: Path, *, households: int = 300, seed: int = 7, progress: Progress | None = None
) -> Path:
    """Write a new demo association of ``households`` households at ``path``."""
    roster = generate_demo_roster(households, seed=seed)
    association_file = create_association_file(path)
    try:
        with association_file.write() as session:
            populate_demo(session, roster, year=association_year(date.today()),
                          progress=progress)
    finally:
        association_file.close()
    return path

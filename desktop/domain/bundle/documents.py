"""The PDFs of a bundle: every circular, the 班 lists, the officers' list of every year with
officers, and the results of every general meeting with entries.

Each document is read through the same loaders the print dialogs use and rendered by the same
renderers, so the archive looks like what was printed. A document that cannot be made (an
attached PDF that is damaged, say) does not stop the export: it is listed, with why, in the
README and the manifest. reportlab and pypdf are imported only when documents are made.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from desktop.domain.association import current_year, get_association
from desktop.domain.bundle.format import PDF_DIR
from desktop.domain.errors import KairanError
from desktop.domain.models import (
    Circular,
    Household,
    Meeting,
    MeetingEntry,
    MeetingFloorVote,
    RoleAssignment,
)

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
_LONGEST_NAME = 60


def safe_name(text: str) -> str:
    """``text`` as a file name on Windows, macOS and Linux: no separators or reserved signs,
    not too long."""
    cleaned = _UNSAFE.sub("_", text).strip(" .") or "_"
    return cleaned[:_LONGEST_NAME]


@dataclass(frozen=True, slots=True)
class Document:
    """One PDF to write: its path inside the bundle, and how to make it from a session."""

    name: str  # bundle-relative, posix
    make: Callable[[Session, Path], None]


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = name.rsplit(".", 1)
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{stem}_{number}.{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


def _circular_pdf(circular_id: uuid.UUID) -> Callable[[Session, Path], None]:
    def make(session: Session, path: Path) -> None:
        import pypdf

        from reports.pdf import circular_pdf, circular_source

        circular = circular_source.load_circular_print(session, circular_id=circular_id)
        buffer = io.BytesIO()
        # The packet of an unnamed 班 without households: the circular and its attached
        # PDFs, then one empty route sheet, which the archive leaves out.
        pages = circular_pdf.render_packet(buffer, circular=circular, groups=[("", [])])
        reader = pypdf.PdfReader(io.BytesIO(buffer.getvalue()))
        writer = pypdf.PdfWriter()
        for page in reader.pages[:pages - 1]:
            writer.add_page(page)
        with path.open("wb") as handle:
            writer.write(handle)

    return make


def _group_lists(today: date) -> Callable[[Session, Path], None]:
    def make(session: Session, path: Path) -> None:
        from reports.pdf import roster_pdf, roster_source

        year = current_year(session, today=today)
        groups = roster_source.load_group_lists(session, year=year)
        roster_pdf.render_group_lists(path, association=get_association(session).name,
                                      issued_on=today, groups=groups,
                                      year_label=roster_source.year_label(session, year=year))

    return make


def _officers(year: int, today: date) -> Callable[[Session, Path], None]:
    def make(session: Session, path: Path) -> None:
        from reports.pdf import roster_pdf, roster_source

        officers = roster_source.load_officers(session, year=year)
        roster_pdf.render_officer_list(path, association=get_association(session).name,
                                       issued_on=today, officers=officers,
                                       year_label=roster_source.year_label(session, year=year))

    return make


def _results(meeting_id: uuid.UUID, today: date) -> Callable[[Session, Path], None]:
    def make(session: Session, path: Path) -> None:
        from reports.pdf import meeting_pdf, meeting_source

        documents = meeting_source.load_documents(session, meeting_id=meeting_id,
                                                  printed_on=today)
        meeting_pdf.render_results(path, meeting=documents.meeting, tally=documents.tally)

    return make


def plan_documents(session: Session, *, today: date) -> list[Document]:
    """The PDFs the bundle will hold, named so that they sort by date."""
    taken: set[str] = set()
    documents: list[Document] = []
    if session.exec(select(func.count()).select_from(Household)).one():
        documents.append(Document(f"{PDF_DIR}/名簿_班別.pdf", _group_lists(today)))
    years = session.exec(select(RoleAssignment.year).distinct()
                         .order_by(col(RoleAssignment.year))).all()
    for year in years:
        documents.append(Document(f"{PDF_DIR}/役員名簿_{year}年度.pdf", _officers(year, today)))
    for circular_id, issued_on, title in session.exec(
            select(col(Circular.id), col(Circular.issued_on), col(Circular.title))
            .order_by(col(Circular.issued_on), col(Circular.id))).all():
        name = _unique(f"{PDF_DIR}/回覧/{issued_on:%Y-%m-%d}_{safe_name(title)}.pdf", taken)
        documents.append(Document(name, _circular_pdf(circular_id)))
    with_entries = set(session.exec(select(MeetingEntry.meeting_id).distinct()).all())
    with_entries |= set(session.exec(select(MeetingFloorVote.meeting_id).distinct()).all())
    for meeting_id, held_on, title in session.exec(
            select(col(Meeting.id), col(Meeting.held_on), col(Meeting.title))
            .order_by(col(Meeting.held_on), col(Meeting.id))).all():
        if meeting_id in with_entries:
            name = _unique(f"{PDF_DIR}/総会/{held_on:%Y-%m-%d}_{safe_name(title)}_議決結果.pdf",
                           taken)
            documents.append(Document(name, _results(meeting_id, today)))
    return documents


def write_document(session: Session, document: Document, folder: Path) -> str | None:
    """Write one document under ``folder``; returns why it could not be made, or None."""
    path = folder.joinpath(*document.name.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        document.make(session, path)
    except KairanError as error:
        path.unlink(missing_ok=True)
        return f"{document.name}: {error.message}"
    return None

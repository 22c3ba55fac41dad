"""Read what the circular documents print from an association file, through the domain.

A thin loader: one circular with its attachments' bytes, and its households — every
recipient per 班 in route order for the 回覧板 packets, the paper households for the
personal copies — as the plain values of ``reports.pdf.circular_input``. Read everything
inside the session, then render outside it: the renderers never touch the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from desktop.domain.association import get_association
from desktop.domain.attachments import attachment_data
from desktop.domain.circulars import Recipient, get_circular, questions_of, recipients
from desktop.domain.models import AttachmentKind, NoticeChannel
from desktop.domain.slips import slip_code
from reports.pdf.circular_input import CircularPrint, PrintHousehold, RouteHousehold

__all__ = ["CircularDocuments", "load_circular_print", "load_documents", "load_packet_groups",
           "load_paper_households"]


def load_circular_print(session: Session, *, circular_id: uuid.UUID) -> CircularPrint:
    """The circular as printed: its text, the questions its reply slip asks, and the bytes
    of its pictures and attached PDFs in the order the editor shows them."""
    record = get_circular(session, circular_id=circular_id)
    data = record.data
    images: list[tuple[bytes, AttachmentKind]] = []
    pdfs: list[bytes] = []
    for attachment in sorted(record.attachments, key=lambda item: item.position):
        content = attachment_data(session, attachment_id=attachment.id)
        if attachment.kind is AttachmentKind.PDF:
            pdfs.append(content)
        else:
            images.append((content, attachment.kind))
    association = get_association(session)
    return CircularPrint(
        association=association.name, title=data.title, body=data.body,
        issued_on=data.issued_on, issuer=data.issuer, map_url=data.map_url, ask=data.ask,
        questions=questions_of(data), deadline=data.deadline, images=tuple(images),
        pdf_attachments=tuple(pdfs), purpose_statement=association.purpose_statement,
    )


def _household(circular_id: uuid.UUID, recipient: Recipient) -> PrintHousehold:
    return PrintHousehold(
        number=recipient.number, name=recipient.display_name, address=recipient.address,
        group_name=recipient.group_name, circulation_order=recipient.circulation_order,
        slip_code=slip_code(circular_id, recipient.number),
    )


def load_packet_groups(
    session: Session, *, circular_id: uuid.UUID, group_id: uuid.UUID | None = None
) -> list[tuple[str, list[RouteHousehold]]]:
    """Each 班 the circular goes round (only ``group_id``, or a 地区's 班, when given), in
    tree order, with all its recipient households in circulation order, whatever their
    channel: the 回覧板 passes every door. Households without a 班 come last under ""."""
    groups: dict[uuid.UUID | None, tuple[str, list[RouteHousehold]]] = {}
    for recipient in recipients(session, circular_id=circular_id, group_id=group_id):
        _name, members = groups.setdefault(recipient.group_id, (recipient.group_name, []))
        members.append(_household(circular_id, recipient))
    return list(groups.values())


def load_paper_households(
    session: Session, *, circular_id: uuid.UUID, group_id: uuid.UUID | None = None
) -> list[PrintHousehold]:
    """The recipients who read the association's news on paper, in route order, each with
    the code its reply slip carries."""
    return [_household(circular_id, recipient)
            for recipient in recipients(session, circular_id=circular_id, group_id=group_id,
                                        channel=NoticeChannel.PAPER)]


@dataclass(frozen=True, slots=True)
class CircularDocuments:
    """Everything a print job of one circular needs, read in one session."""

    circular: CircularPrint
    packets: list[tuple[str, list[RouteHousehold]]]  # per 班, in route order
    copies: list[PrintHousehold]  # the paper households


def load_documents(session: Session, *, circular_id: uuid.UUID,
                   group_ids: Sequence[uuid.UUID | None] | None = None) -> CircularDocuments:
    """The circular with its packets and paper households, for every 班 (``group_ids`` None)
    or for the 班 given; ``None`` among them stands for the households in no 班."""
    circular = load_circular_print(session, circular_id=circular_id)
    if group_ids is None:
        return CircularDocuments(
            circular, load_packet_groups(session, circular_id=circular_id),
            load_paper_households(session, circular_id=circular_id))
    packets: list[tuple[str, list[RouteHousehold]]] = []
    copies: list[PrintHousehold] = []
    for group_id in group_ids:
        groups = load_packet_groups(session, circular_id=circular_id, group_id=group_id)
        paper = load_paper_households(session, circular_id=circular_id, group_id=group_id)
        if group_id is None:  # only the households in no 班
            groups = [group for group in groups if group[0] == ""]
            paper = [household for household in paper if household.group_name == ""]
        packets += groups
        copies += paper
    return CircularDocuments(circular, packets, copies)

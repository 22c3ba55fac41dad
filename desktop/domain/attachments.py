"""Images, maps and PDF documents attached to a circular, checked and made ready for paper.

Files come from anywhere (a phone photo, a scanned flyer, a PDF from the city office), so
each is opened and checked before it is kept: an image is decoded and scaled down to what an
A4 page at 300 dpi can show (a 40 MB photo is scaled, never refused), and a PDF must open
without a password, since its pages are printed with the circular.
"""

from __future__ import annotations

import io
import math
import uuid
import warnings
from pathlib import PurePath

from PIL import Image, ImageOps
from pypdf import PdfReader
from sqlalchemy import func
from sqlmodel import Session, col, select

from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.ids import uuid7
from desktop.domain.models import (
    AttachmentKind,
    Circular,
    CircularAttachment,
    CircularStatus,
)
from desktop.i18n import _

MAX_IMAGE_SIDE = 2480  # px: A4 width at 300 dpi
JPEG_QUALITY = 88


def _file_name(file_name: str) -> str:
    # Keep the name only: a path from another PC means nothing here.
    return PurePath(file_name.replace("\\", "/")).name.strip() or file_name.strip()


def _draft_circular(session: Session, circular_id: uuid.UUID) -> Circular:
    circular = session.get(Circular, circular_id)
    if circular is None:
        raise NotFoundError(_("This circular no longer exists. Reload the list of circulars."))
    if circular.status == CircularStatus.SENT:
        raise ConflictError(
            _("「{title}」 has been sent and can no longer be changed. Copy it to make a new "
              "circular from it.").format(title=circular.title)
        )
    return circular


def _add(session: Session, circular_id: uuid.UUID, *, kind: AttachmentKind, file_name: str,
         media_type: str, data: bytes, page_count: int) -> uuid.UUID:
    last = session.exec(
        select(func.max(CircularAttachment.position))
        .where(CircularAttachment.circular_id == circular_id)
    ).one()
    attachment = CircularAttachment(id=uuid7(), circular_id=circular_id, kind=kind,
                                    file_name=file_name, media_type=media_type, data=data,
                                    page_count=page_count, position=(last or 0) + 1)
    session.add(attachment)
    session.flush()
    return attachment.id


# ---------------------------------------------------------------- images


def _not_an_image(name: str) -> ValidationError:
    return ValidationError(
        _("「{name}」 is not an image Kairan can read, or the file is damaged. Attach a JPEG "
          "or PNG picture (a PDF goes in as a PDF).").format(name=name),
        field="attachments",
    )


def _too_many_pixels(name: str) -> ValidationError:
    return ValidationError(
        _("「{name}」 has too many pixels to open safely. Save a smaller copy (for example "
          "4000 pixels wide) and attach that.").format(name=name),
        field="attachments",
    )


def _open(data: bytes, name: str) -> Image.Image:
    """Open ``data`` lazily, with Pillow's decompression-bomb limits turned into messages.

    Pillow warns above ``MAX_IMAGE_PIXELS`` and refuses above twice that. A JPEG is decoded
    at a reduced scale (``draft``), so a big photo past the warning is fine; other formats
    decode every pixel, so they are refused at the warning already.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise _too_many_pixels(name) from None
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and image.format != "JPEG" and image.width * image.height > limit:
        image.close()
        raise _too_many_pixels(name)
    return image


def _has_transparency(image: Image.Image) -> bool:
    if image.mode == "P":
        if "transparency" not in image.info:
            return False
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        lowest, _highest = image.getchannel("A").getextrema()
        return isinstance(lowest, (int, float)) and lowest < 255
    return False


def prepare_image(file_name: str, data: bytes) -> tuple[bytes, str]:
    """``data`` checked, turned upright (EXIF) and scaled so its long side is at most
    :data:`MAX_IMAGE_SIDE`; returns the bytes to keep and their media type (JPEG, or PNG
    when the picture has transparent parts). :class:`ValidationError` names the file."""
    name = _file_name(file_name)
    # Pillow's decoders raise many kinds of error on damaged or foreign data: all mean the
    # same to the officer.
    try:
        with _open(data, name) as probe:
            probe.verify()
        with _open(data, name) as image:
            if max(image.size) > MAX_IMAGE_SIDE and image.format == "JPEG":
                ratio = MAX_IMAGE_SIDE / max(image.size)
                image.draft("RGB", (math.ceil(image.width * ratio),
                                    math.ceil(image.height * ratio)))
            image.load()
            upright = ImageOps.exif_transpose(image)
        upright.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if _has_transparency(upright):
            upright.convert("RGBA").save(out, format="PNG")
            return out.getvalue(), "image/png"
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(out, format="JPEG", quality=JPEG_QUALITY)
    except ValidationError:
        raise
    except Exception:
        raise _not_an_image(name) from None
    return out.getvalue(), "image/jpeg"


def add_image(
    session: Session,
    *,
    circular_id: uuid.UUID,
    file_name: str,
    data: bytes,
    kind: AttachmentKind = AttachmentKind.IMAGE,
) -> uuid.UUID:
    """Attach a picture (or a map image, ``kind=MAP``) at the end of a draft's attachments."""
    if kind not in (AttachmentKind.IMAGE, AttachmentKind.MAP):
        raise ValueError(f"add_image attaches images or maps, not {kind!r}")
    _draft_circular(session, circular_id)
    stored, media_type = prepare_image(file_name, data)
    return _add(session, circular_id, kind=kind, file_name=_file_name(file_name),
                media_type=media_type, data=stored, page_count=1)


# ---------------------------------------------------------------- PDF documents


def pdf_page_count(file_name: str, data: bytes) -> int:
    """How many pages the PDF ``data`` has, or :class:`ValidationError` when it is protected
    by a password (even an empty one) or cannot be read."""
    name = _file_name(file_name)
    try:
        with warnings.catch_warnings():
            # pypdf reports what it repaired as warnings; a file it cannot read raises.
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data))
            encrypted = reader.is_encrypted
            pages = 0
            if not encrypted:
                for page in reader.pages:
                    if page.mediabox.width <= 0 or page.mediabox.height <= 0:
                        raise ValueError("a page without a size")
                    pages += 1
    except Exception:  # pypdf raises many kinds of error on damaged files
        encrypted, pages = False, 0
    if encrypted:
        raise ValidationError(
            _("「{name}」 is password-protected, so its pages cannot be printed with the "
              "circular. Save an unprotected copy (for example print it to PDF) and attach "
              "that.").format(name=name),
            field="attachments",
        )
    if pages == 0:
        raise ValidationError(
            _("「{name}」 is not a PDF Kairan can read, or the file is damaged. Open it in a "
              "PDF viewer, save a new copy and attach that.").format(name=name),
            field="attachments",
        )
    return pages


def add_pdf(session: Session, *, circular_id: uuid.UUID, file_name: str, data: bytes) -> uuid.UUID:
    """Attach a PDF document (its pages are printed after the circular)."""
    _draft_circular(session, circular_id)
    pages = pdf_page_count(file_name, data)
    return _add(session, circular_id, kind=AttachmentKind.PDF, file_name=_file_name(file_name),
                media_type="application/pdf", data=data, page_count=pages)


# ---------------------------------------------------------------- removing and reading


def _attachment(session: Session, attachment_id: uuid.UUID) -> CircularAttachment:
    attachment = session.get(CircularAttachment, attachment_id)
    if attachment is None:
        raise NotFoundError(_("This attachment no longer exists. Reload the circular."))
    return attachment


def remove_attachment(session: Session, *, attachment_id: uuid.UUID) -> None:
    """Remove an attachment from a draft."""
    attachment = _attachment(session, attachment_id)
    _draft_circular(session, attachment.circular_id)
    session.delete(attachment)
    session.flush()


def attachment_data(session: Session, *, attachment_id: uuid.UUID) -> bytes:
    """The stored bytes of an attachment (JPEG, PNG or PDF; see its media type)."""
    data = session.exec(
        select(CircularAttachment.data).where(col(CircularAttachment.id) == attachment_id)
    ).first()
    if data is None:
        raise NotFoundError(_("This attachment no longer exists. Reload the circular."))
    return data

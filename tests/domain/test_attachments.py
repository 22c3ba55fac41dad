"""Attachments: pictures checked, turned upright and scaled; PDFs checked for a password or
damage; a sent circular keeps its attachments."""

from __future__ import annotations

import io
import os
import time
import uuid
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from pypdf import PdfWriter

from desktop.domain.attachments import (
    MAX_IMAGE_SIDE,
    add_image,
    add_pdf,
    attachment_data,
    remove_attachment,
)
from desktop.domain.circulars import CircularData, create_circular, get_circular, send_circular
from desktop.domain.errors import ConflictError, ValidationError
from desktop.domain.households import HouseholdData, create_household
from desktop.domain.models import AttachmentKind, CircularAttachment
from desktop.store.association_file import AssociationFile


def _image(size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB",
           color: object = "navy", **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=fmt, **save)  # type: ignore[arg-type]
    return out.getvalue()


def _pdf(pages: int = 2, *, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stored(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def draft(association_file: AssociationFile) -> uuid.UUID:
    with association_file.write() as session:
        return create_circular(session, data=CircularData(
            title="お知らせ", body="", issued_on=date(2025, 10, 1)))


def _add_image(association_file: AssociationFile, draft: uuid.UUID, name: str,
               data: bytes, kind: AttachmentKind = AttachmentKind.IMAGE) -> bytes:
    with association_file.write() as session:
        attachment_id = add_image(session, circular_id=draft, file_name=name, data=data,
                                  kind=kind)
        return attachment_data(session, attachment_id=attachment_id)


# ---------------------------------------------------------------- images


def test_a_picture_is_kept_as_jpeg_in_order(
    association_file: AssociationFile, draft: uuid.UUID
) -> None:
    with association_file.write() as session:
        first = add_image(session, circular_id=draft, file_name=r"C:\写真\清掃.png",
                          data=_image((300, 200), "PNG"))
        second = add_image(session, circular_id=draft, file_name="地図.jpg",
                           data=_image((120, 80)), kind=AttachmentKind.MAP)
        stored = session.get(CircularAttachment, first)
        assert stored is not None
        assert stored.media_type == "image/jpeg"
        assert _stored(stored.data).format == "JPEG"
        assert _stored(stored.data).size == (300, 200)  # small pictures keep their size
        record = get_circular(session, circular_id=draft)
    assert [(a.id, a.kind, a.file_name, a.page_count, a.position) for a in record.attachments] == [
        (first, AttachmentKind.IMAGE, "清掃.png", 1, 1),
        (second, AttachmentKind.MAP, "地図.jpg", 1, 2),
    ]


def test_transparency_is_kept_as_png(association_file: AssociationFile,
                                     draft: uuid.UUID) -> None:
    transparent = _image((64, 64), "PNG", mode="RGBA", color=(255, 0, 0, 0))
    opaque_rgba = _image((64, 64), "PNG", mode="RGBA", color=(255, 0, 0, 255))
    assert _stored(_add_image(association_file, draft, "logo.png", transparent)).format == "PNG"
    assert _stored(_add_image(association_file, draft, "flat.png", opaque_rgba)).format == "JPEG"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("清掃.jpg", b"this is a text file, renamed"),
        ("空.png", b""),
        ("途中.jpg", _image((400, 300), quality=95)[:600]),  # cut off mid-download
        ("壊れ.png", _image((50, 50), "PNG")[:-20]),
    ],
)
def test_not_an_image_is_refused_naming_the_file(
    association_file: AssociationFile, draft: uuid.UUID, name: str, data: bytes
) -> None:
    with association_file.write() as session, pytest.raises(ValidationError) as caught:
        add_image(session, circular_id=draft, file_name=name, data=data)
    assert name in caught.value.message
    assert "JPEG or PNG" in caught.value.message
    assert caught.value.field == "attachments"


def test_a_40_mb_photo_is_scaled_not_refused(
    association_file: AssociationFile, draft: uuid.UUID
) -> None:
    width, height = 6000, 4000  # noise does not compress: about 47 MB at quality 100
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=100)
    photo = out.getvalue()
    assert len(photo) > 40_000_000
    started = time.perf_counter()
    stored = _stored(_add_image(association_file, draft, "IMG_0001.JPG", photo))
    elapsed = time.perf_counter() - started
    assert stored.size == (MAX_IMAGE_SIDE, round(MAX_IMAGE_SIDE * height / width))
    assert elapsed < 5  # decoded at a reduced scale (draft), about half a second here


def test_exif_orientation_is_applied(association_file: AssociationFile,
                                     draft: uuid.UUID) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90° clockwise to view
    sideways = _image((300, 100), exif=exif.tobytes())
    assert _stored(_add_image(association_file, draft, "縦.jpg", sideways)).size == (100, 300)


def test_a_tall_picture_is_scaled_by_its_long_side(
    association_file: AssociationFile, draft: uuid.UUID
) -> None:
    tall = _image((1000, 6000), "PNG", mode="L", color=128)
    assert _stored(_add_image(association_file, draft, "長い.png", tall)).size == (
        round(1000 * MAX_IMAGE_SIDE / 6000), MAX_IMAGE_SIDE)


def test_decompression_bombs_become_messages_not_warnings(
    association_file: AssociationFile, draft: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    # Past Pillow's warning, a JPEG is still fine: it is decoded at a reduced scale.
    photo = _add_image(association_file, draft, "big.jpg", _image((1500, 1000)))
    assert photo.startswith(b"\xff\xd8")  # a JPEG (opened here, it would warn too)
    for name, data in [("big.png", _image((1500, 1000), "PNG")),  # decoded in full: refused
                       ("huge.jpg", _image((3000, 1000)))]:  # past Pillow's own refusal
        with association_file.write() as session, pytest.raises(ValidationError) as caught:
            add_image(session, circular_id=draft, file_name=name, data=data)
        assert f"「{name}」 has too many pixels" in caught.value.message


def test_add_image_takes_pictures_only(association_file: AssociationFile,
                                       draft: uuid.UUID) -> None:
    with association_file.write() as session, pytest.raises(ValueError, match="images or maps"):
        add_image(session, circular_id=draft, file_name="a.pdf", data=_pdf(),
                  kind=AttachmentKind.PDF)


# ---------------------------------------------------------------- PDF documents


def test_a_pdf_is_kept_with_its_page_count(association_file: AssociationFile,
                                           draft: uuid.UUID) -> None:
    document = _pdf(3)
    with association_file.write() as session:
        attachment_id = add_pdf(session, circular_id=draft, file_name="市からのお知らせ.pdf",
                                data=document)
        assert attachment_data(session, attachment_id=attachment_id) == document
        [info] = get_circular(session, circular_id=draft).attachments
    assert (info.kind, info.page_count, info.file_name) == (
        AttachmentKind.PDF, 3, "市からのお知らせ.pdf")


@pytest.mark.parametrize("password", ["", "secret"])
def test_an_encrypted_pdf_is_refused_even_with_an_empty_password(
    association_file: AssociationFile, draft: uuid.UUID, password: str
) -> None:
    with association_file.write() as session, pytest.raises(ValidationError) as caught:
        add_pdf(session, circular_id=draft, file_name="保護.pdf", data=_pdf(password=password))
    assert "「保護.pdf」 is password-protected" in caught.value.message
    assert "unprotected copy" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\nnothing else", b"", _image((10, 10)), b"%PDF-1.4\n" + os.urandom(2000)],
)
def test_a_broken_pdf_is_refused(association_file: AssociationFile, draft: uuid.UUID,
                                 data: bytes) -> None:
    with association_file.write() as session, pytest.raises(ValidationError) as caught:
        add_pdf(session, circular_id=draft, file_name="壊れ.pdf", data=data)
    assert "「壊れ.pdf」 is not a PDF Kairan can read" in caught.value.message


def test_a_truncated_pdf_is_refused(
    association_file: AssociationFile, draft: uuid.UUID
) -> None:
    document = _pdf(4)
    with association_file.write() as session, pytest.raises(ValidationError):
        add_pdf(session, circular_id=draft, file_name="途中.pdf", data=document[:200])


# ---------------------------------------------------------------- removing; sent circulars


def test_remove_an_attachment(association_file: AssociationFile, draft: uuid.UUID) -> None:
    with association_file.write() as session:
        first = add_pdf(session, circular_id=draft, file_name="a.pdf", data=_pdf(1))
        second = add_pdf(session, circular_id=draft, file_name="b.pdf", data=_pdf(1))
        remove_attachment(session, attachment_id=first)
        assert [a.id for a in get_circular(session, circular_id=draft).attachments] == [second]
        third = add_pdf(session, circular_id=draft, file_name="c.pdf", data=_pdf(1))
        positions = [a.position for a in get_circular(session, circular_id=draft).attachments]
    assert third != first
    assert positions == sorted(positions)


def test_a_sent_circular_keeps_its_attachments(
    association_file: AssociationFile, draft: uuid.UUID
) -> None:
    with association_file.write() as session:
        create_household(session, data=HouseholdData(number="1", display_name="山田 太郎"))
        attachment_id = add_pdf(session, circular_id=draft, file_name="a.pdf", data=_pdf(1))
        send_circular(session, circular_id=draft, sent_at=datetime(2025, 10, 1, tzinfo=UTC))
    with association_file.write() as session:
        with pytest.raises(ConflictError):
            add_pdf(session, circular_id=draft, file_name="b.pdf", data=_pdf(1))
        with pytest.raises(ConflictError):
            add_image(session, circular_id=draft, file_name="b.png", data=_image((5, 5)))
        with pytest.raises(ConflictError):
            remove_attachment(session, attachment_id=attachment_id)
        assert len(get_circular(session, circular_id=draft).attachments) == 1

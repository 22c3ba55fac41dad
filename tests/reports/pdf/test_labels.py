"""Address labels: sheets counted right, what each label says, and no text across a label's
edge (checked by rendering each label alone and finding its ink)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import pytest
from PIL import ImageChops

from desktop.domain.errors import ValidationError
from reports.pdf.labels import LABELS_12, LABELS_24, Addressee, LabelSheet, render_labels
from reports.pdf.roster_pdf import ELLIPSIS
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    ink_box,
    page_count,
    page_texts,
    render,
)

ISSUED = date(2025, 4, 1)
DPI = 72
LONG_ADDRESS = ("東京都緑ヶ丘市桜町一丁目二十三番地四十五号 グランドメゾン桜ヶ丘ウエストタワー棟 "
                "三十二階 三二〇五号室（山田様方）東京都緑ヶ丘市桜町一丁目二十三番地四十五号")
LONG_NAME = "株式会社さくら不動産管理 桜ヶ丘ウエストタワー管理組合 理事長 長谷川 左衛門之助"


def _people(count: int) -> list[Addressee]:
    return [Addressee(name=f"山田 {index:03d}", postal_code="123-4567",
                      address=f"東京都緑ヶ丘市桜町1丁目{index}番1号", number=f"{index:04d}")
            for index in range(1, count + 1)]


def _pdf(addressees: Sequence[Addressee], **options: object) -> bytes:
    buffer = io.BytesIO()
    pages = render_labels(buffer, association="桜町自治会", issued_on=ISSUED,
                          addressees=addressees, **options)  # type: ignore[arg-type]
    pdf = buffer.getvalue()
    assert page_count(pdf) == pages
    return pdf


@pytest.mark.parametrize(("count", "sheet", "options", "pages"), [
    (25, LABELS_12, {}, 3),
    (25, LABELS_24, {}, 2),
    (25, LABELS_24, {"large": True}, 3),  # large print: the 12-per-sheet labels
    (24, LABELS_24, {}, 1),
    (24, LABELS_24, {"first_position": 2}, 2),  # the first label of the sheet is used up
    (25, LABELS_12, {"first_position": 12}, 3),  # 1 on the partly used sheet, then 24
    (0, LABELS_12, {}, 1),
])
def test_sheets_needed(count: int, sheet: LabelSheet, options: dict[str, object],
                       pages: int) -> None:
    assert page_count(_pdf(_people(count), sheet=sheet, **options)) == pages


def test_a_first_position_off_the_sheet_is_refused() -> None:
    with pytest.raises(ValidationError, match="from 1 to 24"):
        _pdf(_people(3), sheet=LABELS_24, first_position=25)


def test_each_label_says_postal_code_address_and_name_in_order() -> None:
    texts = page_texts(_pdf(_people(25), sheet=LABELS_24))
    assert len(texts) == 2
    first = texts[0]
    assert "〒123-4567" in first and "山田 001　様" in first and "0001" in first
    positions = [first.find(f"山田 {index:03d}") for index in range(1, 25)]
    assert -1 not in positions and positions == sorted(positions)
    assert "山田 025" in texts[1] and "山田 024" not in texts[1]
    assert "桜町自治会" in first and "令和7年4月1日" in first and "1 / 2" in first
    hidden = page_texts(_pdf(_people(2), show_number=False))[0]
    assert "0001" not in hidden and "山田 001" in hidden


@pytest.mark.parametrize(("sheet", "large"), [(LABELS_12, False), (LABELS_24, False),
                                               (LABELS_12, True)])
def test_full_sheets_embed_fonts_and_stay_on_the_paper(sheet: LabelSheet, large: bool) -> None:
    pdf = _pdf([*_people(10), Addressee(LONG_NAME, "123-4567", LONG_ADDRESS, "0011"),
                *_people(30)], sheet=sheet, large=large)
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def _cell_pixels(sheet: LabelSheet, position: int) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a label in pixels of a page rendered at ``DPI``."""
    x, y, width, height = sheet.cell(position)
    scale = DPI / 72
    page_height = 842 * scale  # A4 in points, rounded as pdfium renders it
    return (x * scale, page_height - (y + height) * scale, (x + width) * scale,
            page_height - y * scale)


@pytest.mark.parametrize(("sheet", "large"), [(LABELS_12, False), (LABELS_24, False),
                                               (LABELS_12, True)])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
@pytest.mark.parametrize("addressee", [
    Addressee(LONG_NAME, "123-4567", LONG_ADDRESS, "0001-0042-7"),
    Addressee("山田 太郎", "", LONG_ADDRESS + LONG_ADDRESS, "0002"),
    Addressee("ｱ" * 80, "123-4567", "x" * 200, ""),
], ids=["long", "no-postal-code", "half-width"])
def test_text_stays_inside_its_label(sheet: LabelSheet, large: bool, where: str,
                                     addressee: Addressee) -> None:
    used = LABELS_12 if large else sheet
    position = {"first": 0, "middle": used.columns + 1, "last": used.per_sheet - 1}[where]
    pdf = _pdf([addressee], sheet=sheet, large=large, first_position=position + 1)
    empty = _pdf([], sheet=sheet, large=large)  # the same page furniture, no label
    label_ink = ImageChops.difference(render(pdf, 0, dpi=DPI), render(empty, 0, dpi=DPI))
    box = ink_box(ImageChops.invert(label_ink), threshold=200)
    assert box is not None, "the label printed nothing"
    left, top, right, bottom = _cell_pixels(used, position)
    margin = 1  # pixel: anti-aliasing
    assert box[0] >= left - margin and box[1] >= top - margin, (box, (left, top, right, bottom))
    assert box[2] <= right + margin and box[3] <= bottom + margin, (
        box, (left, top, right, bottom))
    # The padding is kept too: no text within 2 mm of the label's edge.
    inset = 2 / 25.4 * DPI
    assert box[0] >= left + inset and box[2] <= right - inset
    assert box[1] >= top + inset and box[3] <= bottom - inset


def test_a_name_too_long_for_the_label_is_cut_short_visibly() -> None:
    text = page_texts(_pdf([Addressee(LONG_NAME * 3, "123-4567", "桜町1-1", "1")],
                           sheet=LABELS_24))[0]
    assert ELLIPSIS in text

"""What the PDF tests check on any generated document: text, embedded fonts, ink inside the page.

Shared by the tests of every printed document. pypdf reads text and font dictionaries;
pypdfium2 renders pages to images to catch layout that runs off the paper.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
from PIL import Image

SOURCE = Path | bytes


def _reader(pdf: SOURCE) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)


def page_texts(pdf: SOURCE) -> list[str]:
    """The text of each page, in page order."""
    return [page.extract_text() for page in _reader(pdf).pages]


def page_count(pdf: SOURCE) -> int:
    return len(_reader(pdf).pages)


def fonts(pdf: SOURCE) -> dict[str, bool]:
    """Every font the document uses → whether its glyphs are embedded (like ``pdffonts``)."""
    found: dict[str, bool] = {}
    for page in _reader(pdf).pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        font_dict = resources.get_object().get("/Font")
        if font_dict is None:
            continue
        for ref in font_dict.get_object().values():
            font = ref.get_object()
            name = str(font.get("/BaseFont"))
            descriptors = [font.get("/FontDescriptor")]
            for descendant in font.get("/DescendantFonts") or []:
                descriptors.append(descendant.get_object().get("/FontDescriptor"))
            embedded = any(
                d is not None
                and any(key in d.get_object() for key in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            found[name] = found.get(name, False) or embedded
    return found


def assert_fonts_embedded(pdf: SOURCE) -> None:
    used = fonts(pdf)
    assert used, "the document uses no fonts at all"
    not_embedded = [name for name, embedded in used.items() if not embedded]
    assert not not_embedded, f"fonts not embedded: {not_embedded}"


def render(pdf: SOURCE, page_index: int, *, dpi: int = 50) -> Image.Image:
    """One page as a greyscale image."""
    document = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        bitmap = document[page_index].render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil().convert("L")
    finally:
        document.close()


def ink_box(image: Image.Image, *, threshold: int = 200) -> tuple[int, int, int, int] | None:
    """The bounding box (left, top, right, bottom) of everything darker than ``threshold``."""
    mask = image.point(lambda value: 255 if value < threshold else 0)
    return mask.getbbox()


def assert_ink_within(pdf: SOURCE, *, margin_mm: float = 5.0, dpi: int = 50) -> None:
    """Every page keeps its ink at least ``margin_mm`` inside the paper's edge."""
    margin = margin_mm / 25.4 * dpi
    for index in range(page_count(pdf)):
        image = render(pdf, index, dpi=dpi)
        box = ink_box(image)
        if box is None:
            continue
        left, top, right, bottom = box
        width, height = image.size
        assert left >= margin and top >= margin, f"page {index + 1}: ink at {box} of {image.size}"
        assert right <= width - margin and bottom <= height - margin, (
            f"page {index + 1}: ink at {box} of {image.size}"
        )

"""The recovery sheet: one A4 page with the 12 words numbered in large print, a QR code that
reads back as the words (and opens the recovery key), the relay address, the date in 和暦 and
西暦, the warning and how to use it — in Japanese by default, fonts embedded, nothing off the
page."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
import zxingcpp

from desktop import i18n
from reports.pdf.recovery_sheet import recovery_sheet_pdf, sheet_qr_text
from sync.e2e.keys import new_recovery_words, recovery_identity
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
    render,
)

RELAY = "https://relay.example.jp"
MADE_ON = date(2026, 6, 1)
WORDS = ["tunnel", "kitchen", "cactus", "wire", "ladder", "umbrella",
         "token", "promote", "pilot", "tenant", "kind", "retreat"]


def sheet(words: list[str] = WORDS, *, name: str = "桜町自治会") -> bytes:
    out = io.BytesIO()
    recovery_sheet_pdf(out, association_name=name, words=words, relay_url=RELAY,
                       made_on=MADE_ON)
    return out.getvalue()


def test_one_page_with_the_numbered_words_address_and_date() -> None:
    pdf = sheet()
    assert page_count(pdf) == 1
    text = " ".join(page_texts(pdf)[0].split())  # lines joined
    assert "Recovery sheet (keep in the safe)" in text and "桜町自治会" in text
    assert "令和8年6月1日" in text and "2026-06-01" in text
    assert RELAY in text
    assert "Anyone holding this sheet can read the association's roster" in text
    assert "Receive the roster from another PC → Recovery sheet" in " ".join(text.split())
    for number, word in enumerate(WORDS, start=1):
        assert f"{number}." in text and word in text
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def test_the_qr_code_reads_back_as_the_words() -> None:
    words = new_recovery_words()
    pdf = sheet(words)
    found = [result.text for result in zxingcpp.read_barcodes(render(pdf, 0, dpi=150))]
    assert found == [sheet_qr_text(words)] == [" ".join(words)]
    assert (recovery_identity(found[0]).public_text
            == recovery_identity(words).public_text)


def test_in_japanese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.set_language("ja")
    pdf = sheet()
    text = page_texts(pdf)[0]
    assert "復旧シート（金庫に保管）" in text and "金庫" in text and "名簿" in text
    assert "「別のPCの名簿を受け取る」→「復旧シート」" in text.replace("\n", "")
    assert "令和8年6月1日" in text and RELAY in text
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def test_a_long_association_name_and_address_stay_on_the_page() -> None:
    pdf = sheet(name="桜町一丁目・二丁目・三丁目合同自治会連合会" * 3)
    assert page_count(pdf) == 1
    assert_ink_within(pdf)


def test_written_to_a_path_and_only_twelve_words(tmp_path: Path) -> None:
    target = tmp_path / "復旧シート.pdf"
    recovery_sheet_pdf(target, association_name="桜町自治会", words=WORDS, relay_url=RELAY,
                       made_on=MADE_ON)
    assert target.read_bytes().startswith(b"%PDF")
    assert [path.name for path in tmp_path.iterdir()] == ["復旧シート.pdf"]
    with pytest.raises(ValueError, match="12 words"):
        recovery_sheet_pdf(tmp_path / "x.pdf", association_name="桜町自治会",
                           words=WORDS[:11], relay_url=RELAY, made_on=MADE_ON)
    assert not (tmp_path / "x.pdf").exists()

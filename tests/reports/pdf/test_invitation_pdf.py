"""Invitation slips: a page per household with its name, number, 班 and code in large type,
a QR that reads back as the join link, steps for residents, fonts embedded, nothing off the
page, and a cancelled job leaves no file."""

from __future__ import annotations

import io
import uuid
from datetime import date
from pathlib import Path

import pytest
import zxingcpp

from desktop.domain.invitations import Invitation, InvitationBatch
from reports.pdf.invitation_pdf import _wrap, render_invitations
from reports.pdf.markup import text_width
from sync.invitation_codes import PHONES_PER_HOUSEHOLD, join_link
from sync.relay.residents import MAX_SESSIONS
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
    render,
)

RELAY = "https://relay.example.jp"


def slip(number: str, name: str, group: str, code: str) -> Invitation:
    return Invitation(uuid.uuid4(), number, name, group, code, join_link(RELAY, code))


def batch(*slips: Invitation) -> InvitationBatch:
    return InvitationBatch(association="桜町自治会", relay_url=RELAY, invitations=slips)


def test_a_page_per_household_with_its_code_and_qr() -> None:
    slips = (slip("0003", "高橋 花子", "1班", "K7QM-2XTA"),
             slip("0012", "ジョン・スミス" * 6, "", "ACDE-FG34"))
    out = io.BytesIO()
    pages = render_invitations(out, batch=batch(*slips), printed_on=date(2026, 6, 1))
    pdf = out.getvalue()
    assert pages == page_count(pdf) == 2
    texts = page_texts(pdf)
    first = texts[0]
    assert "高橋 花子 様" in first and "世帯番号 0003" in first and "1班" in first
    assert "K7QM-2XTA" in first and "ACDE-FG34" not in first
    assert "桜町自治会" in first and "令和8年6月1日" in first and "1 / 2" in first
    assert f"{RELAY}/r/join" in first and str(PHONES_PER_HOUSEHOLD) in first
    assert "ACDE-FG34" in texts[1] and "…" in texts[1]  # the long name was cut to fit
    for index, expected in enumerate(slips):
        found = [r.text for r in zxingcpp.read_barcodes(render(pdf, index, dpi=150))]
        assert found == [f"{RELAY}/r/join?code={expected.code}"]
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def test_the_slip_promises_what_the_relay_allows() -> None:
    assert PHONES_PER_HOUSEHOLD == MAX_SESSIONS


def test_nobody_chosen_prints_one_page_saying_so() -> None:
    out = io.BytesIO()
    assert render_invitations(out, batch=batch(), printed_on=date(2026, 6, 1)) == 1
    assert "No household was chosen." in page_texts(out.getvalue())[0]


def test_a_cancelled_job_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "招待状.pdf"
    slips = [slip(f"{n:04d}", f"世帯{n}", "2班", "ACDE-FG34") for n in range(1, 5)]

    def progress(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_invitations(target, batch=batch(*slips), printed_on=date(2026, 6, 1),
                           progress=progress)
    assert list(tmp_path.iterdir()) == []
    assert render_invitations(target, batch=batch(*slips), printed_on=date(2026, 6, 1)) == 4
    assert page_count(target) == 4


def test_lines_break_between_japanese_characters_and_between_english_words() -> None:
    japanese = "1. スマートフォンのカメラを開いて、右の四角いコードに向けてください。"
    lines = _wrap(japanese, 14, 200)
    assert "".join(lines) == japanese and lines[0].startswith("1. ス")  # not "1." alone
    assert not any(line.startswith(("。", "、")) for line in lines)  # 禁則
    english = "Touch the link that appears. The association's page opens."
    lines = _wrap(english, 14, 150)
    assert " ".join(lines) == english and len(lines) > 1
    assert all(text_width(line, "IPAexGothic", 14) <= 150 for line in lines)

"""The purpose statement (個人情報の利用目的) printed small at the foot of reply slips and on
the general meeting's forms."""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop.domain.circulars import Question, QuestionKind
from reports.pdf.circular_pdf import render_packet, render_personal_copies
from reports.pdf.fonts import GOTHIC
from reports.pdf.markup import text_width
from reports.pdf.meeting_pdf import render_forms
from reports.pdf.page import Typography
from reports.pdf.purpose import MAX_LINES, PURPOSE_LABEL, purpose_footer, purpose_lines
from tests.reports.pdf.pdf_checks import assert_ink_within, page_count, page_texts
from tests.reports.pdf.test_circular_pdf import TAG, decoded, household, pdf_of, survey
from tests.reports.pdf.test_meeting_pdf import meeting, voter

STATEMENT = ("回覧・お知らせの配布、会費の管理、災害時の安否確認に使い、"
             "本人の同意なく第三者に提供しません。")


def _flat(text: str) -> str:
    return text.replace(" ", "").replace("\n", "")


def test_an_empty_statement_prints_nothing() -> None:
    assert purpose_lines("  \n ", width=400, size=7) == []
    assert purpose_footer("", x=0, top=0, width=400, typo=Typography()) == ([], 0.0)


def test_a_short_statement_is_one_line_after_its_label() -> None:
    assert purpose_lines("会報の配布に使います。", width=400, size=7) == [
        PURPOSE_LABEL + "会報の配布に使います。"]


def test_line_breaks_join_and_a_long_statement_is_cut_to_a_few_lines() -> None:
    assert purpose_lines("配布に\n使います。", width=400, size=7) == [
        PURPOSE_LABEL + "配布に 使います。"]
    lines = purpose_lines(STATEMENT * 6, width=200, size=7)
    assert len(lines) == MAX_LINES
    assert lines[-1].endswith("…")
    assert all(text_width(line, GOTHIC, 7) <= 200.5 for line in lines)


def test_the_reply_slip_carries_the_statement_at_its_foot() -> None:
    pdf, pages = pdf_of(render_personal_copies,
                        circular=replace(survey(), purpose_statement=STATEMENT),
                        households=[household(1)])
    last = _flat(page_texts(pdf)[pages - 1])
    assert _flat(PURPOSE_LABEL) in last and "第三者に提供しません" in last
    assert last.index("世帯番号") < last.index("個人情報の利用目的")
    assert decoded(pdf, pages - 1) == [f"KRN1:{TAG}:0001"]
    without, pages = pdf_of(render_personal_copies, circular=survey(),
                            households=[household(1)])
    assert "個人情報の利用目的" not in _flat(page_texts(without)[pages - 1])


def test_the_packet_has_no_slip_and_so_no_statement() -> None:
    pdf, _pages = pdf_of(render_packet, circular=survey(), groups=[("1班", [household(1)])])
    assert "個人情報の利用目的" not in _flat("".join(page_texts(pdf)))


@pytest.mark.parametrize("large", [False, True])
def test_a_tall_slip_with_a_long_statement_stays_on_the_page(large: bool) -> None:
    many = tuple(Question(f"質問{n}：" + "長い質問の文章です。" * 3, QuestionKind.CHOICE,
                          ("賛成", "反対")) for n in range(10))
    circular = replace(survey(questions=many), purpose_statement=STATEMENT * 8)
    pdf, pages = pdf_of(render_personal_copies, circular=circular,
                        households=[household(2)], large=large)
    assert_ink_within(pdf)
    assert "…" in page_texts(pdf)[pages - 1]
    assert decoded(pdf, pages - 1) == [f"KRN1:{TAG}:0002"]


@pytest.mark.parametrize("large", [False, True])
def test_the_meeting_forms_carry_the_statement_and_still_fit(large: bool) -> None:
    pdf, pages = pdf_of(render_forms, meeting=replace(meeting(10), purpose_statement=STATEMENT),
                        voters=[voter(1)], large=large)
    plain, plain_pages = pdf_of(render_forms, meeting=meeting(10), voters=[voter(1)],
                                large=large)
    assert pages == plain_pages == page_count(pdf)
    first = _flat(page_texts(pdf)[0])
    assert "個人情報の利用目的" in first and "安否確認" in first
    assert first.index("個人情報の利用目的") < first.index("切り取り線")  # the part kept at home
    assert "個人情報の利用目的" not in _flat(page_texts(plain)[0])
    assert_ink_within(pdf)

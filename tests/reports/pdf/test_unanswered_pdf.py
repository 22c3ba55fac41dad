"""The unanswered list: one sheet per 班 in circulation order, fonts embedded, nothing off the
page, long lists continued, and a cancelled job leaves no file."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from reports.pdf.unanswered_pdf import (
    UnansweredGroup,
    UnansweredHousehold,
    UnansweredList,
    render_unanswered,
)
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
)


def household(number: int, name: str = "", address: str = "") -> UnansweredHousehold:
    return UnansweredHousehold(f"{number:04d}", name or f"山田 {number}郎",
                               address or f"桜町{number}丁目{number}番地")


def document(*groups: UnansweredGroup) -> UnansweredList:
    return UnansweredList(association="桜町自治会", circular_title="夏祭りのお知らせ",
                          deadline=date(2026, 6, 15), printed_on=date(2026, 6, 10),
                          groups=groups)


def test_one_sheet_per_group_in_circulation_order() -> None:
    first = UnansweredGroup("1班", (household(12), household(3), household(7)), recipients=10)
    second = UnansweredGroup("2班", (household(21),), recipients=8)
    out = io.BytesIO()
    pages = render_unanswered(out, document=document(first, second))
    pdf = out.getvalue()
    assert pages == page_count(pdf) == 2
    texts = page_texts(pdf)
    assert "未回答一覧" in texts[0] and "夏祭りのお知らせ" in texts[0]
    assert "1班" in texts[0] and "未回答 3 世帯 / 10 世帯" in texts[0]
    assert "締切 令和8年6月15日" in texts[0]
    assert "桜町自治会" in texts[0] and "令和8年6月10日" in texts[0]  # the page furniture
    order = [texts[0].index(number) for number in ("0012", "0003", "0007")]
    assert order == sorted(order)  # as given: the route's order, not sorted by number
    assert "2班" in texts[1] and "0021" in texts[1] and "0012" not in texts[1]
    assert "1 / 2" in texts[0] and "2 / 2" in texts[1]
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


@pytest.mark.parametrize("large", [False, True])
def test_a_long_group_continues_and_long_addresses_stay_on_the_page(large: bool) -> None:
    long_address = "桜町" + "一丁目二番地三号サンシャインマンション" * 4
    rows = tuple(household(n, address=long_address if n % 7 == 0 else "")
                 for n in range(1, 61))
    out = io.BytesIO()
    pages = render_unanswered(out, document=document(UnansweredGroup("3班", rows, 60)),
                              large=large)
    pdf = out.getvalue()
    texts = page_texts(pdf)
    assert pages == len(texts) >= 2
    assert "3班（続き）" in texts[1]
    every = "".join(texts)
    assert all(f"{n:04d}" in every for n in range(1, 61))
    assert "…" in every  # the long address was cut, not run into the next column
    assert_ink_within(pdf)
    if large:
        normal = render_unanswered(io.BytesIO(),
                                   document=document(UnansweredGroup("3班", rows, 60)))
        assert pages > normal  # larger type, fewer rows per page


def test_nobody_left_to_follow_up_prints_one_page_saying_so() -> None:
    out = io.BytesIO()
    assert render_unanswered(out, document=document()) == 1
    assert "Every household has answered." in page_texts(out.getvalue())[0]


def test_a_cancelled_job_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "未回答.pdf"
    groups = [UnansweredGroup(f"{g}班", (household(g),), 5) for g in range(1, 6)]
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 3:
            raise KeyboardInterrupt  # any exception cancels

    with pytest.raises(KeyboardInterrupt):
        render_unanswered(target, document=document(*groups), progress=progress)
    assert list(tmp_path.iterdir()) == []
    assert seen[0] == (0, 5)

    assert render_unanswered(target, document=document(*groups)) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["未回答.pdf"]
    assert page_count(target) == 5

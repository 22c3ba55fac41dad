"""Figure ``circular_copies_2000``: seconds to print the personal copies of one circular for
a 2,000-household association where every household is on paper, as one PDF. The issue asks
for at least 0.5× the pages per second of the floor; both sides print the same pages, so
that is ratio (seconds / floor seconds) ≤ 2.

The data is plain values, no association file: the 2,000 households of the demo generator
(``generate_demo_roster``) and a typical circular (a one-page body with headings, lists and a
photo, and a three-question survey, so every copy carries a reply slip with its QR code).

Ours: ``render_personal_copies`` into memory, end to end (layout, forms, slips, QR codes,
the saved PDF). Floor, same run, same data: a reportlab canvas with the same embedded fonts
drawing the same text lines — every line of the laid-out circular, the page furniture and
the household's own lines — page by page with ``drawString``, no layout, no QR codes, no
picture, then saving the PDF with binary (not ASCII85) streams, as ours saves it.

    python -m tests.bench.circular_copies            # the figure (5 + 5 children)
    python -m tests.bench.circular_copies --profile  # cProfile of one run of ours
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from tests.bench.common import (
    ChildFailed,
    Figure,
    child_result,
    figure_main,
    measured_figure,
    profile_lines,
    run_child,
)

if TYPE_CHECKING:
    from reports.pdf.circular_input import CircularPrint, PrintHousehold

NAME = "circular_copies_2000"
MODULE = "circular_copies"
HOUSEHOLDS = 2000
PROFILE_TOP = 35
CIRCULAR_TAG = "0a1b2c3d"

BODY = """\
# 桜町 夏祭りのご案内

　日頃より自治会活動にご協力いただき、ありがとうございます。今年も恒例の夏祭りを下記のとおり\
開催いたします。ご家族おそろいでお越しください。小さなお子様からご高齢の方まで楽しめる催しを\
用意しております。

## 日時・場所
- 日時：8月10日（日）午後4時〜午後8時30分（雨天の場合は翌日に順延）
- 場所：桜町第一公園（集会所前の広場）
- 持ち物：うちわ、飲み物、ゴミ袋

## 催し物
1. 子ども神輿（午後4時 集会所前出発）
2. 盆踊り（午後6時から、どなたでも参加できます）
3. 福引き（一世帯一枚、引換券は下の返信票と一緒にお渡しします）

## お願い
　会場周辺には駐車場がありません。お車でのご来場はご遠慮ください。準備と片付けのお手伝いを\
お願いできる方は、返信票でお知らせください。ご不明な点は、各班の班長または自治会役員まで\
お問い合わせください。
"""


def sample_circular() -> CircularPrint:
    """The typical circular of the figures: a survey with a photo."""
    from PIL import Image

    from desktop.domain.circulars import Question, QuestionKind
    from desktop.domain.models import Ask, AttachmentKind
    from reports.pdf.circular_input import CircularPrint

    photo = Image.linear_gradient("L").resize((1200, 700)).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return CircularPrint(
        association="ベンチ町内会", title="夏祭りのご案内と出欠のお願い", body=BODY,
        issued_on=date(2025, 7, 1), issuer="会長 山田 太郎", ask=Ask.SURVEY,
        questions=(
            Question("夏祭りに参加されますか", choices=("参加する", "参加しない")),
            Question("準備・片付けを手伝えますか", choices=("○", "×")),
            Question("ご意見・ご要望", QuestionKind.TEXT),
        ),
        deadline=date(2025, 7, 25),
        images=((buffer.getvalue(), AttachmentKind.IMAGE),),
    )


def sample_groups(households: int) -> list[tuple[str, list[PrintHousehold]]]:
    """The demo generator's 班 with their households in circulation order."""
    from desktop.domain.demo_data import generate_demo_roster, iter_han
    from reports.pdf.circular_input import PrintHousehold

    groups = []
    for han in iter_han(generate_demo_roster(households)):
        groups.append((han.name, [
            PrintHousehold(number=household.number, name=household.display_name,
                           address=household.address, group_name=han.name,
                           circulation_order=order,
                           slip_code=f"KRN1:{CIRCULAR_TAG}:{household.number}")
            for order, household in enumerate(han.households, start=1)]))
    return groups


def sample_paper(households: int, *, every: bool) -> list[PrintHousehold]:
    """The paper households (all of them when ``every``) in circulation order."""
    from desktop.domain.demo_data import generate_demo_roster, iter_households

    roster = generate_demo_roster(households)
    paper = {h.number for h in iter_households(roster) if every or h.channel == "paper"}
    return [household for _name, members in sample_groups(households) for household in members
            if household.number in paper]


def floor_lines(circular: CircularPrint, *, large: bool,
                with_slip: bool = True) -> list[list[tuple[Any, ...]]]:
    """Every text line of each page of one copy as laid out by ours: (x, y, text, font,
    size). Computed before the floor's clock starts: the floor does no layout."""
    from reports.pdf.circular_pdf import _lay_out_circular
    from reports.pdf.drawing import Moved, Text
    from reports.pdf.page import PageLayout, Typography

    shape = _lay_out_circular(circular, layout=PageLayout(), typo=Typography(large=large),
                              with_slip=with_slip)
    pages: list[list[tuple[Any, ...]]] = []

    def flatten(items: Sequence[Any], dx: float, dy: float, out: list[tuple[Any, ...]]) -> None:
        for item in items:
            if isinstance(item, Text):
                out.append((dx + item.x, dy + item.y, item.text, item.font, item.size))
            elif isinstance(item, Moved):
                flatten(item.items, dx + item.x, dy + item.y, out)

    for items in shape.pages:
        lines: list[tuple[Any, ...]] = []
        flatten(items, 0.0, 0.0, lines)
        pages.append(lines)
    return pages


def copies_floor(circular: CircularPrint, households: Sequence[PrintHousehold], *,
                 large: bool) -> dict[str, Any]:
    """The same lines drawn page by page on a plain canvas, same fonts, then saved."""
    from reportlab import rl_config

    from desktop.domain.wareki import format_wareki
    from reports.pdf.fonts import GOTHIC
    from reports.pdf.page import PageLayout, Typography, new_canvas

    rl_config.useA85 = 0  # binary streams, as ours writes them: the floor is not handicapped
    pages = floor_lines(circular, large=large)
    layout, typo = PageLayout(), Typography(large=large)
    top = layout.height - layout.margin_top - typo.heading
    started = time.perf_counter()
    canvas = new_canvas(io.BytesIO(), title=circular.title, author=circular.association)
    for household in households:
        for index, lines in enumerate(pages):
            for x, y, text, font, size in lines:
                canvas.setFont(font, size)
                canvas.drawString(x, y, text)
            canvas.setFont(GOTHIC, typo.small)  # the furniture
            canvas.drawString(layout.margin_x, layout.height - 50, circular.association)
            canvas.drawRightString(layout.width - layout.margin_x, layout.height - 50,
                                   format_wareki(circular.issued_on))
            canvas.drawCentredString(layout.width / 2, 30, f"{index + 1} / {len(pages)}")
            canvas.setFont(GOTHIC, typo.heading)  # the household's own lines
            if index == 0:
                canvas.drawString(layout.margin_x, top, household.name + " 様")
                canvas.drawString(layout.margin_x, top - 20, "世帯番号 " + household.number)
            if index == len(pages) - 1:
                canvas.drawString(layout.margin_x + 60, 300, household.number)
                canvas.drawString(layout.margin_x, 280, household.name + " 様")
            canvas.showPage()
    canvas.save()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(pages) * len(households),
            "pages_per_second": len(pages) * len(households) / seconds}


def copies_ours(circular: CircularPrint, households: Sequence[PrintHousehold], *,
                large: bool, profile: bool = False) -> dict[str, Any]:
    """``render_personal_copies`` into memory, end to end."""
    from reports.pdf.circular_pdf import render_personal_copies

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    buffer = io.BytesIO()
    pages = render_personal_copies(buffer, circular=circular, households=households,
                                   large=large)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
    outcome: dict[str, Any] = {"seconds": seconds, "pages": pages,
                               "pages_per_second": pages / seconds,
                               "mib": len(buffer.getvalue()) / 2**20}
    if profiler is not None:
        outcome["profile"] = profile_lines(profiler, count=PROFILE_TOP)
    return outcome


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours", "floor"))
    parser.add_argument("--households", type=int, default=HOUSEHOLDS)
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    from reports.pdf.fonts import register_fonts

    register_fonts()  # loading the font files is start-up, on both sides: not measured
    circular = sample_circular()
    households = sample_paper(args.households, every=True)
    if args.side == "ours":
        child_result(copies_ours(circular, households, large=args.large, profile=args.profile))
    child_result(copies_floor(circular, households, large=args.large))


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds",
                           prepare=lambda: ["--households", str(HOUSEHOLDS)])


def print_profile() -> None:
    """Render once under cProfile in a child; print the top entries to stdout."""
    try:
        result = run_child(MODULE, ["ours", "--households", str(HOUSEHOLDS), "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# copies under cProfile: {result['seconds']:.3f} s for {result['pages']} pages "
          "including the profiler's overhead")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE ...`` in a child; ``--profile`` for the profile; else the figure."""
    return figure_main(argv, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())

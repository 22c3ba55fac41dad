"""Figure ``circular_packet_300``: seconds to print a typical circular for a 300-household
association — the 回覧板 packet of every 班 and the personal copies of its paper households
— from the association file. The issue asks for under 3 s.

The association is the 300-household demo (``build/bench/demo-300.kairan``: 15 班, about a
quarter of the households on paper); a copy of it gets the circular of the copies figure
(a one-page body, a photo, a three-question survey) with a one-page PDF attached, sent to
everyone (``build/bench/circular-300.kairan``, made once per run, before measuring).

Ours: in a read session, ``load_circular_print`` + ``load_packet_groups`` +
``load_paper_households``; then ``render_packet`` and ``render_personal_copies`` into
memory (layout, forms, route sheets, slips, QR codes, the attached page merged by pypdf).
Floor, same run, same data read beforehand: a reportlab canvas with the same embedded fonts
drawing the same text lines page by page — the circular's lines on each packet and copy
page, each route sheet's captions and rows, the copies' own lines — with ``drawString``,
no layout, no pictures, no attached page, then saving both PDFs.

    python -m tests.bench.circular_packet            # the figure (5 + 5 children)
    python -m tests.bench.circular_packet --profile  # cProfile of one run of ours
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.bench.circular_copies import floor_lines, sample_circular
from tests.bench.common import (
    BENCH_DIR,
    ChildFailed,
    Figure,
    child_result,
    demo_file,
    figure_main,
    measured_figure,
    profile_lines,
    run_child,
    throwaway_home,
    warm_page_cache,
)

if TYPE_CHECKING:
    from desktop.store.association_file import AssociationFile
    from reports.pdf.circular_input import CircularPrint, PrintHousehold

NAME = "circular_packet_300"
MODULE = "circular_packet"
HOUSEHOLDS = 300
PROFILE_TOP = 35
CIRCULAR_FILE = BENCH_DIR / "circular-300.kairan"
ROUTE_ROWS = 11  # route sheet rows per page in normal print


def _attachment() -> bytes:
    from reports.pdf.page import new_canvas

    out = io.BytesIO()
    canvas = new_canvas(out, title="会場案内", author="ベンチ町内会")
    canvas.drawString(72, 720, "会場案内図（添付資料）")
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def prepare_file() -> tuple[Path, uuid.UUID]:
    """A copy of the 300-household demo with the sample circular (photo, attached PDF)
    sent to everyone; made afresh for each run of the figure."""
    from desktop.domain.attachments import add_image, add_pdf
    from desktop.domain.circulars import CircularData, create_circular, send_circular
    from desktop.store.association_file import open_association

    source = demo_file(HOUSEHOLDS)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{CIRCULAR_FILE}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, CIRCULAR_FILE)
    sample = sample_circular()
    with throwaway_home():
        opened = open_association(CIRCULAR_FILE)
        try:
            with opened.write() as session:
                circular_id = create_circular(session, data=CircularData(
                    title=sample.title, body=sample.body, issued_on=sample.issued_on,
                    issuer=sample.issuer, ask=sample.ask, questions=sample.questions,
                    deadline=sample.deadline))
                for data, kind in sample.images:
                    add_image(session, circular_id=circular_id, file_name="photo.jpg",
                              data=data, kind=kind)
                add_pdf(session, circular_id=circular_id, file_name="会場案内.pdf",
                        data=_attachment())
                send_circular(session, circular_id=circular_id,
                              sent_at=datetime(2025, 7, 1, 9, tzinfo=UTC))
        finally:
            opened.close()
    warm_page_cache(CIRCULAR_FILE)
    return CIRCULAR_FILE, circular_id


def _load(db: Path, circular_id: uuid.UUID) -> tuple[
        CircularPrint, list[tuple[str, list[PrintHousehold]]], list[PrintHousehold]]:
    from reports.pdf.circular_source import (
        load_circular_print,
        load_packet_groups,
        load_paper_households,
    )

    with _opened(db).read() as session:
        return (load_circular_print(session, circular_id=circular_id),
                load_packet_groups(session, circular_id=circular_id),
                load_paper_households(session, circular_id=circular_id))


_OPEN: dict[Path, AssociationFile] = {}


def _opened(db: Path) -> AssociationFile:
    from desktop.store.association_file import open_association

    if db not in _OPEN:
        _OPEN[db] = open_association(db)  # checks and the integrity check: not measured
    return _OPEN[db]


def packet_ours(db: Path, circular_id: uuid.UUID, *, profile: bool = False) -> dict[str, Any]:
    """Load from the file and print both documents into memory, as the print dialog does."""
    from reports.pdf.circular_pdf import render_packet, render_personal_copies

    _opened(db)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    circular, groups, paper = _load(db, circular_id)
    loaded = time.perf_counter()
    packet_pages = render_packet(io.BytesIO(), circular=circular, groups=groups)
    packets = time.perf_counter()
    copy_pages = render_personal_copies(io.BytesIO(), circular=circular, households=paper)
    finished = time.perf_counter()
    if profiler is not None:
        profiler.disable()
    outcome: dict[str, Any] = {
        "seconds": finished - started, "load": loaded - started, "packet": packets - loaded,
        "copies": finished - packets, "groups": len(groups), "paper": len(paper),
        "pages": packet_pages + copy_pages}
    if profiler is not None:
        outcome["profile"] = profile_lines(profiler, count=PROFILE_TOP)
    return outcome


def packet_floor(db: Path, circular_id: uuid.UUID) -> dict[str, Any]:
    """The same text lines drawn page by page on plain canvases, same fonts, then saved."""
    from reportlab import rl_config

    from desktop.domain.wareki import format_wareki
    from reports.pdf.fonts import GOTHIC, MINCHO
    from reports.pdf.page import PageLayout, Typography, new_canvas

    rl_config.useA85 = 0  # binary streams, as ours writes them: the floor is not handicapped
    circular, groups, paper = _load(db, circular_id)
    circular_pages = floor_lines(circular, large=False, with_slip=False)
    copy_pages = floor_lines(circular, large=False, with_slip=True)
    layout, typo = PageLayout(), Typography()
    width, height = layout.width, layout.height
    date_text = format_wareki(circular.issued_on)

    def furniture(canvas: Any, page: int, pages: int) -> None:
        canvas.setFont(GOTHIC, typo.small)
        canvas.drawString(layout.margin_x, height - 50, circular.association)
        canvas.drawRightString(width - layout.margin_x, height - 50, date_text)
        canvas.drawCentredString(width / 2, 30, f"{page} / {pages}")

    def lines(canvas: Any, page_lines: list[tuple[Any, ...]]) -> None:
        for x, y, text, font, size in page_lines:
            canvas.setFont(font, size)
            canvas.drawString(x, y, text)

    started = time.perf_counter()
    canvas = new_canvas(io.BytesIO(), title=circular.title, author=circular.association)
    pages = 0
    for group_name, members in groups:
        route_pages = max(1, -(-len(members) // ROUTE_ROWS))
        total = len(circular_pages) + route_pages
        for index, page_lines in enumerate(circular_pages):
            lines(canvas, page_lines)
            canvas.setFont(GOTHIC, typo.heading)
            canvas.drawString(layout.margin_x, height - 80, group_name)
            furniture(canvas, index + 1, total)
            canvas.showPage()
        for page in range(route_pages):
            canvas.setFont(GOTHIC, typo.title)
            canvas.drawCentredString(width / 2, height - 80, "回覧板 順路表")
            canvas.setFont(GOTHIC, typo.body)
            canvas.drawString(layout.margin_x, height - 110, group_name)
            canvas.drawRightString(width - layout.margin_x, height - 110, "回覧開始日")
            canvas.drawString(layout.margin_x, height - 130, "件名：" + circular.title)
            canvas.drawString(layout.margin_x, height - 150, "順番 世帯番号 氏名 受取日 確認印")
            for row, member in enumerate(members[page * ROUTE_ROWS:(page + 1) * ROUTE_ROWS]):
                y = height - 190 - row * 50
                canvas.setFont(GOTHIC, typo.body)
                canvas.drawString(60, y, str(page * ROUTE_ROWS + row + 1))
                canvas.drawString(100, y, member.number)
                canvas.setFont(MINCHO, typo.heading)
                canvas.drawString(170, y, member.name)
            canvas.setFont(GOTHIC, typo.body)
            canvas.drawString(layout.margin_x, 70, "最後の方は班長へお戻しください。")
            furniture(canvas, len(circular_pages) + page + 1, total)
            canvas.showPage()
        pages += total
    canvas.save()
    canvas = new_canvas(io.BytesIO(), title=circular.title, author=circular.association)
    for member in paper:
        for index, page_lines in enumerate(copy_pages):
            lines(canvas, page_lines)
            canvas.setFont(GOTHIC, typo.heading)
            if index == 0:
                canvas.drawString(layout.margin_x, height - 80, member.name + " 様")
                canvas.drawString(layout.margin_x, height - 100, "世帯番号 " + member.number)
            if index == len(copy_pages) - 1:
                canvas.drawString(layout.margin_x + 60, 300, member.number)
                canvas.drawString(layout.margin_x, 280, member.name + " 様")
            furniture(canvas, index + 1, len(copy_pages))
            canvas.showPage()
        pages += len(copy_pages)
    canvas.save()
    return {"seconds": time.perf_counter() - started, "pages": pages}


def child_main(argv: Sequence[str]) -> int:
    """Run one side in this fresh process and print its result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours", "floor"))
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--circular", type=uuid.UUID, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    from reports.pdf.fonts import register_fonts

    register_fonts()  # loading the font files is start-up, on both sides: not measured
    if args.side == "ours":
        child_result(packet_ours(args.db, args.circular, profile=args.profile))
    child_result(packet_floor(args.db, args.circular))


def _arguments() -> list[str]:
    path, circular_id = prepare_file()
    return ["--db", str(path), "--circular", str(circular_id)]


def figure() -> Figure:
    """Measure the figure (5 children per side, alternating)."""
    return measured_figure(NAME, "s", MODULE, "seconds", prepare=_arguments)


def print_profile() -> None:
    """Print once under cProfile in a child; print the top entries to stdout."""
    try:
        result = run_child(MODULE, ["ours", *_arguments(), "--profile"])
    except ChildFailed as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return
    print(f"# packet and copies under cProfile: {result['seconds']:.3f} s including the "
          f"profiler's overhead (load {result['load']:.3f}, packets {result['packet']:.3f}, "
          f"copies {result['copies']:.3f}); {result['groups']} 班, {result['paper']} on "
          f"paper, {result['pages']} pages")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--child SIDE ...`` in a child; ``--profile`` for the profile; else the figure."""
    return figure_main(argv, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())

"""The circular on paper: 回覧板 packets with their route sheets, personal copies with reply
slips and QR codes, pictures, maps and attached PDFs, large print, and the safety nets
(characters outside the font, cancelling, nothing off the page)."""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from PIL import Image

from desktop.domain.attachments import add_image, add_pdf
from desktop.domain.circulars import (
    ATTENDANCE_CHOICES,
    CircularData,
    Question,
    QuestionKind,
    create_circular,
    send_circular,
)
from desktop.domain.errors import KairanError
from desktop.domain.models import Ask, AttachmentKind
from desktop.domain.slips import slip_code
from desktop.store.association_file import AssociationFile
from reports.pdf.circular_input import CircularPrint, PrintHousehold
from reports.pdf.circular_pdf import (
    MISSING_MARK,
    render_packet,
    render_personal_copies,
    unprintable_characters,
)
from reports.pdf.circular_source import (
    load_circular_print,
    load_packet_groups,
    load_paper_households,
)
from reports.pdf.page import new_canvas
from tests.domain.test_circulars import build_town
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
    render,
)

TAG = "0a1b2c3d"
BODY = """\
# 一斉清掃のお知らせ
　日頃より自治会活動にご協力いただき、ありがとうございます。秋の一斉清掃を行います。

## 日時・場所
- 10月12日（日）午前8時から
- 集合：桜町第一公園
1. 軍手とゴミ袋は自治会で用意します
2. 雨天の場合は翌週に延期します"""


def circular(**changes: object) -> CircularPrint:
    base = CircularPrint(association="桜町自治会", title="秋の一斉清掃", body=BODY,
                         issued_on=date(2025, 10, 1), issuer="会長 山田 太郎")
    return replace(base, **changes)  # type: ignore[arg-type]


def survey(**changes: object) -> CircularPrint:
    questions = (Question("参加されますか", choices=("参加する", "参加しない")),
                 Question("ご意見", QuestionKind.TEXT))
    return circular(**{"ask": Ask.SURVEY, "deadline": date(2025, 10, 10),
                       "questions": questions, **changes})


def household(number: int, name: str = "") -> PrintHousehold:
    text = f"{number:04d}"
    return PrintHousehold(number=text, name=name or f"佐藤 {number}郎", group_name="1班",
                          circulation_order=number, slip_code=f"KRN1:{TAG}:{text}")


def pdf_of(render_function: object, **arguments: object) -> tuple[bytes, int]:
    out = io.BytesIO()
    pages = render_function(out, **arguments)  # type: ignore[operator]
    return out.getvalue(), pages


def jpeg(width: int = 800, height: int = 400) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def attached_pdf(*texts: str) -> bytes:
    out = io.BytesIO()
    canvas = new_canvas(out, title="添付", author="test")
    for text in texts:
        canvas.drawString(100, 700, text)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def decoded(pdf: bytes, page: int) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(render(pdf, page, dpi=200))]


# ---------------------------------------------------------------- the 回覧板 packet


def test_packet_lists_each_groups_households_in_circulation_order() -> None:
    first = [household(12, "鈴木 一郎"), household(3, "高橋 花子"), household(7, "田中 次郎")]
    second = [household(21, "伊藤 三郎")]
    pdf, pages = pdf_of(render_packet, circular=circular(),
                        groups=[("1班", first), ("2班", second)])
    texts = page_texts(pdf)
    assert pages == page_count(pdf) == 4  # per 班: one page of circular + one route sheet
    assert "回覧" in texts[0] and "1班" in texts[0] and "一斉清掃のお知らせ" in texts[0]
    route = texts[1]
    assert "回覧板 順路表" in route and "1班" in route and "確認印" in route
    assert "受取日" in route and "回覧開始日" in route and "件名：秋の一斉清掃" in route
    order = [route.index(name) for name in ("鈴木 一郎", "高橋 花子", "田中 次郎")]
    assert order == sorted(order)  # as given: the route, not the numbers
    assert "伊藤 三郎" not in route
    assert "2班" in texts[3] and "伊藤 三郎" in texts[3] and "鈴木 一郎" not in texts[3]
    assert ["1 / 2" in texts[0], "2 / 2" in texts[1], "1 / 2" in texts[2]] == [True] * 3
    assert all("桜町自治会" in text and "令和7年10月1日" in text for text in texts)
    assert_fonts_embedded(pdf)


@pytest.mark.parametrize("large", [False, True])
def test_a_long_route_continues_on_more_sheets_inside_the_page(large: bool) -> None:
    members = [household(number) for number in range(1, 31)]
    pdf, pages = pdf_of(render_packet, circular=circular(), groups=[("3班", members)],
                        large=large)
    texts = page_texts(pdf)
    route = texts[1:]
    assert pages == len(texts) and len(route) >= (4 if large else 3)
    joined = "\n".join(route)
    positions = [joined.index(f"佐藤 {number}郎\n") for number in range(1, 31)]
    assert positions == sorted(positions)
    assert all("回覧板 順路表" in text for text in route)
    assert f"{len(texts)} / {len(texts)}" in texts[-1]
    assert_ink_within(pdf)


def _squares(pdf: bytes, page: int) -> list[float]:
    """The sides (mm) of the squares a page draws with the ``re`` operator."""
    content = pypdf.PdfReader(io.BytesIO(pdf)).pages[page].get_contents()
    assert content is not None
    found = re.findall(rb"(-?[\d.]+) (-?[\d.]+) ([\d.]+) ([\d.]+) re", content.get_data())
    return [round(float(w) * 25.4 / 72, 1) for _x, _y, w, h in found if w == h]


def test_each_household_gets_a_seal_box_bigger_in_large_print() -> None:
    members = [household(number) for number in range(1, 4)]
    sides = {}
    for large in (False, True):
        pdf, _pages = pdf_of(render_packet, circular=circular(), groups=[("1班", members)],
                             large=large)
        squares = _squares(pdf, 1)
        assert len(squares) == 3 and len(set(squares)) == 1
        sides[large] = squares[0]
    assert sides[False] == 15.0 and sides[True] > 20


# ---------------------------------------------------------------- personal copies


def test_each_copy_is_addressed_and_its_slip_carries_the_household() -> None:
    households = [household(5, "渡辺 一郎"), household(9, "小林 花子")]
    pdf, pages = pdf_of(render_personal_copies, circular=survey(), households=households)
    texts = page_texts(pdf)
    assert pages == page_count(pdf) == 2  # short body: circular and slip on one page each
    for text, (number, name) in zip(texts, [("0005", "渡辺 一郎"), ("0009", "小林 花子")],
                                    strict=True):
        assert f"{name} 様" in text and f"世帯番号 {number}" in text
        assert "切り取り線" in text and "提出期限" in text and "令和7年10月10日（金）" in text
        assert "参加する" in text and "参加しない" in text and "ご意見" in text
        assert "一斉清掃のお知らせ" in text
    assert "渡辺" not in texts[1]
    assert_fonts_embedded(pdf)


def test_the_qr_codes_decode_to_each_households_slip_code() -> None:
    households = [household(5), household(1234)]
    pdf, _pages = pdf_of(render_personal_copies, circular=survey(), households=households)
    assert decoded(pdf, 0) == [f"KRN1:{TAG}:0005"]
    assert decoded(pdf, 1) == [f"KRN1:{TAG}:1234"]


def test_attendance_and_read_confirmation_slips() -> None:
    attendance = circular(ask=Ask.ATTENDANCE, deadline=date(2025, 10, 10))
    pdf, _pages = pdf_of(render_personal_copies, circular=attendance,
                         households=[household(1)])
    text = page_texts(pdf)[0]
    assert all(choice in text for choice in ATTENDANCE_CHOICES) and "出欠" in text
    read = circular(ask=Ask.READ, deadline=date(2025, 10, 10))
    pdf, _pages = pdf_of(render_personal_copies, circular=read, households=[household(1)])
    text = page_texts(pdf)[0]
    assert "確認印" in text and "切り取り線" in text
    assert decoded(pdf, 0) == [f"KRN1:{TAG}:0001"]


def test_a_notice_that_asks_nothing_has_no_slip() -> None:
    pdf, pages = pdf_of(render_personal_copies, circular=circular(), households=[household(1)])
    assert pages == 1
    text = page_texts(pdf)[0]
    assert "佐藤 1郎 様" in text and "切り取り線" not in text
    assert decoded(pdf, 0) == []


def test_a_long_body_pushes_the_slip_to_the_last_page_or_a_page_of_its_own() -> None:
    paragraph = "清掃区域は公園の周りと集会所前の道路です。" * 6 + "\n\n"
    for paragraphs in range(1, 40):
        long = survey(body=BODY + "\n\n" + paragraph * paragraphs)
        pdf, pages = pdf_of(render_personal_copies, circular=long, households=[household(1)])
        texts = page_texts(pdf)
        assert pages == len(texts)
        assert sum("切り取り線" in text for text in texts) == 1
        assert "切り取り線" in texts[-1]  # the slip is always on the copy's last page
        if pages > 1 and "清掃区域" not in texts[-1]:
            break  # the body filled the page: the slip went to a page of its own
    else:
        pytest.fail("the slip never moved to a page of its own")
    assert f"{pages} / {pages}" in texts[-1]
    assert_ink_within(pdf)
    assert decoded(pdf, pages - 1) == [f"KRN1:{TAG}:0001"]


@pytest.mark.parametrize("large", [False, True])
def test_nothing_is_drawn_outside_the_frame(large: bool) -> None:
    many = tuple(Question(f"質問{n}：" + "とても長い質問の文章です。" * 4,
                          QuestionKind.TEXT if n % 3 == 0 else QuestionKind.CHOICE,
                          () if n % 3 == 0 else ("賛成", "反対", "どちらでもない"))
                 for n in range(10))
    tall = survey(questions=many, title="とても長い題名の回覧" * 6,
                  issuer="自治会長 " + "長い名前" * 10,
                  body=BODY + "\n\n" + ("https://example.jp/" + "x" * 150 + "\n") * 3)
    households = [household(1, "長い名前の世帯主" * 8), household(2)]
    pdf, _pages = pdf_of(render_personal_copies, circular=tall, households=households,
                         large=large)
    assert_ink_within(pdf)
    assert decoded(pdf, page_count(pdf) - 1) == [f"KRN1:{TAG}:0002"]
    pdf, _pages = pdf_of(render_packet, circular=tall, large=large,
                         groups=[("とても長い班の名前" * 6, households)])
    assert_ink_within(pdf)


def test_pictures_the_map_and_attached_pdf_pages() -> None:
    map_url = "https://maps.example.jp/?q=sakura-park"
    with_attachments = survey(
        map_url=map_url,
        images=((jpeg(), AttachmentKind.IMAGE), (jpeg(600, 600), AttachmentKind.MAP)),
        pdf_attachments=(attached_pdf("添付 一枚目", "添付 二枚目"),))
    pdf, pages = pdf_of(render_personal_copies, circular=with_attachments,
                        households=[household(1), household(2)])
    texts = page_texts(pdf)
    per_copy = pages // 2
    assert pages == len(texts) and per_copy >= 3
    for copy in range(2):
        first, last = copy * per_copy, (copy + 1) * per_copy
        assert f"世帯番号 000{copy + 1}" in texts[first]
        assert "添付 一枚目" in texts[last - 2] and "添付 二枚目" in texts[last - 1]
        assert "切り取り線" in texts[last - 3]  # the slip ends the circular, then the PDF
    map_page = next(index for index, text in enumerate(texts) if map_url in text)
    assert map_url in decoded(pdf, map_page)
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)

    pdf, pages = pdf_of(render_packet, circular=with_attachments,
                        groups=[("1班", [household(1)]), ("2班", [household(2)])])
    texts = page_texts(pdf)
    packet = pages // 2
    for start in (0, packet):
        assert "添付 二枚目" in texts[start + packet - 2]
        assert "回覧板 順路表" in texts[start + packet - 1]  # the route sheet comes last
        assert f"{packet} / {packet}" in texts[start + packet - 1]


def test_characters_outside_the_font_are_listed_and_printed_as_geta() -> None:
    odd = survey(title="𠮷野家さんの会", body=BODY + "\n\n絵文字😀もあります",
                 questions=(Question("参加？", choices=("はい😀", "いいえ")),))
    households = [household(1, "𰻞 太郎")]
    assert unprintable_characters(odd) == ["𠮷", "😀"]
    assert unprintable_characters(odd, households=households) == ["𠮷", "😀", "𰻞"]
    assert unprintable_characters(survey()) == []
    pdf, _pages = pdf_of(render_personal_copies, circular=odd, households=households)
    text = page_texts(pdf)[0]
    assert f"{MISSING_MARK}野家さんの会" in text and f"{MISSING_MARK} 太郎 様" in text
    pdf, _pages = pdf_of(render_packet, circular=odd, groups=[("1班", households)])
    assert f"{MISSING_MARK} 太郎" in page_texts(pdf)[1]


def test_cancelling_leaves_no_file(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []

    def cancel(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 10:
            raise KeyboardInterrupt  # what a cancel button's exception stands for

    target = tmp_path / "copies.pdf"
    with pytest.raises(KeyboardInterrupt):
        render_personal_copies(target, circular=survey(),
                               households=[household(n) for n in range(1, 40)],
                               progress=cancel)
    assert seen[0] == (0, 39) and list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt):
        render_packet(target, circular=circular(), progress=cancel,
                      groups=[(f"{n}班", [household(n)]) for n in range(1, 20)])
    assert list(tmp_path.iterdir()) == []


def test_writes_a_path_and_reports_progress_to_the_end(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    target = tmp_path / "packet.pdf"
    pages = render_packet(target, circular=circular(), progress=lambda d, t: seen.append((d, t)),
                          groups=[("1班", [household(1)]), ("2班", [household(2)])])
    assert page_count(target) == pages == 4
    assert seen == [(0, 2), (1, 2), (2, 2)] and list(tmp_path.iterdir()) == [target]
    with pytest.raises(KairanError, match="does not exist"):
        render_packet(tmp_path / "missing" / "x.pdf", circular=circular(),
                      groups=[("1班", [household(1)])])


def test_nothing_to_print_is_a_clear_error() -> None:
    with pytest.raises(KairanError, match="on paper"):
        render_personal_copies(io.BytesIO(), circular=survey(), households=[])
    with pytest.raises(KairanError, match="no group"):
        render_packet(io.BytesIO(), circular=survey(), groups=[])
    with pytest.raises(KairanError, match="Attached PDF 1 could not be read"):
        render_packet(io.BytesIO(), circular=circular(pdf_attachments=(b"not a pdf",)),
                      groups=[("1班", [household(1)])])


# ---------------------------------------------------------------- from the association file


def test_loaded_from_the_association_file(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        town = build_town(session)
        circular_id = create_circular(session, data=CircularData(
            title="秋の一斉清掃", body=BODY, issued_on=date(2025, 10, 1), issuer="会長",
            ask=Ask.ATTENDANCE, deadline=date(2025, 10, 10),
            map_url="https://maps.example.jp/"))
        add_image(session, circular_id=circular_id, file_name="map.jpg", data=jpeg(),
                  kind=AttachmentKind.MAP)
        add_pdf(session, circular_id=circular_id, file_name="a.pdf",
                data=attached_pdf("添付の地図"))
        send_circular(session, circular_id=circular_id,
                      sent_at=datetime(2025, 10, 1, 9, tzinfo=UTC))
    with association_file.read() as session:
        printed = load_circular_print(session, circular_id=circular_id)
        groups = load_packet_groups(session, circular_id=circular_id)
        paper = load_paper_households(session, circular_id=circular_id)
        one_han = load_packet_groups(session, circular_id=circular_id, group_id=town.han1)
    assert printed.association == "桜町自治会" and printed.ask is Ask.ATTENDANCE
    assert [question.choices for question in printed.questions] == [ATTENDANCE_CHOICES]
    assert [kind for _data, kind in printed.images] == [AttachmentKind.MAP]
    assert len(printed.pdf_attachments) == 1
    assert [(name, [h.number for h in members]) for name, members in groups] == [
        ("1班", ["0003", "0001", "0002"]), ("2班", ["0004", "0005"]), ("3班", ["0006"]),
        ("", ["0008"])]
    assert [name for name, _members in one_han] == ["1班"]
    assert [h.number for h in paper] == ["0003", "0001", "0004", "0006", "0008"]
    assert paper[0].slip_code == slip_code(circular_id, "0003")
    assert paper[0].name == "世帯0003"

    pdf, _pages = pdf_of(render_packet, circular=printed, groups=groups)
    texts = page_texts(pdf)
    route = next(text for text in texts if "回覧板 順路表" in text and "1班" in text)
    order = [route.index(f"世帯{number}") for number in ("0003", "0001", "0002")]
    assert order == sorted(order)
    pdf, pages = pdf_of(render_personal_copies, circular=printed, households=paper[:1])
    slip_page = next(index for index, text in enumerate(page_texts(pdf))
                     if "切り取り線" in text)
    assert slip_code(circular_id, "0003") in decoded(pdf, slip_page)
    assert uuid.UUID(int=0) != circular_id and pages == page_count(pdf)

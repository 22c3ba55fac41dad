"""The circular body's markup and Japanese line breaking: blocks, 禁則, words kept whole."""

from __future__ import annotations

import pytest

from reports.pdf.fonts import GOTHIC, MINCHO, register_fonts
from reports.pdf.markup import (
    BlockKind,
    layout_body,
    parse_markup,
    text_width,
    wrap_text,
)
from reports.pdf.page import Typography

register_fonts()

BODY = """\
# 夏祭りのお知らせ
今年も夏祭りを開催します。
雨天中止です。

## 日時
- 8月10日（日）
・場所：桜町公園
1. 準備
   午後3時から
2) 片付け
１０．予備日

最後の段落。"""


def test_markup_becomes_blocks_with_typed_line_breaks_kept() -> None:
    blocks = parse_markup(BODY)
    assert [(block.kind, block.lines, block.label) for block in blocks] == [
        (BlockKind.HEADING, ("夏祭りのお知らせ",), ""),
        (BlockKind.PARAGRAPH, ("今年も夏祭りを開催します。", "雨天中止です。"), ""),
        (BlockKind.SUBHEADING, ("日時",), ""),
        (BlockKind.BULLET, ("8月10日（日）",), "・"),
        (BlockKind.BULLET, ("場所：桜町公園",), "・"),
        (BlockKind.NUMBERED, ("準備", "午後3時から"), "1."),  # continuation, indent dropped
        (BlockKind.NUMBERED, ("片付け",), "2."),
        (BlockKind.NUMBERED, ("予備日",), "10."),  # full-width number read
        (BlockKind.PARAGRAPH, ("最後の段落。",), ""),
    ]
    gaps = [block.gap_before for block in blocks]
    assert gaps == [False, False, True, False, False, False, False, False, True]


def test_windows_line_ends_and_empty_bodies() -> None:
    assert parse_markup("") == []
    assert parse_markup("\n\n  \n") == []
    assert [b.lines for b in parse_markup("一行目\r\n二行目\r\n\r\n次")] == [
        ("一行目", "二行目"), ("次",)]


def test_a_hash_without_a_space_is_text() -> None:
    (block,) = parse_markup("#タグ と 1.5倍")
    assert block.kind is BlockKind.PARAGRAPH


def _fits(lines: list[str], font: str, size: float, width: float) -> None:
    for line in lines:
        assert text_width(line, font, size) <= width + 1e-6, line


def test_closing_marks_never_start_a_line_and_opening_marks_never_end_one() -> None:
    size = 10.0
    text = "お知らせ。「夏祭り」は、公園（雨天中止）で行います。ご参加ください。" * 3
    for characters in range(6, 20):
        width = text_width("あ", MINCHO, size) * characters
        lines = wrap_text(text, font=MINCHO, size=size, width=width)
        assert "".join(lines) == text
        _fits(lines, MINCHO, size, width)
        for line in lines[1:]:
            assert line[0] not in "。、」）", (characters, lines)
        for line in lines[:-1]:
            assert line[-1] not in "「（", (characters, lines)


def test_latin_words_and_numbers_stay_whole_and_spaces_go_at_breaks() -> None:
    size = 10.0
    text = "会場は Sakura Community Hall です。受付は 12:30 から 2025年 です。"
    width = text_width("会場は Sakura Community", MINCHO, size) + 1
    lines = wrap_text(text, font=MINCHO, size=size, width=width)
    assert len(lines) >= 3
    for line in lines:
        assert not line.startswith(" ") and not line.endswith(" ")
    for word in ("Sakura", "Community", "Hall", "12:30", "2025年"):
        assert any(word in line for line in lines), (word, lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    _fits(lines, MINCHO, size, width)


def test_a_word_longer_than_the_line_is_cut_where_it_must_be() -> None:
    url = "https://example.jp/" + "a" * 200
    width = 150.0
    lines = wrap_text(f"詳しくは {url} をご覧ください", font=GOTHIC, size=10, width=width)
    assert "".join(lines).replace(" ", "") == f"詳しくは{url}をご覧ください"
    _fits(lines, GOTHIC, 10, width)
    assert len(lines) > 5


@pytest.mark.parametrize("large", [False, True])
def test_layout_keeps_every_line_inside_the_column(large: bool) -> None:
    typography = Typography(large=large)
    width = 300.0
    lines = layout_body(BODY + "\n\n" + "長い段落の文章です。" * 30, width=width,
                        typography=typography)
    for line in lines:
        assert line.x >= 0
        assert line.x + text_width(line.text, line.font, line.size) <= width + 1e-6
        assert line.advance >= line.height > 0
    heading = lines[0]
    assert heading.keep_with_next and heading.underline and heading.font == GOTHIC
    assert heading.size == typography.heading
    bullets = [line for line in lines if line.label == "・"]
    assert len(bullets) == 2 and all(line.x > line.label_x for line in bullets)
    numbered = [line for line in lines if line.label in ("1.", "2.", "10.")]
    assert len(numbered) == 3
    continuation = lines[lines.index(numbered[0]) + 1]
    assert continuation.text == "午後3時から" and continuation.label == ""
    assert continuation.x == numbered[0].x  # aligned with the item's text
    body_lines = [line for line in lines if line.font == MINCHO]
    assert all(line.size == typography.body for line in body_lines)

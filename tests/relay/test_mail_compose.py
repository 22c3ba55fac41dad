"""The mails' bytes, parsed back with the email package: headers, both charsets, what
ISO-2022-JP cannot carry, the excerpt, the links, the line lengths, determinism."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

import pytest

from sync.relay.mail.compose import (
    SUBJECT_LIMIT,
    MailContent,
    compose,
    envelope_address,
    jis_safe,
    subject,
    wrap,
)
from sync.relay.mail.settings import Charset

BASE = "https://relay.example.jp"
FROM = "kairan@relay.example.jp"
QUEUED = datetime(2025, 7, 1, 3, 4, 5, tzinfo=UTC)


def content(**changes: object) -> MailContent:
    values: dict[str, object] = {
        "message_id": "<7b1f0c1e-0000-4000-8000-000000000001@relay.example.jp>",
        "address": "taro@example.jp", "kind": "circular", "link_token": "7G3KQ9ZP2M",
        "association_name": "桜町自治会", "queued_at": QUEUED, "title": "夏祭りのお知らせ",
        "body": "7月20日（日）に夏祭りを行います。\n\n会場は公民館前の広場です。\n雨天中止。",
        "ask": "attendance", "deadline": "2025-07-10",
    }
    values.update(changes)
    return MailContent(**values)  # type: ignore[arg-type]


def mail(charset: Charset = Charset.ISO_2022_JP, **changes: object) -> tuple[bytes, Message]:
    raw = compose(content(**changes), from_address=FROM, charset=charset, base_url=BASE)
    return raw, message_from_bytes(raw)


def header(message: Message, name: str) -> str:
    return str(make_header(decode_header(message[name])))


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    charset = message.get_content_charset()
    assert charset is not None
    return payload.decode("iso2022_jp" if charset == "iso-2022-jp" else charset)


def test_an_iso_2022_jp_mail_reads_back_whole() -> None:
    raw, message = mail()
    assert raw.isascii()  # 7-bit all through: any phone and any relay carries it
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 998 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends only
    # Each body line returns to ASCII before its line end (RFC 1468).
    for line in lines:
        escapes = re.findall(rb"\x1b[$(][@BJ]", line)
        assert not escapes or escapes[-1] == b"\x1b(B"

    assert message["Subject"].startswith("=?ISO-2022-JP?B?")
    name, address = parseaddr(header(message, "From"))
    assert (name, address) == ("桜町自治会", FROM)
    assert message["To"] == "taro@example.jp"
    assert header(message, "Subject") == "【要返信】夏祭りのお知らせ"
    assert message["Message-ID"] == "<7b1f0c1e-0000-4000-8000-000000000001@relay.example.jp>"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "iso-2022-jp"
    assert message["Content-Transfer-Encoding"] == "7bit"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] == f"<{BASE}/k/7G3KQ9ZP2M/stop>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    sent = parsedate_to_datetime(message["Date"])
    assert sent == QUEUED and sent.utcoffset() is not None
    assert message["Date"].endswith("+0900")  # shown in Japanese time

    text = text_of(message)
    assert "桜町自治会からの回覧です。" in text
    assert "■夏祭りのお知らせ" in text
    assert "7月20日（日）に夏祭りを行います。" in text and "雨天中止。" in text
    assert "出欠の回答をお願いします。" in text and "締切：7月10日（木）" in text
    body_lines = text.split("\r\n")
    assert f"{BASE}/k/7G3KQ9ZP2M" in body_lines  # the personal link alone on its line
    assert f"{BASE}/k/7G3KQ9ZP2M/stop" in body_lines
    assert "（続きはリンク先でご覧ください）" not in text  # the whole body fitted


def test_a_utf8_mail_carries_every_character() -> None:
    raw, message = mail(Charset.UTF_8, title="🎉髙橋さんの～会①", body="ｶﾞｰﾃﾞﾝ 🎉 café")
    assert raw.isascii()
    assert message.get_content_charset() == "utf-8"
    assert message["Content-Transfer-Encoding"] == "base64"
    assert header(message, "Subject") == "【要返信】🎉髙橋さんの～会①"
    text = text_of(message)
    assert "ｶﾞｰﾃﾞﾝ 🎉 café" in text
    assert all(len(line) <= 76 for line in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))
    base64.b64decode(raw.split(b"\r\n\r\n", 1)[1])  # valid base64


def test_what_iso_2022_jp_cannot_carry_becomes_its_stand_in() -> None:
    assert jis_safe("～①髙﨑ｶﾞｰﾃﾞﾝ") == "〜(1)高崎ガーデン"
    assert jis_safe("café 🎉 ㈱") == "cafe 〓 (株)"
    assert jis_safe("普通の文章です。") == "普通の文章です。"
    _raw, message = mail(title="髙橋さん～①🎉", body="ｶﾞｰﾃﾞﾝ・パーティー🍺のお知らせ")
    assert header(message, "Subject") == "【要返信】高橋さん〜(1)〓"
    text = text_of(message)  # decodes strictly: every character was carried
    assert "ガーデン・パーティー〓のお知らせ" in text


def test_the_subject_is_short_and_says_when_a_reply_is_asked() -> None:
    assert subject(content(ask="nothing")) == "夏祭りのお知らせ"
    assert subject(content(ask="read")).startswith("【要返信】")
    assert subject(content(ask="survey")).startswith("【要返信】")
    long = subject(content(title="令和七年度" * 20))
    assert len(long) == SUBJECT_LIMIT and long.endswith("…") and long.startswith("【要返信】")
    assert subject(content(kind="safety", title="")) == "【要返信】安否確認のお願い"
    assert subject(content(title="改行\nのある\t題")) == "【要返信】改行 のある 題"


def test_only_the_first_lines_of_a_long_circular_are_quoted() -> None:
    body = "\n".join(f"{n}行目の文章です。" for n in range(1, 30))
    text = text_of(mail(body=body)[1])
    assert "5行目の文章です。" in text and "6行目の文章です。" not in text
    assert "（続きはリンク先でご覧ください）" in text
    one_long_line = text_of(mail(body="あ" * 500)[1])
    assert one_long_line.count("あ") == 200  # about two hundred characters at most


def test_lines_are_wrapped_for_small_screens_but_links_never() -> None:
    assert wrap("あ" * 80) == ["あ" * 35, "あ" * 35, "あ" * 10]
    assert wrap("a" * 80) == ["a" * 70, "a" * 10]
    long_base = "https://relay.example.jp/" + "x" * 90
    raw = compose(content(body="い" * 150), from_address=FROM, charset=Charset.ISO_2022_JP,
                  base_url=long_base)
    text = text_of(message_from_bytes(raw))
    assert f"{long_base}/k/7G3KQ9ZP2M" in text.split("\r\n")
    assert max(len(line) for line in text.split("\r\n") if not line.startswith("http")) <= 70


def test_a_resend_and_a_plain_notice_say_so() -> None:
    text = text_of(mail(round=1, ask="nothing", deadline=None)[1])
    assert "まだ読まれていないため、もう一度お送りします。" in text
    assert "▼全文を読む" in text and "締切" not in text and "回答" not in text


def test_the_safety_check_mail() -> None:
    raw, message = mail(kind="safety", title="", body="", ask="nothing",
                        disaster_message="大雨のため避難指示が出ています。\n公民館が避難所です。")
    text = text_of(message)
    assert "桜町自治会です。" in text and "安否確認" in text
    assert "大雨のため避難指示が出ています。" in text and "公民館が避難所です。" in text
    assert "▼安否を答える" in text and f"{BASE}/k/7G3KQ9ZP2M" in text.split("\r\n")
    assert raw.isascii()


def test_the_same_row_gives_the_same_bytes() -> None:
    first = compose(content(), from_address=FROM, charset=Charset.ISO_2022_JP, base_url=BASE)
    again = compose(content(), from_address=FROM, charset=Charset.ISO_2022_JP, base_url=BASE)
    assert first == again


def test_an_ascii_association_name_is_quoted() -> None:
    _raw, message = mail(association_name='Sakura "East", Block 2')
    assert parseaddr(message["From"]) == ('Sakura "East", Block 2', FROM)


def test_envelope_addresses() -> None:
    assert envelope_address("taro@example.jp") == "taro@example.jp"
    assert envelope_address("taro@例え.jp") == "taro@xn--r8jz45g.jp"
    with pytest.raises(ValueError, match="not ASCII"):
        envelope_address("たろう@example.jp")

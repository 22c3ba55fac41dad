"""The bytes of one mail: a short plain-text notice with the household's personal link.

Written for the phones residents actually have, feature phones included: a short subject
(【要返信】 first when an answer is asked), ``text/plain`` only, lines of at most 35 full-width
characters, the title and the first lines of the circular, the personal link
``BASE/k/TOKEN`` on a line of its own and the stop link ``BASE/k/TOKEN/stop``, which is also
the ``List-Unsubscribe`` header. The charset is the operator's choice: ISO-2022-JP (7-bit, what
every Japanese phone reads) or UTF-8 (base64).

ISO-2022-JP carries JIS X 0208 only. A character outside it becomes its usual stand-in
(``～`` → ``〜``, ``髙`` → ``高``, ``①`` → ``(1)``, half-width kana → full-width), else
``〓`` (the customary mark for a missing kanji) for a wide character and ``?`` for a narrow
one: the mail always goes out, and the link shows the exact text.

The same row always gives the same bytes (the Date is the moment the mail was queued, nothing
random), so a mail resent after a crash is the very same mail under the same Message-ID.

The words of the mail are the residents', in Japanese, kept here beside the layout like the
resident pages keep theirs in :mod:`sync.relay.resident_text` (not in the office's ja.po: the
relay's operator may run the command line in English, the mails stay Japanese).
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

from sync.relay.mail.settings import Charset

JST = timezone(timedelta(hours=9), "JST")  # Japan keeps no daylight saving time
SUBJECT_LIMIT = 30  # characters a feature phone shows of a subject without scrolling
LINE_WIDTH = 70  # display columns: 35 full-width characters, the customary mail line
EXCERPT_LINES = 5  # lines of the circular's body quoted in the mail
EXCERPT_CHARS = 200
REPLY_MARK = "【要返信】"
WEEKDAYS = "月火水木金土日"
ASKS_A_REPLY = ("read", "attendance", "survey")

# What ISO-2022-JP cannot carry, mapped to what Japanese readers take for the same thing
# (the Windows forms of JIS characters, common variant kanji, circled numbers).
_STAND_INS: dict[str, str] = {
    "～": "〜", "－": "−", "—": "―", "∥": "‖", "￠": "¢", "￡": "£", "￢": "¬",
    "髙": "高", "﨑": "崎", "德": "徳", "槗": "橋", "瀨": "瀬", "\U00020bb7": "吉",
    "№": "No.", "℡": "TEL", "㈱": "(株)", "㈲": "(有)",
}
_STAND_INS.update({chr(0x2460 + n): f"({n + 1})" for n in range(20)})  # ①..⑳


@dataclass(frozen=True, slots=True, kw_only=True)
class MailContent:
    """What one mail says, from its ``mail_message`` row and what it carries."""

    message_id: str
    address: str
    kind: str  # circular | safety
    link_token: str
    association_name: str
    queued_at: datetime
    round: int = 0
    title: str = ""
    body: str = ""
    ask: str = "nothing"
    deadline: str | None = None  # ISO date
    disaster_message: str = ""

    @property
    def asks_reply(self) -> bool:
        """Whether the household is asked to answer (the subject then says 要返信)."""
        return self.kind == "safety" or self.ask in ASKS_A_REPLY


# ------------------------------------------------------------------ characters


def _encodable(text: str) -> bool:
    try:
        text.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return True


def _stand_in(char: str) -> str:
    if char in _STAND_INS:
        return _STAND_INS[char]
    folded = unicodedata.normalize("NFKC", char)
    if folded != char and _encodable(folded):
        return folded
    # A Latin letter with an accent keeps its letter (é → e).
    bare = "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c))
    if bare and bare != char and _encodable(bare):
        return bare
    return "〓" if unicodedata.east_asian_width(char) in ("W", "F") else "?"


def jis_safe(text: str) -> str:
    """``text`` with every character ISO-2022-JP cannot carry replaced by its stand-in."""
    if _encodable(text):
        return text
    out: list[str] = []
    pending: list[str] = []  # characters without a listed stand-in, folded together

    def flush() -> None:
        # Folded as a run, so that half-width カ + ﾞ become ガ rather than カ and a lone mark.
        folded = unicodedata.normalize("NFKC", "".join(pending))
        out.extend(c if _encodable(c) else _stand_in(c) for c in folded)
        pending.clear()

    for char in text:
        if _encodable(char) or char in _STAND_INS:
            flush()
            out.append(_STAND_INS.get(char, char))
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F", "A") else 1


def wrap(line: str, width: int = LINE_WIDTH) -> list[str]:
    """``line`` cut into pieces of at most ``width`` display columns (Japanese has no spaces
    to break at, so a piece ends where the width runs out)."""
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for char in line:
        step = _width(char)
        if current and used + step > width:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += step
    pieces.append("".join(current))
    return pieces


def shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with … when longer."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:max(0, limit - 1)] + "…"


def excerpt(body: str) -> tuple[list[str], bool]:
    """The first lines of ``body`` (blank lines dropped, at most :data:`EXCERPT_LINES` lines
    and :data:`EXCERPT_CHARS` characters) and whether anything was left out."""
    lines = [" ".join(raw.split()) for raw in body.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    taken: list[str] = []
    budget = EXCERPT_CHARS
    for line in lines:
        if len(taken) == EXCERPT_LINES or budget <= 0:
            return taken, True
        if len(line) > budget:
            taken.append(line[:budget] + "…")
            return taken, True
        taken.append(line)
        budget -= len(line)
    return taken, False


def _day(value: str | None) -> str | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


# ------------------------------------------------------------------ the text


def subject(content: MailContent) -> str:
    """The subject: 【要返信】 first when an answer is asked, at most :data:`SUBJECT_LIMIT`
    characters in all."""
    mark = REPLY_MARK if content.asks_reply else ""
    title = "安否確認のお願い" if content.kind == "safety" else content.title
    return mark + shorten(title, SUBJECT_LIMIT - len(mark))


def links(content: MailContent, base_url: str) -> tuple[str, str]:
    """The personal link and the stop link of this mail."""
    personal = f"{base_url}/k/{content.link_token}"
    return personal, f"{personal}/stop"


_ASK_LINES = {
    "nothing": ("", "▼全文を読む"),
    "read": ("読んだら「読みました」を押してください。", "▼全文を読む・既読を送る"),
    "attendance": ("出欠の回答をお願いします。", "▼全文を読む・出欠を答える"),
    "survey": ("アンケートへの回答をお願いします。", "▼全文を読む・回答する"),
}


def text_lines(content: MailContent, base_url: str) -> list[str]:
    """The body of the mail, line by line, before wrapping and encoding."""
    personal, stop = links(content, base_url)
    name = shorten(content.association_name, 40)
    lines: list[str] = []
    if content.kind == "safety":
        lines += [f"{name}です。", "災害時の安否確認にご協力ください。"]
        if content.disaster_message.strip():
            quoted, more = excerpt(content.disaster_message)
            lines += ["", *quoted, *(["…"] if more else [])]
        lines += ["", "ご家族の様子（無事・連絡がほしい・至急支援が必要）を",
                  "下のリンクから送ってください。", "▼安否を答える", personal]
    else:
        lines.append(f"{name}からの回覧です。")
        if content.round > 0:
            lines.append("まだ読まれていないため、もう一度お送りします。")
        quoted, more = excerpt(content.body)
        lines += ["", f"■{shorten(content.title, 60)}", *quoted]
        if more:
            lines.append("（続きはリンク先でご覧ください）")
        request, label = _ASK_LINES.get(content.ask, _ASK_LINES["nothing"])
        deadline = _day(content.deadline)
        lines.append("")
        if request:
            lines.append(request)
        if deadline and content.asks_reply:
            lines.append(f"締切：{deadline}")
        lines += [label, personal]
    lines += ["", "――――", "このお知らせのメールを止めるには：", stop]
    return lines


# ------------------------------------------------------------------ the bytes


def _encoded_word(text: str, charset: Charset) -> str:
    if text.isascii():
        return text
    if charset is Charset.ISO_2022_JP:
        # Spelt as Japanese mailers write it: the oldest phones compare the label as text.
        encoded = Header(jis_safe(text), "iso-2022-jp").encode(maxlinelen=76)
        return encoded.replace("=?iso-2022-jp?b?", "=?ISO-2022-JP?B?")
    return Header(text, "utf-8").encode(maxlinelen=76)


def _display_name(name: str) -> str:
    # An ASCII name is quoted (it may hold commas or dots); others travel as encoded words.
    if name.isascii():
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def envelope_address(address: str) -> str:
    """``address`` as SMTP carries it: the domain in its ASCII (IDNA) form; ValueError when
    the part before the @ is not ASCII (SMTP without SMTPUTF8 cannot carry it)."""
    local, _at, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError("the part before @ is not ASCII")
    return f"{local}@{domain if domain.isascii() else domain.encode('idna').decode('ascii')}"


def compose(content: MailContent, *, from_address: str, charset: Charset,
            base_url: str) -> bytes:
    """The whole mail (headers and body, CRLF line ends) as it is handed to the SMTP server."""
    personal_stop = links(content, base_url)[1]
    name = shorten(content.association_name, 40)
    lines: list[str] = []
    for line in text_lines(content, base_url):
        lines += wrap(line) if not line.startswith("http") else [line]
    headers = [
        f"From: {_encoded_word(_display_name(name), charset)} <{from_address}>",
        f"To: {envelope_address(content.address)}",
        f"Subject: {_encoded_word(subject(content), charset)}",
        f"Date: {format_datetime(content.queued_at.astimezone(JST))}",
        f"Message-ID: {content.message_id}",
        "MIME-Version: 1.0",
        # Automatic mail: vacation responders stay quiet (RFC 3834).
        "Auto-Submitted: auto-generated",
        f"List-Unsubscribe: <{personal_stop}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",  # RFC 8058: the stop link's POST
    ]
    if charset is Charset.ISO_2022_JP:
        # Each line is encoded on its own, so it ends back in ASCII before its CRLF (RFC 1468).
        body = b"".join(jis_safe(line).encode("iso2022_jp") + b"\r\n" for line in lines)
        headers += ["Content-Type: text/plain; charset=ISO-2022-JP",
                    "Content-Transfer-Encoding: 7bit"]
    else:
        raw = "".join(line + "\r\n" for line in lines).encode("utf-8")
        encoded = base64.encodebytes(raw).decode("ascii").replace("\n", "\r\n")
        body = encoded.encode("ascii")
        headers += ["Content-Type: text/plain; charset=UTF-8",
                    "Content-Transfer-Encoding: base64"]
    head = "".join(header.replace("\n", "\r\n") + "\r\n" for header in headers)
    return head.encode("ascii") + b"\r\n" + body

"""The words of the personal-link pages (``/k/TOKEN``) in Japanese and English.

Only what these pages say that the resident page does not: everything else (the safety check,
answers, errors) is looked up in :mod:`sync.relay.resident_text`, so one form reads the same
wherever a resident opens it. Both languages have the same keys and placeholders
(tests/relay/test_mail_links.py checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from sync.relay.resident_text import CATALOGUES as RESIDENT_CATALOGUES
from sync.relay.resident_text import language_of

JA: Final[Mapping[str, str]] = {
    "link_invalid_title": "リンクが使えません",
    "link_invalid": "このリンクは使えなくなりました。お知らせの内容や回答については、"
                    "町内会の役員（班長・会長）にお尋ねください。",
    "link_withdrawn": "このお知らせは取り下げられました。詳しくは町内会の役員にお尋ねください。",
    "link_safety_closed": "安否確認は終了しました。ご協力ありがとうございました。",
    "link_too_many": "短い間に何度も開かれました。{seconds}秒ほど待ってから、"
                     "もう一度お試しください。",
    "link_stop": "メールの配信を停止する",
    "stop_title": "メールの配信停止",
    "stop_intro": "{name} 様あてのお知らせメールを、すべてのアドレスについて停止します。"
                  "停止すると、お知らせは紙の回覧などで届きます。",
    "stop_submit": "配信を停止する",
    "stop_done": "メールの配信を停止しました。再開したいときは、町内会の役員にお申し出ください。",
    "stop_already": "この世帯へのメールは、すでに停止しています。",
    "back_to_notice": "お知らせに戻る",
}

EN: Final[Mapping[str, str]] = {
    "link_invalid_title": "This link does not work",
    "link_invalid": "This link is no longer valid. For the notice or your answer, please ask "
                    "your neighbourhood association's officers (your group leader or the "
                    "chair).",
    "link_withdrawn": "This notice was withdrawn. Please ask your association's officers for "
                      "details.",
    "link_safety_closed": "The safety check has ended. Thank you for your help.",
    "link_too_many": "Opened too often in a short time. Please wait about {seconds} seconds "
                     "and try again.",
    "link_stop": "Stop these e-mails",
    "stop_title": "Stop the e-mails",
    "stop_intro": "This stops the association's e-mails to the {name} household, at every "
                  "address. Notices will then reach you on paper.",
    "stop_submit": "Stop the e-mails",
    "stop_done": "The e-mails are stopped. To have them again, ask your association's "
                 "officers.",
    "stop_already": "E-mails to this household are already stopped.",
    "back_to_notice": "Back to the notice",
}

CATALOGUES: Final[Mapping[str, Mapping[str, str]]] = {"ja": JA, "en": EN}


def text(language: str, key: str, **fields: object) -> str:
    """The string ``key`` in ``language`` (these pages' own words first, then the resident
    page's) with its ``{placeholders}`` filled from ``fields``."""
    chosen = language_of(language)
    template = CATALOGUES[chosen].get(key) or RESIDENT_CATALOGUES[chosen][key]
    return template.format(**fields) if fields else template

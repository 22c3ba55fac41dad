"""Every visible string of the resident page, in Japanese (the default) and English.

The relay serves residents' phones, not the office program, so its words live here rather than
in the desktop's ``ja.po``: one dict per language, keyed by a short name. Placeholders such as
``{name}`` are filled with :func:`text`; both languages must have the same keys and the same
placeholders (tests/relay/test_residents.py checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

LANGUAGES: Final = ("ja", "en")
DEFAULT_LANGUAGE: Final = "ja"

JA: Final[Mapping[str, str]] = {
    "site_title": "町内会のお知らせ",
    "household": "{name} 様",
    "logout": "ログアウト",
    "purpose_title": "個人情報の利用目的",
    "logged_out": "ログアウトしました。",
    "join_title": "招待コードの入力",
    "join_intro": "町内会から届いた招待状のコードを入力して「はじめる」を押してください。"
                  "QRコードを読み取った場合は、コードが入っていますので、そのまま押してください。",
    "join_code": "招待コード",
    "join_submit": "はじめる",
    "join_unknown": "このコードは使えません。招待状の文字を確かめてもう一度入力するか、"
                    "町内会の役員にお問い合わせください。",
    "join_full": "この世帯ではすでに{limit}台の端末が使われています。使わなくなった端末で"
                 "ログアウトするか、役員に新しい招待コードを頼んでください。",
    "join_throttled": "まちがったコードの入力が続いたため、しばらく受け付けません。"
                      "{minutes}分ほどしてから、もう一度お試しください。",
    "join_needed": "お知らせを見るには、招待コードを入力してください。",
    "form_expired": "画面の有効期限が切れました。もう一度やり直してください。",
    "too_many": "短い間に何度も送信されました。{seconds}秒ほど待ってから、もう一度お試しください。",
    "notices": "お知らせ",
    "no_notices": "今はお知らせはありません。",
    "unread": "未読",
    "answered": "回答済み",
    "please_answer": "回答をお願いします",
    "deadline": "締切 {date}",
    "issued_on": "発行日 {date}",
    "issuer": "発行 {issuer}",
    "back": "一覧に戻る",
    "not_found": "このお知らせは取り下げられたか、見つかりません。",
    "page_not_found": "ページが見つかりません。",
    "confirm_read": "読みました",
    "read_confirmed": "確認済み（{when}）",
    "your_answer": "お宅の回答（{when}）",
    "send": "送信する",
    "change_answer": "回答を変更して送信する",
    "answer_saved": "回答を送信しました。ありがとうございました。",
    "answer_missing": "「{question}」に答えてください。",
    "answer_too_long": "回答が長すぎます（{limit}文字まで）。",
    "answer_invalid": "選べない回答です。もう一度選んでください。",
    "attendance": "出欠",
    "attend": "出席",
    "absent": "欠席",
    "meetings": "総会",
    "meeting_held_on": "開催日 {date}",
    "meeting_agenda": "議案",
    "meeting_form": "出欠・委任・書面議決",
    "meeting_attend": "出席します",
    "meeting_absent": "欠席します",
    "meeting_proxy": "欠席し、委任します",
    "meeting_written": "欠席し、書面で議決します",
    "meeting_proxy_to": "委任する人の名前（空欄なら議長に委任）",
    "meeting_written_hint": "書面で議決する場合は、すべての議案に賛成・反対・棄権の"
                            "どれかを選んでください。",
    "meeting_written_missing": "書面議決では、すべての議案に賛成・反対・棄権の"
                               "どれかを選んでください。",
    "meeting_choose": "出席・欠席・委任・書面議決のどれかを選んでください。",
    "vote_for": "賛成",
    "vote_against": "反対",
    "vote_abstain": "棄権",
    "meeting_paper_only": "この総会の出欠・委任・書面議決は、紙の用紙でお願いします。",
    "meeting_closed": "受付は締め切りました。",
    "meeting_answer_attend": "出席",
    "meeting_answer_absent": "欠席",
    "meeting_answer_proxy": "委任（{holder}）",
    "meeting_answer_written": "書面議決",
    "chair": "議長",
    "disaster_mode": "災害モード",
    "safety_title": "安否確認",
    "safety_question": "お宅の状況を選んでください",
    "safety_ok": "問題なし",
    "safety_ok_hint": "全員無事です",
    "safety_contact": "連絡要",
    "safety_contact_hint": "連絡がほしい・少し困っている",
    "safety_urgent": "至急支援要",
    "safety_urgent_hint": "すぐに助けが必要です",
    "safety_needs_help": "家に手助けが必要な人がいる（高齢・障害・けが・乳幼児など）",
    "safety_note": "伝えたいこと（任意）",
    "safety_saved": "安否を送信しました。状況が変わったら、もう一度送信してください。",
    "safety_last": "前回の回答：{status}（{when}）",
    "safety_choose": "お宅の状況を選んでください。",
    "other_notices": "そのほかのお知らせ",
}

EN: Final[Mapping[str, str]] = {
    "site_title": "Neighbourhood association notices",
    "household": "{name} household",
    "logout": "Log out",
    "purpose_title": "How the association uses your information",
    "logged_out": "You have logged out.",
    "join_title": "Enter your invitation code",
    "join_intro": "Type the code from the invitation your association gave you and press "
                  "Start. If you scanned the QR code, the code is already filled in: just "
                  "press Start.",
    "join_code": "Invitation code",
    "join_submit": "Start",
    "join_unknown": "This code does not work. Check the letters on your invitation and try "
                    "again, or ask your association's office.",
    "join_full": "{limit} phones already use this household's code. Log out on one you no "
                 "longer use, or ask the office for a new invitation code.",
    "join_throttled": "Too many wrong codes were typed. Please try again in about {minutes} "
                      "minutes.",
    "join_needed": "To see the notices, please enter your invitation code.",
    "form_expired": "This page has expired. Please try again.",
    "too_many": "Sent too often in a short time. Please wait about {seconds} seconds and try "
                "again.",
    "notices": "Notices",
    "no_notices": "There are no notices right now.",
    "unread": "Unread",
    "answered": "Answered",
    "please_answer": "Please answer",
    "deadline": "Due {date}",
    "issued_on": "Issued {date}",
    "issuer": "From {issuer}",
    "back": "Back to the list",
    "not_found": "This notice was withdrawn or cannot be found.",
    "page_not_found": "Page not found.",
    "confirm_read": "I have read this",
    "read_confirmed": "Confirmed ({when})",
    "your_answer": "Your household's answer ({when})",
    "send": "Send",
    "change_answer": "Change and send again",
    "answer_saved": "Your answer was sent. Thank you.",
    "answer_missing": "Please answer “{question}”.",
    "answer_too_long": "The answer is too long (at most {limit} characters).",
    "answer_invalid": "That answer is not one of the choices. Please choose again.",
    "attendance": "Attendance",
    "attend": "Attend",
    "absent": "Absent",
    "meetings": "General meetings",
    "meeting_held_on": "Held on {date}",
    "meeting_agenda": "Agenda",
    "meeting_form": "Attendance, proxy or written vote",
    "meeting_attend": "I will attend",
    "meeting_absent": "I will not attend",
    "meeting_proxy": "I will not attend and give my proxy",
    "meeting_written": "I will not attend and vote in writing",
    "meeting_proxy_to": "Name of the person you give your proxy to (empty: the chair)",
    "meeting_written_hint": "To vote in writing, choose For, Against or Abstain on every item.",
    "meeting_written_missing": "For a written vote, choose For, Against or Abstain on every "
                               "item.",
    "meeting_choose": "Please choose attend, absent, proxy or written vote.",
    "vote_for": "For",
    "vote_against": "Against",
    "vote_abstain": "Abstain",
    "meeting_paper_only": "Please use the paper forms for this meeting's attendance, proxy "
                          "and written vote.",
    "meeting_closed": "Answers are closed.",
    "meeting_answer_attend": "Attending",
    "meeting_answer_absent": "Absent",
    "meeting_answer_proxy": "Proxy ({holder})",
    "meeting_answer_written": "Written vote",
    "chair": "the chair",
    "disaster_mode": "Disaster mode",
    "safety_title": "Safety check",
    "safety_question": "How is your household?",
    "safety_ok": "No problem",
    "safety_ok_hint": "Everyone is safe",
    "safety_contact": "Please contact us",
    "safety_contact_hint": "We would like a call or a visit",
    "safety_urgent": "Urgent help needed",
    "safety_urgent_hint": "We need help now",
    "safety_needs_help": "Someone at home needs help (elderly, disabled, injured, infants…)",
    "safety_note": "Anything to tell us (optional)",
    "safety_saved": "Your answer was sent. If things change, please send again.",
    "safety_last": "Last answer: {status} ({when})",
    "safety_choose": "Please choose how your household is.",
    "other_notices": "Other notices",
}

CATALOGUES: Final[Mapping[str, Mapping[str, str]]] = {"ja": JA, "en": EN}


def language_of(requested: str | None) -> str:
    """``requested`` when it is a language of the page, else Japanese."""
    return requested if requested is not None and requested in CATALOGUES \
        else DEFAULT_LANGUAGE


def text(language: str, key: str, **fields: object) -> str:
    """The string ``key`` in ``language`` with its ``{placeholders}`` filled from ``fields``."""
    template = CATALOGUES[language_of(language)][key]
    return template.format(**fields) if fields else template

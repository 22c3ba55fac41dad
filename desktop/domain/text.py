"""Japanese text normalisation: search keys, furigana, 50音順 sort keys and contact fields.

Everything here is pure and fast: the translation tables are built once at import so the
per-call work is a couple of C-level passes (``unicodedata.normalize``, ``str.translate``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "EMPTY_SORT_KEY",
    "fold_for_search",
    "has_kanji",
    "hiragana_to_katakana",
    "is_kana_reading",
    "is_plausible_email",
    "is_plausible_phone",
    "kana_sort_key",
    "katakana_to_hiragana",
    "normalise_furigana",
    "normalise_postal_code",
    "phone_digits",
]

# Sorts after every key made from real text, so rows without furigana come last.
EMPTY_SORT_KEY = "\uffff"

_LONG_VOWEL = "\u30fc"  # ー: meaningful in readings, so it is never dropped

# Hyphen and dash look-alikes people type interchangeably in names, addresses and numbers.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\ufe63\u2043\ufe58"

# Every character str.isspace() accepts, plus the invisible ones pasted from web pages.
_SPACES = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\u200b\u200c\u200d\u2060\ufeff"
)


def _katakana_to_hiragana_map() -> dict[int, int]:
    # ァ..ヴ (U+30A1..U+30F4) sit exactly 0x60 above ぁ..ゔ.
    table = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F5)}
    # Small ヵ/ヶ are read か/が (一ヶ月, 霞ヶ関); the large hiragana keeps 霞ヶ関 == 霞ケ関.
    table[0x30F5] = ord("か")
    table[0x30F6] = ord("け")
    table[0x3095] = ord("か")  # ゕ
    table[0x3096] = ord("け")  # ゖ
    table[0x30FD] = 0x309D  # ヽ -> ゝ
    table[0x30FE] = 0x309E  # ヾ -> ゞ
    return table


_KATA_TO_HIRA: dict[int, int] = _katakana_to_hiragana_map()

_SEARCH_TABLE: dict[int, int | None] = dict(_KATA_TO_HIRA)
_SEARCH_TABLE.update({ord(c): None for c in _DASHES + _SPACES})

_HIRA_TO_KATA: dict[int, int] = {cp: cp + 0x60 for cp in range(0x3041, 0x3097)}

# First sort level: voiced/semi-voiced and small kana collapse onto their plain large kana.
_PLAIN = {
    "がぎぐげご": "かきくけこ",
    "ざじずぜぞ": "さしすせそ",
    "だぢづでど": "たちつてと",
    "ばびぶべぼ": "はひふへほ",
    "ぱぴぷぺぽ": "はひふへほ",
    "ぁぃぅぇぉ": "あいうえお",
    "っゃゅょゎ": "つやゆよわ",
    "ゔゕゖゞ": "うかけゝ",
}
_PRIMARY_TABLE: dict[int, int | None] = {
    ord(src): ord(dst)
    for group, plain in _PLAIN.items()
    for src, dst in zip(group, plain, strict=True)
}
_PRIMARY_TABLE.update({ord(c): None for c in _SPACES + "\u30fb\uff65"})  # spaces and ・
_PRIMARY_TABLE.update({cp: None for cp in range(0x20)})  # keep "\x00" free as the separator

# The vowel ー stands for after each (plain) kana, as a dictionary sorts らーめん as らあめん.
_VOWEL_OF: dict[str, str] = {
    kana: vowel
    for vowel, row in (
        ("あ", "あかさたなはまやらわ"),
        ("い", "いきしちにひみりゐ"),
        ("う", "うくすつぬふむゆる"),
        ("え", "えけせてねへめれゑ"),
        ("お", "おこそとのほもよろを"),
    )
    for kana in row
}

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACE_RUN = re.compile(f"[{_SPACES}]+")

_KANA_READING = re.compile(
    "(?=.*[\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fd\u30fe\u31f0-\u31ff\uff66-\uff6f\uff71-\uff9d])"
    "[\u3041-\u3096\u3099-\u309e\u30a1-\u30fe\u31f0-\u31ff\uff65-\uff9f \u3000]+",
    re.DOTALL,
)
_KANJI = re.compile("[\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")

# In a postal code or phone number the long vowel mark (and its half-width form) is a dash
# typed by a Japanese input method, never a vowel.
_NUMBER_DASHES = _DASHES + "ー\uff70"
_POSTAL_NOISE = re.compile(f"[〒\\s{re.escape(_NUMBER_DASHES)}]")
_PHONE_NOISE = re.compile(f"[()\\s{re.escape(_NUMBER_DASHES)}]")
_ASCII_DIGITS = re.compile("[0-9]+")
_NON_DIGITS = re.compile("[^0-9]+")
_PHONE = re.compile("0[0-9]{9,10}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def fold_for_search(text: str) -> str:
    """Return the key compared by search-as-you-type.

    NFKC (full/half width), case folding, katakana as hiragana, and no spaces or dashes, so
    "ﾀﾅｶ", "タナカ" and "たなか" match, as do "03-1234" and "031234". ー is kept: it is part
    of the reading (コーノ is not コノ).
    """
    if text.isascii():
        return text.lower().translate(_SEARCH_TABLE)
    return unicodedata.normalize("NFKC", text).casefold().translate(_SEARCH_TABLE)


def is_kana_reading(text: str) -> bool:
    """Tell whether ``text`` looks like furigana: kana (any width), ー, ・ and spaces only."""
    return _KANA_READING.fullmatch(text) is not None


def normalise_furigana(text: str) -> str:
    """Return furigana as it should be stored: full-width, trimmed, single ASCII spaces.

    Hiragana and katakana are kept as the officer wrote them.
    """
    return _SPACE_RUN.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def kana_sort_key(furigana: str) -> str:
    """Return a key that sorts readings in 50音順 with plain binary comparison.

    The key is ``primary + "\\x00" + secondary``. The primary level ignores dakuten,
    handakuten, small kana, spaces and ・, and reads ー as the vowel before it (JIS X 4061
    style); the secondary level is the exact hiragana form, so かとう < がとう < かねこ.
    Characters that are not kana keep their code-point order. An empty reading returns
    ``EMPTY_SORT_KEY`` so it sorts last.
    """
    secondary = fold_for_search(furigana)
    if not secondary:
        return EMPTY_SORT_KEY
    primary = secondary.translate(_PRIMARY_TABLE)
    if not primary:  # only ・ or control characters: nothing to sort by
        return EMPTY_SORT_KEY
    if _LONG_VOWEL in primary:
        primary = _expand_long_vowels(primary)
    if not primary.isascii():
        # Characters above U+FFFF would otherwise sort after EMPTY_SORT_KEY.
        primary = _ASTRAL.sub("\ufffe", primary)
        secondary = _ASTRAL.sub("\ufffe", secondary)
    return f"{primary}\x00{secondary}"


def _expand_long_vowels(text: str) -> str:
    out: list[str] = []
    previous = ""
    for char in text:
        previous = _VOWEL_OF.get(previous, char) if char == _LONG_VOWEL else char
        out.append(previous)
    return "".join(out)


def hiragana_to_katakana(text: str) -> str:
    """Return ``text`` with hiragana written as full-width katakana."""
    return text.translate(_HIRA_TO_KATA)


def katakana_to_hiragana(text: str) -> str:
    """Return ``text`` with full-width katakana written as hiragana (ヶ becomes け)."""
    return text.translate(_KATA_TO_HIRA)


def normalise_postal_code(text: str) -> str:
    """Return a Japanese postal code as ``"123-4567"``.

    Accepts full-width digits, a leading 〒, and any dash or space between the halves.
    Raises ``ValueError`` when what remains is not exactly seven digits.
    """
    digits = _POSTAL_NOISE.sub("", unicodedata.normalize("NFKC", text))
    if len(digits) != 7 or _ASCII_DIGITS.fullmatch(digits) is None:
        raise ValueError(f"not a 7-digit postal code: {text!r}")
    return f"{digits[:3]}-{digits[3:]}"


def phone_digits(text: str) -> str:
    """Return only the ASCII digits of a phone number (after NFKC), for matching."""
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", text))


def is_plausible_phone(text: str) -> bool:
    """Tell whether ``text`` is a domestic Japanese number: 0 then 9 or 10 more digits.

    Dashes, brackets and spaces are ignored; anything else (letters, "+81") is refused.
    """
    return _PHONE.fullmatch(_PHONE_NOISE.sub("", unicodedata.normalize("NFKC", text))) is not None


def is_plausible_email(text: str) -> bool:
    """Tell whether ``text`` (trimmed) looks like an address mail can be sent to.

    Deliberately loose: one @, something before it, a dotted domain without empty labels,
    no spaces. Full-width ＠ is refused, since such an address would not be delivered.
    """
    return _EMAIL.fullmatch(text.strip()) is not None


def has_kanji(text: str) -> bool:
    """Tell whether ``text`` contains a kanji (including 々 and 〇)."""
    return _KANJI.search(text) is not None

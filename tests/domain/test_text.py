"""Japanese text normalisation: search keys, furigana, sort keys, postal codes, phones, mail."""

from __future__ import annotations

import sqlite3
import time

import pytest

from desktop.domain.text import (
    EMPTY_SORT_KEY,
    fold_for_search,
    has_kanji,
    hiragana_to_katakana,
    is_kana_reading,
    is_plausible_email,
    is_plausible_phone,
    kana_sort_key,
    katakana_to_hiragana,
    normalise_furigana,
    normalise_postal_code,
    phone_digits,
)

# --- fold_for_search ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("タナカ", "たなか"),
        ("ﾀﾅｶ", "たなか"),
        ("ﾀﾞｲｽｹ", "だいすけ"),
        ("ﾊﾟﾝ", "ぱん"),
        ("たなか", "たなか"),
        ("ヴァイオリン", "ゔぁいおりん"),
        ("コーヒー", "こーひー"),  # the long vowel mark stays
        ("ｺｰﾋｰ", "こーひー"),  # half-width ｰ becomes ー and stays
        ("Tanaka Ichiro", "tanakaichiro"),
        ("ＴＡＮＡＫＡ", "tanaka"),
        ("Straße", "strasse"),  # casefold, not lower
        ("田中　一郎", "田中一郎"),  # U+3000
        ("田中 \t一郎\n", "田中一郎"),
        ("03-1234-5678", "0312345678"),
        ("０３－１２３４－５６７８", "0312345678"),
        ("a‐b‑c‒d–e—f―g−h", "abcdefgh"),
        ("霞ヶ関", "霞け関"),
        ("霞ケ関", "霞け関"),
        ("一ヵ月", "一か月"),
        ("", ""),
    ],
)
def test_fold_for_search(text: str, expected: str) -> None:
    assert fold_for_search(text) == expected


def test_fold_for_search_matches_across_scripts_and_widths() -> None:
    needle = fold_for_search("ﾀﾅｶ")
    assert needle in fold_for_search("田中 タナカ 一郎")
    assert fold_for_search("ｻﾄｳ ｲﾁﾛｳ") == fold_for_search("さとう　いちろう")


def test_fold_for_search_keeps_long_vowel_distinct() -> None:
    assert fold_for_search("コーノ") != fold_for_search("コノ")


def test_fold_for_search_is_fast_enough_for_a_big_column() -> None:
    rows = [f"田中 一郎{i} タナカ ｲﾁﾛｳ 03-1234-{i:04d} 桜町2丁目3番5号" for i in range(50_000)]
    started = time.perf_counter()
    folded = [fold_for_search(row) for row in rows]
    assert time.perf_counter() - started < 2.0  # ~0.2 s on a developer machine
    assert folded[7] == "田中一郎7たなかいちろう0312340007桜町2丁目3番5号"


# --- is_kana_reading ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "たなか いちろう",
        "タナカ イチロウ",
        "ﾀﾅｶ ｲﾁﾛｳ",
        "たなか　いちろう",
        "コーノ",
        "ジョン・スミス",
        "ゔ",
    ],
)
def test_is_kana_reading_accepts_kana(text: str) -> None:
    assert is_kana_reading(text)


@pytest.mark.parametrize(
    "text", ["", " ", "　", "ー", "・", "田中", "たなか一郎", "tanaka", "たなか1", "たなか\n"]
)
def test_is_kana_reading_refuses_the_rest(text: str) -> None:
    assert not is_kana_reading(text)


# --- normalise_furigana ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  ﾀﾅｶ　　 ｲﾁﾛｳ ", "タナカ イチロウ"),
        ("たなか　いちろう", "たなか いちろう"),
        ("タナカ  イチロウ", "タナカ イチロウ"),
        ("ﾀﾞｲｽｹ", "ダイスケ"),
        ("たなか", "たなか"),
        ("", ""),
    ],
)
def test_normalise_furigana(text: str, expected: str) -> None:
    assert normalise_furigana(text) == expected


def test_kana_conversions() -> None:
    assert hiragana_to_katakana("たなか いちろう") == "タナカ イチロウ"
    assert katakana_to_hiragana("タナカ ヴ") == "たなか ゔ"


# --- kana_sort_key --------------------------------------------------------------------------


def test_sort_ignores_dakuten_first_then_breaks_ties() -> None:
    names = ["かねこ", "がとう", "かとう"]
    assert sorted(names, key=kana_sort_key) == ["かとう", "がとう", "かねこ"]


def test_sort_gojuon_order_with_katakana_small_kana_and_spaces() -> None:
    names = ["ハヤシ", "はっとり", "はた", "ぱく", "はつた", "ア ベ", "あおき", "ｶﾄｳ"]
    assert sorted(names, key=kana_sort_key) == [
        "あおき",
        "ア ベ",
        "ｶﾄｳ",
        "ぱく",  # は+く: く comes before た
        "はた",
        "はつた",
        "はっとり",
        "ハヤシ",
    ]


def test_sort_small_kana_sorts_with_large() -> None:
    assert kana_sort_key("ぁ").split("\x00")[0] == kana_sort_key("あ").split("\x00")[0]
    assert kana_sort_key("きょう").split("\x00")[0] == kana_sort_key("きよう").split("\x00")[0]
    assert kana_sort_key("きょう") != kana_sort_key("きよう")  # still a total order


def test_sort_long_vowel_reads_as_the_vowel() -> None:
    names = ["らいす", "らーめん", "らくだ"]
    assert sorted(names, key=kana_sort_key) == ["らーめん", "らいす", "らくだ"]


def test_sort_key_ignores_script_and_width() -> None:
    assert kana_sort_key("カトウ") == kana_sort_key("かとう") == kana_sort_key("ｶﾄｳ")
    assert kana_sort_key("か とう") == kana_sort_key("かとう")


def test_empty_furigana_sorts_last() -> None:
    assert kana_sort_key("") == EMPTY_SORT_KEY
    assert kana_sort_key("　 ") == EMPTY_SORT_KEY
    keys = [kana_sort_key(x) for x in ["", "わたなべ", "ん", "𠮷田", "山田"]]
    assert max(keys) == EMPTY_SORT_KEY
    assert sorted(keys)[-1] == EMPTY_SORT_KEY


def test_sort_key_order_survives_sqlite_binary_order_by() -> None:
    names = ["かねこ", "", "がとう", "かとう", "ハヤシ", "はっとり", "あおき", "こうの", "こーの"]
    expected = sorted(names, key=kana_sort_key)
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE h (furigana TEXT, k TEXT)")
        db.execute("CREATE INDEX ix ON h (k)")
        db.executemany("INSERT INTO h VALUES (?, ?)", [(n, kana_sort_key(n)) for n in names])
        rows = db.execute("SELECT furigana, k FROM h ORDER BY k").fetchall()
    assert [r[0] for r in rows] == expected
    assert all(k == kana_sort_key(n) for n, k in rows)  # the NUL separator round-trips
    assert expected[-1] == ""
    assert expected.index("かとう") < expected.index("がとう") < expected.index("かねこ")


# --- postal codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["1234567", "123-4567", "〒123-4567", "１２３－４５６７", "123 4567", " 〒 123‐4567 "]
)
def test_normalise_postal_code(text: str) -> None:
    assert normalise_postal_code(text) == "123-4567"


@pytest.mark.parametrize("text", ["", "123456", "12345678", "123-456a", "abc-defg", "١٢٣٤٥٦٧"])
def test_normalise_postal_code_refuses_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match="postal code"):
        normalise_postal_code(text)


# --- phones ---------------------------------------------------------------------------------


def test_phone_digits() -> None:
    assert phone_digits("０９０-１２３４-５６７８") == "09012345678"
    assert phone_digits("(03) 1234-5678") == "0312345678"
    assert phone_digits("TEL: 03-1234-5678 内線12") == "031234567812"
    assert phone_digits("") == ""


@pytest.mark.parametrize(
    "text",
    ["03-1234-5678", "0312345678", "090-1234-5678", "(042) 123-4567", "０９０ １２３４ ５６７８"],
)
def test_plausible_phone(text: str) -> None:
    assert is_plausible_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1234-5678",
        "03-1234-567",
        "090-1234-56789",
        "+81 90-1234-5678",
        "03-1234-567a",
        "3123456789",
    ],
)
def test_implausible_phone(text: str) -> None:
    assert not is_plausible_phone(text)


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["taro@example.jp", " taro.yamada+kairan@mail.example.com ", "a@b.co"]
)
def test_plausible_email(text: str) -> None:
    assert is_plausible_email(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "taro",
        "@example.jp",
        "taro@",
        "taro@example",
        "taro@@example.jp",
        "taro@a@example.jp",
        "ta ro@example.jp",
        "taro@example..jp",
        "taro@.example.jp",
        "taro@example.jp.",
        "taro＠example.jp",
    ],
)
def test_implausible_email(text: str) -> None:
    assert not is_plausible_email(text)


# --- kanji ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["田中", "佐々木", "たなか一郎", "𠮷田", "々"])
def test_has_kanji(text: str) -> None:
    assert has_kanji(text)


@pytest.mark.parametrize("text", ["", "たなか", "タナカ", "ﾀﾅｶ", "tanaka", "ー・"])
def test_has_no_kanji(text: str) -> None:
    assert not has_kanji(text)

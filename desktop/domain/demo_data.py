"""A generated, realistic demo association: pure data, no database.

``generate_demo_roster`` builds a fictional 自治会 (households, members, 班 and 地区, officers)
that is the same for the same seed on every machine and Python version: only
``random.Random.random()`` is used, never the helpers whose algorithms may change.

Everything is fictional: the city does not exist, phone numbers use a leading 0 after the
area or mobile prefix (a block never assigned in Japan), and addresses use the reserved
example.jp / example.com domains.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random

from desktop.domain.text import hiragana_to_katakana

__all__ = [
    "DemoGroup",
    "DemoHousehold",
    "DemoMember",
    "DemoOfficer",
    "DemoRoster",
    "generate_demo_roster",
    "iter_han",
    "iter_households",
]


@dataclass(frozen=True, slots=True)
class DemoMember:
    """One person of a demo household."""

    name: str  # 氏名, surname and given name separated by one ASCII space
    furigana: str  # reading in hiragana or katakana, same spacing as the name
    relation: str  # 続柄 to the head: 世帯主, 妻, 夫, 長男, 長女, 次男, 母, 父, 子の妻, 孫 ...
    is_head: bool
    phone: str | None  # mobile, fictitious
    email: str | None  # under example.jp / example.com only
    app_access: bool  # at most 4 per household


@dataclass(frozen=True, slots=True)
class DemoHousehold:
    """One demo household (世帯) with its members, head first."""

    number: str  # 世帯番号, zero padded, unique, in circulation order
    display_name: str  # the head's name
    furigana: str  # the head's reading
    postal_code: str  # "123-4567"
    address: str
    phone: str | None  # landline, fictitious
    channel: str  # "app" | "email" | "paper"
    emails: tuple[str, ...]  # 0..4, the members' addresses; non-empty for "email"
    joined_on: date
    exempt_han_leader: bool  # 高齢・免除: never picked as an officer
    notes: str
    members: tuple[DemoMember, ...]


@dataclass(frozen=True, slots=True)
class DemoGroup:
    """A 地区 (holding 班) or a 班 (holding households in circulation order)."""

    name: str  # "12班" (unique across the roster) or "東地区" / "第3地区"
    kind: str  # "district" | "han"
    children: tuple[DemoGroup, ...]  # 班 of a 地区; empty for a 班
    households: tuple[DemoHousehold, ...]  # empty for a 地区


@dataclass(frozen=True, slots=True)
class DemoOfficer:
    """A role held by one member of one household."""

    role: str  # 会長, 副会長, 会計, 書記, 防災部長, 班長
    household_number: str
    member_index: int  # index into that household's members
    group_name: str | None  # the 班 for 班長, else None


@dataclass(frozen=True, slots=True)
class DemoRoster:
    """The whole demo association."""

    association_name: str
    groups: tuple[DemoGroup, ...]  # top level: 班, or 地区 above 600 households
    officers: tuple[DemoOfficer, ...]


# --- names: (kanji, hiragana reading, romaji for e-mail addresses) ---------------------------

_Name = tuple[str, str, str]

_SURNAMES: tuple[_Name, ...] = (
    ("佐藤", "さとう", "sato"), ("鈴木", "すずき", "suzuki"), ("高橋", "たかはし", "takahashi"),
    ("田中", "たなか", "tanaka"), ("伊藤", "いとう", "ito"), ("渡辺", "わたなべ", "watanabe"),
    ("山本", "やまもと", "yamamoto"), ("中村", "なかむら", "nakamura"),
    ("小林", "こばやし", "kobayashi"), ("加藤", "かとう", "kato"), ("吉田", "よしだ", "yoshida"),
    ("山田", "やまだ", "yamada"), ("佐々木", "ささき", "sasaki"), ("山口", "やまぐち", "yamaguchi"),
    ("松本", "まつもと", "matsumoto"), ("井上", "いのうえ", "inoue"), ("木村", "きむら", "kimura"),
    ("林", "はやし", "hayashi"), ("斎藤", "さいとう", "saito"), ("清水", "しみず", "shimizu"),
    ("山崎", "やまざき", "yamazaki"), ("森", "もり", "mori"), ("池田", "いけだ", "ikeda"),
    ("橋本", "はしもと", "hashimoto"), ("阿部", "あべ", "abe"), ("石川", "いしかわ", "ishikawa"),
    ("山下", "やました", "yamashita"), ("中島", "なかじま", "nakajima"),
    ("石井", "いしい", "ishii"),
    ("小川", "おがわ", "ogawa"), ("前田", "まえだ", "maeda"), ("岡田", "おかだ", "okada"),
    ("長谷川", "はせがわ", "hasegawa"), ("藤田", "ふじた", "fujita"), ("後藤", "ごとう", "goto"),
    ("近藤", "こんどう", "kondo"), ("村上", "むらかみ", "murakami"), ("遠藤", "えんどう", "endo"),
    ("青木", "あおき", "aoki"), ("坂本", "さかもと", "sakamoto"), ("斉藤", "さいとう", "saito"),
    ("福田", "ふくだ", "fukuda"), ("太田", "おおた", "ota"), ("西村", "にしむら", "nishimura"),
    ("藤井", "ふじい", "fujii"), ("金子", "かねこ", "kaneko"), ("岡本", "おかもと", "okamoto"),
    ("藤原", "ふじわら", "fujiwara"), ("中野", "なかの", "nakano"), ("三浦", "みうら", "miura"),
    ("原田", "はらだ", "harada"), ("中川", "なかがわ", "nakagawa"), ("松田", "まつだ", "matsuda"),
    ("竹内", "たけうち", "takeuchi"), ("小野", "おの", "ono"), ("田村", "たむら", "tamura"),
    ("中山", "なかやま", "nakayama"), ("和田", "わだ", "wada"), ("石田", "いしだ", "ishida"),
    ("森田", "もりた", "morita"), ("上田", "うえだ", "ueda"), ("原", "はら", "hara"),
    ("内田", "うちだ", "uchida"), ("柴田", "しばた", "shibata"), ("酒井", "さかい", "sakai"),
    ("宮崎", "みやざき", "miyazaki"), ("横山", "よこやま", "yokoyama"),
    ("高木", "たかぎ", "takagi"),
    ("安藤", "あんどう", "ando"), ("宮本", "みやもと", "miyamoto"), ("大野", "おおの", "ono"),
    ("小島", "こじま", "kojima"), ("工藤", "くどう", "kudo"), ("谷口", "たにぐち", "taniguchi"),
    ("今井", "いまい", "imai"), ("高田", "たかだ", "takada"), ("丸山", "まるやま", "maruyama"),
    ("増田", "ますだ", "masuda"), ("杉山", "すぎやま", "sugiyama"), ("村田", "むらた", "murata"),
    ("大塚", "おおつか", "otsuka"), ("小山", "こやま", "koyama"), ("平野", "ひらの", "hirano"),
    ("藤本", "ふじもと", "fujimoto"), ("久保", "くぼ", "kubo"), ("松井", "まつい", "matsui"),
    ("千葉", "ちば", "chiba"), ("岩崎", "いわさき", "iwasaki"), ("桜井", "さくらい", "sakurai"),
    ("木下", "きのした", "kinoshita"), ("野口", "のぐち", "noguchi"), ("松尾", "まつお", "matsuo"),
    ("菊地", "きくち", "kikuchi"), ("野村", "のむら", "nomura"), ("新井", "あらい", "arai"),
    ("河野", "こうの", "kono"), ("大西", "おおにし", "onishi"), ("服部", "はっとり", "hattori"),
    ("東", "あずま", "azuma"), ("菅原", "すがわら", "sugawara"),
)  # fmt: skip

# Given names by generation, so a grandmother is not called 陽菜 and a child not トメ.
_MALE_OLD: tuple[_Name, ...] = (
    ("清", "きよし", "kiyoshi"), ("茂", "しげる", "shigeru"), ("博", "ひろし", "hiroshi"),
    ("実", "みのる", "minoru"), ("勇", "いさむ", "isamu"), ("正", "ただし", "tadashi"),
    ("進", "すすむ", "susumu"), ("武", "たけし", "takeshi"), ("修", "おさむ", "osamu"),
    ("明", "あきら", "akira"), ("隆", "たかし", "takashi"), ("和夫", "かずお", "kazuo"),
    ("正男", "まさお", "masao"), ("幸雄", "ゆきお", "yukio"), ("勝", "まさる", "masaru"),
    ("豊", "ゆたか", "yutaka"), ("一郎", "いちろう", "ichiro"), ("健一", "けんいち", "kenichi"),
    ("誠", "まこと", "makoto"), ("和彦", "かずひこ", "kazuhiko"), ("秀樹", "ひでき", "hideki"),
    ("哲也", "てつや", "tetsuya"), ("直樹", "なおき", "naoki"), ("信夫", "のぶお", "nobuo"),
    ("義男", "よしお", "yoshio"), ("三郎", "さぶろう", "saburo"), ("敏夫", "としお", "toshio"),
    ("健二", "けんじ", "kenji"), ("浩二", "こうじ", "koji"), ("昭彦", "あきひこ", "akihiko"),
)  # fmt: skip
_MALE_YOUNG: tuple[_Name, ...] = (
    ("翔太", "しょうた", "shota"), ("大輔", "だいすけ", "daisuke"), ("拓也", "たくや", "takuya"),
    ("健太", "けんた", "kenta"), ("大樹", "だいき", "daiki"), ("翔", "しょう", "sho"),
    ("蓮", "れん", "ren"), ("陽翔", "はると", "haruto"), ("悠真", "ゆうま", "yuma"),
    ("湊", "みなと", "minato"), ("大翔", "ひろと", "hiroto"), ("蒼", "あおい", "aoi"),
    ("樹", "いつき", "itsuki"), ("颯太", "そうた", "sota"), ("陸", "りく", "riku"),
    ("悠人", "ゆうと", "yuto"), ("拓海", "たくみ", "takumi"), ("健", "けん", "ken"),
    ("亮", "りょう", "ryo"), ("達也", "たつや", "tatsuya"), ("和也", "かずや", "kazuya"),
    ("雄太", "ゆうた", "yuta"), ("翼", "つばさ", "tsubasa"), ("陽太", "ようた", "yota"),
    ("海斗", "かいと", "kaito"), ("聡", "さとし", "satoshi"), ("隼人", "はやと", "hayato"),
    ("直人", "なおと", "naoto"), ("慎吾", "しんご", "shingo"), ("優斗", "ゆうと", "yuto"),
)  # fmt: skip
_FEMALE_OLD: tuple[_Name, ...] = (
    ("和子", "かずこ", "kazuko"), ("洋子", "ようこ", "yoko"), ("幸子", "さちこ", "sachiko"),
    ("節子", "せつこ", "setsuko"), ("恵子", "けいこ", "keiko"), ("京子", "きょうこ", "kyoko"),
    ("久美子", "くみこ", "kumiko"), ("美智子", "みちこ", "michiko"), ("弘子", "ひろこ", "hiroko"),
    ("文子", "ふみこ", "fumiko"), ("順子", "じゅんこ", "junko"), ("悦子", "えつこ", "etsuko"),
    ("千代子", "ちよこ", "chiyoko"), ("春子", "はるこ", "haruko"), ("静子", "しずこ", "shizuko"),
    ("敏子", "としこ", "toshiko"), ("正子", "まさこ", "masako"), ("照子", "てるこ", "teruko"),
    ("トメ", "とめ", "tome"), ("キヨ", "きよ", "kiyo"), ("栄子", "えいこ", "eiko"),
    ("典子", "のりこ", "noriko"), ("由美子", "ゆみこ", "yumiko"), ("真理子", "まりこ", "mariko"),
    ("裕子", "ゆうこ", "yuko"), ("明美", "あけみ", "akemi"), ("直美", "なおみ", "naomi"),
    ("智子", "ともこ", "tomoko"), ("陽子", "ようこ", "yoko"), ("紀子", "のりこ", "noriko"),
)  # fmt: skip
_FEMALE_YOUNG: tuple[_Name, ...] = (
    ("美咲", "みさき", "misaki"), ("陽菜", "ひな", "hina"), ("結衣", "ゆい", "yui"),
    ("葵", "あおい", "aoi"), ("さくら", "さくら", "sakura"), ("凛", "りん", "rin"),
    ("芽依", "めい", "mei"), ("結菜", "ゆいな", "yuina"), ("莉子", "りこ", "riko"),
    ("美羽", "みう", "miu"), ("愛", "あい", "ai"), ("彩", "あや", "aya"),
    ("麻衣", "まい", "mai"), ("沙織", "さおり", "saori"), ("香織", "かおり", "kaori"),
    ("恵", "めぐみ", "megumi"), ("由香", "ゆか", "yuka"), ("理恵", "りえ", "rie"),
    ("真由美", "まゆみ", "mayumi"), ("紗希", "さき", "saki"), ("優花", "ゆうか", "yuka"),
    ("千尋", "ちひろ", "chihiro"), ("彩花", "あやか", "ayaka"), ("七海", "ななみ", "nanami"),
    ("杏", "あん", "an"), ("楓", "かえで", "kaede"), ("詩織", "しおり", "shiori"),
    ("明日香", "あすか", "asuka"), ("遥", "はるか", "haruka"), ("奈々", "なな", "nana"),
)  # fmt: skip

_OLD, _MID, _YOUNG = 0, 1, 2  # generations: 70+, working age, children
_GIVEN: dict[tuple[bool, int], tuple[_Name, ...]] = {
    (True, _OLD): _MALE_OLD,
    (True, _MID): _MALE_OLD[15:] + _MALE_YOUNG[:20],  # 1960s-80s births: a bit of both
    (True, _YOUNG): _MALE_YOUNG,
    (False, _OLD): _FEMALE_OLD,
    (False, _MID): _FEMALE_OLD[20:] + _FEMALE_YOUNG[:20],
    (False, _YOUNG): _FEMALE_YOUNG,
}
_SONS = ("長男", "次男", "三男", "四男")
_DAUGHTERS = ("長女", "次女", "三女", "四女")

# --- places -------------------------------------------------------------------------------

_CITY = "東京都緑ヶ丘市"  # no such city
_TOWNS = (
    "桜町", "梅園", "松風町", "若葉台", "旭町", "本町", "栄町", "緑町", "日の出町", "富士見台",
    "青葉町", "泉町", "柳町", "春日町", "宮前", "大和町", "白梅町", "花園", "常盤台", "朝日台",
)  # fmt: skip
_TOWN_PREFIXES = ("", "東", "西", "南", "北", "新")
_HAN_PER_CHOME = 8
_CHOME_PER_TOWN = 5
_BUILDINGS = ("コーポ", "ハイツ", "メゾン", "グリーンハイツ", "サンハイム", "パレス")
_DISTRICT_NAMES = ("東地区", "西地区", "南地区", "北地区", "中央地区")
_HAN_MIN, _HAN_MAX, _HAN_AVG = 12, 25, 18.5
_SINGLE_LEVEL_MAX = 600  # above this, 班 are grouped into 地区
_HAN_PER_DISTRICT = 20

_NOTES = (
    "日中不在", "足が不自由", "回覧板はポストへ", "インターホン故障中", "犬がいます",
    "夜間のみ在宅", "耳が遠いので大きな声で", "集金は月末希望", "二世帯住宅", "単身赴任中",
)  # fmt: skip
_EXEMPT_NOTES = ("高齢のため班長免除", "班長免除（通院中）", "高齢・免除")
_MOBILE_PREFIXES = ("090", "080", "070")
_LANDLINE_AREA = "042"
_MAIL_DOMAINS = ("example.jp", "example.com", "example.jp")

_JOIN_EARLIEST = date(1970, 4, 1)
_JOIN_LATEST = date(2025, 3, 31)
_OFFICER_RELATIONS = frozenset({"世帯主", "妻", "夫"})
_EXECUTIVE_ROLES = ("会長", "副会長", "副会長", "会計", "書記", "防災部長")

# Household make-up and how often it occurs; mean size comes out near 2.4.
_KIND_WEIGHTS = (
    ("elderly_single", 0.15),
    ("single", 0.14),
    ("couple", 0.26),
    ("family", 0.22),
    ("single_parent", 0.05),
    ("elderly_with_child", 0.10),
    ("three_generations", 0.05),
    ("elderly_with_son_family", 0.03),
)
_ELDERLY_KINDS = frozenset({"elderly_single", "elderly_with_child", "elderly_with_son_family"})
_Person = tuple[bool, int, str]  # male, generation, 続柄
_KIND_THRESHOLDS: tuple[tuple[float, str], ...] = tuple(
    (sum(w for _k, w in _KIND_WEIGHTS[: i + 1]), kind) for i, (kind, _w) in enumerate(_KIND_WEIGHTS)
)


class _Builder:
    """Holds the random source and the per-roster state while households are drawn."""

    def __init__(self, rng: Random, width: int) -> None:
        self.random = rng.random  # bound once: it is called a few dozen times per household
        self.width = width

    def pick(self, items: Sequence[_Name]) -> _Name:
        return items[int(self.random() * len(items))]

    def mobile(self) -> str:
        # One draw per number: this runs for ~150,000 people in the largest demo.
        n = int(self.random() * 30_000_000)
        prefix, rest = divmod(n, 10_000_000)
        return f"{_MOBILE_PREFIXES[prefix]}-0{rest // 10_000:03d}-{rest % 10_000:04d}"

    def landline(self) -> str:
        n = int(self.random() * 1_000_000)
        return f"{_LANDLINE_AREA}-0{n // 10_000:02d}-{n % 10_000:04d}"

    def household(self, index: int, address: str, postal_code: str) -> DemoHousehold:
        r = self.random
        kind = _draw_kind(r())
        elderly = kind in _ELDERLY_KINDS or (kind == "couple" and r() < 0.45)
        people = self.people(kind, elderly)
        if kind == "elderly_single":  # living alone: mostly paper, more often excused
            channel, exempt = _draw_channel(r(), 0.7, 0.12), r() < 0.2
        elif elderly:
            channel, exempt = _draw_channel(r(), 0.35, 0.2), r() < 0.06
        else:  # chosen so the whole roster is ~60 % app, 15 % e-mail, 25 % paper, 5 % exempt
            channel, exempt = _draw_channel(r(), 0.097, 0.137), r() < 0.01
        if elderly:
            landline = r() < 0.85
            joined = _JOIN_EARLIEST + timedelta(days=int(r() * 11_000))
        else:
            landline = r() < 0.35
            joined = _JOIN_LATEST - timedelta(days=int(r() * 9_000))
        members = self.members(index, people, channel)
        if exempt:
            notes = _EXEMPT_NOTES[int(r() * len(_EXEMPT_NOTES))] if r() < 0.6 else ""
        else:
            notes = _NOTES[int(r() * len(_NOTES))] if r() < 0.08 else ""
        head = members[0]
        return DemoHousehold(
            str(index + 1).zfill(self.width), head.name, head.furigana, postal_code, address,
            self.landline() if landline else None, channel,
            tuple(m.email for m in members if m.email is not None), joined, exempt, notes,
            members,
        )  # fmt: skip

    def people(self, kind: str, elderly: bool) -> list[_Person]:
        """Return (male, generation, relation) of each member, head first."""
        r = self.random
        if kind == "elderly_single":
            return [(r() < 0.35, _OLD, "世帯主")]
        if kind == "single":
            return [(r() < 0.55, _MID, "世帯主")]
        if kind == "single_parent":
            people = [(r() < 0.2, _MID, "世帯主")]
            self.add_children(people, 1 + int(r() * 2), _YOUNG)
            return people
        people = self.couple(_OLD if elderly else _MID)
        if kind == "family":
            x = r()
            self.add_children(people, 1 if x < 0.5 else 2 if x < 0.9 else 3, _YOUNG)
        elif kind == "elderly_with_child":
            self.add_children(people, 1, _MID)
        elif kind == "three_generations":
            people.append((False, _OLD, "母"))
            if r() < 0.3:
                people.append((True, _OLD, "父"))
            self.add_children(people, 1 + int(r() * 2), _YOUNG)
        elif kind == "elderly_with_son_family":
            people += [(True, _MID, "長男"), (False, _MID, "子の妻")]
            people += [(r() < 0.5, _YOUNG, "孫") for _ in range(1 + int(r() * 2))]
        return people

    def members(self, index: int, people: list[_Person], channel: str) -> tuple[DemoMember, ...]:
        r = self.random
        surname = self.pick(_SURNAMES)
        katakana = r() < 0.2  # some officers type readings in katakana
        domain_pick = int(r() * len(_MAIL_DOMAINS))
        email_odds = {"app": (0.3, 0.5), "email": (0.3, 0.5), "paper": (0.08, 0.08)}[channel]
        used: set[str] = set()
        members: list[DemoMember] = []
        emails = app_users = 0
        for position, (male, gen, relation) in enumerate(people):
            given = self.pick(_GIVEN[male, gen])
            while given[0] in used:  # no two 一郎 in one household
                given = self.pick(_GIVEN[male, gen])
            used.add(given[0])
            reading = f"{surname[1]} {given[1]}"
            if katakana:
                reading = hiragana_to_katakana(reading)
            adult = gen != _YOUNG
            phone_odds = 0.92 if gen == _MID else 0.55 if adult else 0.1
            phone = self.mobile() if r() < phone_odds else None
            email = None
            if (
                adult
                and emails < 4
                and ((position == 0 and channel == "email") or r() < email_odds[gen == _MID])
            ):
                domain = _MAIL_DOMAINS[(domain_pick + position) % len(_MAIL_DOMAINS)]
                # The household number keeps every address unique across the roster.
                email = f"{given[2]}.{surname[2]}{index + 1}@{domain}"
                emails += 1
            access = False
            if channel == "app" and app_users < 4:
                access = position == 0 or r() < (0.7 if adult else 0.15)
                app_users += access
            name = f"{surname[0]} {given[0]}"
            members.append(DemoMember(name, reading, relation, not position, phone, email, access))
        return tuple(members)

    def couple(self, gen: int) -> list[_Person]:
        if self.random() < 0.05:  # a wife registered as head
            return [(False, gen, "世帯主"), (True, gen, "夫")]
        return [(True, gen, "世帯主"), (False, gen, "妻")]

    def add_children(self, people: list[_Person], count: int, gen: int) -> None:
        boys = girls = 0
        for _ in range(count):
            if self.random() < 0.5:
                people.append((True, gen, _SONS[boys]))
                boys += 1
            else:
                people.append((False, gen, _DAUGHTERS[girls]))
                girls += 1


def _draw_kind(x: float) -> str:
    for threshold, kind in _KIND_THRESHOLDS:
        if x < threshold:
            return kind
    return _KIND_THRESHOLDS[-1][1]


def _draw_channel(x: float, paper: float, email: float) -> str:
    if x < paper:
        return "paper"
    if x < paper + email:
        return "email"
    return "app"


def _han_sizes(total: int, rng: Random) -> list[int]:
    """Split ``total`` households into 班 of 12-25 (one smaller 班 if there are fewer)."""
    if total < _HAN_MIN:
        return [total]
    lowest = -(-total // _HAN_MAX)
    highest = total // _HAN_MIN
    count = min(max(round(total / _HAN_AVG), lowest), highest)
    base, extra = divmod(total, count)
    sizes = [base + 1 if i < extra else base for i in range(count)]
    # Real 班 are uneven: move a few households between random pairs, within the limits.
    for _ in range(count * 2):
        give = int(rng.random() * count)
        take = int(rng.random() * count)
        amount = 1 + int(rng.random() * 4)
        if sizes[give] - amount >= _HAN_MIN and sizes[take] + amount <= _HAN_MAX:
            sizes[give] -= amount
            sizes[take] += amount
    return sizes


def _place(han_index: int) -> tuple[str, str, int]:
    """Return the town, the postal code and the 丁目 a 班 lies in (neighbouring 班 share)."""
    block, _ = divmod(han_index, _HAN_PER_CHOME)
    town_index, chome_index = divmod(block, _CHOME_PER_TOWN)
    prefix_index, base_index = divmod(town_index, len(_TOWNS))
    prefix = _TOWN_PREFIXES[prefix_index % len(_TOWN_PREFIXES)]
    round_ = prefix_index // len(_TOWN_PREFIXES)  # only past 120 towns (~96,000 households)
    town = f"{prefix}{_TOWNS[base_index]}{'' if round_ == 0 else round_ + 1}"
    postal = f"198-{town_index % 1000:03d}{chome_index + 1}"
    return town, postal, chome_index + 1


def generate_demo_roster(households: int = 300, *, seed: int = 7) -> DemoRoster:
    """Build a fictional association of ``households`` households, the same for each seed.

    Up to 600 households the top level is a list of 班; above, 地区 of about 20 班 each.
    班 names are unique across the roster ("1班" ... in circulation order).
    """
    if households < 1:
        raise ValueError(f"a demo association needs at least one household: {households!r}")
    # Hundreds of thousands of acyclic objects would otherwise trigger the cycle collector
    # over and over (about 40 % of the run time for 50,000 households).
    paused = gc.isenabled()
    gc.disable()
    try:
        return _generate(households, seed)
    finally:
        if paused:
            gc.enable()


def _generate(households: int, seed: int) -> DemoRoster:
    rng = Random(seed)
    width = max(4, len(str(households)))
    builder = _Builder(rng, width)
    sizes = _han_sizes(households, rng)

    han_groups: list[DemoGroup] = []
    index = 0
    for han_index, size in enumerate(sizes):
        town, postal, chome = _place(han_index)
        first_ban = (han_index % _HAN_PER_CHOME) * 3 + 1
        members: list[DemoHousehold] = []
        for position in range(size):
            ban = first_ban + position // 9
            go = (position % 9) * 2 + 1
            address = f"{_CITY}{town}{chome}丁目{ban}番{go}号"
            if rng.random() < 0.08:
                building = _BUILDINGS[int(rng.random() * len(_BUILDINGS))]
                address += f" {building}{town[0]} {1 + int(rng.random() * 3)}0{position % 6 + 1}"
            members.append(builder.household(index, address, postal))
            index += 1
        if all(h.exempt_han_leader for h in members):  # a 班 must be able to name a 班長
            members[0] = dataclasses.replace(members[0], exempt_han_leader=False, notes="")
        han_groups.append(DemoGroup(f"{han_index + 1}班", "han", (), tuple(members)))

    groups: tuple[DemoGroup, ...]
    if households <= _SINGLE_LEVEL_MAX:
        groups = tuple(han_groups)
        association_name = "桜町自治会"
    else:
        district_count = -(-len(han_groups) // _HAN_PER_DISTRICT)
        per, extra = divmod(len(han_groups), district_count)
        districts: list[DemoGroup] = []
        start = 0
        for d in range(district_count):
            end = start + per + (1 if d < extra else 0)
            name = (
                _DISTRICT_NAMES[d] if district_count <= len(_DISTRICT_NAMES) else f"第{d + 1}地区"
            )
            districts.append(DemoGroup(name, "district", tuple(han_groups[start:end]), ()))
            start = end
        groups = tuple(districts)
        association_name = "桜町連合自治会"

    officers = _choose_officers(han_groups, rng)
    return DemoRoster(association_name, groups, officers)


def _officer_member(household: DemoHousehold, rng: Random, taken: set[tuple[str, int]]) -> int:
    """Pick the head mostly, the spouse sometimes; skip members already holding a role."""
    candidates = [
        i
        for i, m in enumerate(household.members)
        if m.relation in _OFFICER_RELATIONS and (household.number, i) not in taken
    ]
    if not candidates:
        return 0
    if len(candidates) > 1 and rng.random() < 0.3:
        return candidates[1]
    return candidates[0]


def _choose_officers(han_groups: list[DemoGroup], rng: Random) -> tuple[DemoOfficer, ...]:
    eligible = [h for g in han_groups for h in g.households if not h.exempt_han_leader]
    # Partial Fisher-Yates: distinct households for the executive roles, in random order.
    needed = min(len(_EXECUTIVE_ROLES), len(eligible))
    for i in range(needed):
        j = i + int(rng.random() * (len(eligible) - i))
        eligible[i], eligible[j] = eligible[j], eligible[i]
    chosen = eligible[:needed]

    officers: list[DemoOfficer] = []
    taken: set[tuple[str, int]] = set()
    for k, role in enumerate(_EXECUTIVE_ROLES):
        # With fewer households than roles, members (and at worst people) are shared.
        household = chosen[k % needed]
        member = _officer_member(household, rng, taken)
        taken.add((household.number, member))
        officers.append(DemoOfficer(role, household.number, member, None))

    executive_households = {h.number for h in chosen}
    for group in han_groups:
        free = [h for h in group.households if not h.exempt_han_leader]
        preferred = [h for h in free if h.number not in executive_households] or free
        household = preferred[int(rng.random() * len(preferred))]
        member = _officer_member(household, rng, taken)
        taken.add((household.number, member))
        officers.append(DemoOfficer("班長", household.number, member, group.name))
    return tuple(officers)


def iter_han(roster: DemoRoster) -> Iterator[DemoGroup]:
    """Yield every 班 of ``roster`` in circulation order, looking inside 地区."""
    stack = list(reversed(roster.groups))
    while stack:
        group = stack.pop()
        if group.kind == "han":
            yield group
        else:
            stack.extend(reversed(group.children))


def iter_households(roster: DemoRoster) -> Iterator[DemoHousehold]:
    """Yield every household of ``roster`` in circulation order."""
    for han in iter_han(roster):
        yield from han.households

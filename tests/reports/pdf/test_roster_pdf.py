"""班 lists and the officers' contact list: what they print, in which order, on which page,
with every font embedded and every mark inside the paper; and the loaders that read them
from an association file."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from desktop.domain.errors import KairanError
from desktop.domain.groups import create_group, group_tree
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    set_circulation_order,
    withdraw_household,
)
from desktop.domain.models import GroupKind, NoticeChannel
from desktop.domain.roles import assign_role, list_roles
from desktop.store.association_file import AssociationFile
from reports.pdf.fonts import GOTHIC
from reports.pdf.roster_pdf import (
    ELLIPSIS,
    GroupList,
    OfficerLine,
    RosterLine,
    block_height,
    fit_text,
    render_group_lists,
    render_officer_list,
    wrap_text,
)
from reports.pdf.roster_source import (
    han_ids_named,
    load_addressees,
    load_group_lists,
    load_officers,
    year_label,
)
from tests.reports.pdf.pdf_checks import (
    assert_fonts_embedded,
    assert_ink_within,
    page_count,
    page_texts,
)

ISSUED = date(2025, 4, 1)
LONG_ADDRESS = ("東京都緑ヶ丘市桜町一丁目二十三番地四十五号 グランドメゾン桜ヶ丘ウエストタワー棟 "
                "三十二階 三二〇五号室（山田様方）")


def _household(index: int, **changes: object) -> RosterLine:
    values: dict[str, object] = {
        "number": f"{index:04d}", "name": f"世帯{index:04d} 太郎", "furigana": "せたい たろう",
        "address": f"東京都緑ヶ丘市桜町1丁目{index}番1号", "phone": "042-123-4567",
        "members": 2, "channel": NoticeChannel.PAPER,
    }
    values.update(changes)
    return RosterLine(**values)  # type: ignore[arg-type]


def _groups_pdf(groups: Sequence[GroupList], **options: object) -> bytes:
    buffer = io.BytesIO()
    pages = render_group_lists(buffer, association="桜町自治会", issued_on=ISSUED,
                               groups=groups, **options)  # type: ignore[arg-type]
    pdf = buffer.getvalue()
    assert page_count(pdf) == pages
    return pdf


def _in_order(text: str, needles: Sequence[str]) -> bool:
    positions = [text.find(needle) for needle in needles]
    return -1 not in positions and positions == sorted(positions)


# ---------------------------------------------------------------- fitting text


def test_wrapping_keeps_numbers_with_their_counters_and_breaks_at_spaces() -> None:
    width = 130.0
    lines = wrap_text("東京都緑ヶ丘市桜町1丁目4番15号 メゾン桜 201", font=GOTHIC, size=10,
                      width=width)
    assert len(lines) > 1
    assert not any(line.startswith(("号", "5号")) for line in lines)
    assert "".join(lines).replace(" ", "") == "東京都緑ヶ丘市桜町1丁目4番15号メゾン桜201"
    email = wrap_text("tetsuya.sugawara45@example.jp", font=GOTHIC, size=10, width=100)
    assert email == ["tetsuya.sugawara45", "@example.jp"]
    assert not any(line.startswith("、") for line in
                   wrap_text("あいうえおかきくけ、こさしすせそ", font=GOTHIC, size=10, width=90))


@pytest.mark.parametrize("text", [LONG_ADDRESS, "短い住所", "x" * 300, "山" * 80, ""])
def test_fitted_text_never_leaves_its_box(text: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    width, height = 150.0, 24.0
    fitted = fit_text(text, font=GOTHIC, width=width, height=height, max_size=10.5,
                      min_size=6, max_lines=2)
    assert fitted.height <= height
    assert len(fitted.lines) <= 2
    assert all(stringWidth(line, GOTHIC, fitted.size) <= width for line in fitted.lines)
    assert fitted.truncated == fitted.lines[-1].endswith(ELLIPSIS)
    if not fitted.truncated:
        assert "".join(fitted.lines).replace(" ", "") == text.replace(" ", "")


def test_text_that_nearly_fits_shrinks_onto_one_line() -> None:
    text = "東京都緑ヶ丘市桜町1丁目1番13号"
    from reportlab.pdfbase.pdfmetrics import stringWidth

    width = stringWidth(text, GOTHIC, 10) * 0.95  # a little too long at 10 pt
    fitted = fit_text(text, font=GOTHIC, width=width, height=block_height(2, 10),
                      max_size=10, min_size=5, max_lines=2)
    assert fitted.lines == (text,)
    assert 9 <= fitted.size < 10


# ---------------------------------------------------------------- 班別名簿


def test_each_group_starts_a_page_with_its_households_in_circulation_order() -> None:
    first = GroupList("1班", (_household(3), _household(1), _household(2)),
                      leaders=("班長 山田 一郎",))
    second = GroupList("2班", (_household(5), _household(4)))
    texts = page_texts(_groups_pdf([first, second], year_label="令和7年度"))
    assert len(texts) == 2
    assert "班別名簿　1班" in texts[0] and "班別名簿　2班" in texts[1]
    assert _in_order(texts[0], ["世帯0003", "世帯0001", "世帯0002"])
    assert "世帯0004" not in texts[0] and "世帯0003" not in texts[1]
    assert _in_order(texts[1], ["世帯0005", "世帯0004"])
    assert "令和7年度　班長 山田 一郎" in texts[0]
    assert "せたい たろう" in texts[0]  # the furigana
    assert "計 3世帯・6人（紙 3・アプリ 0・メール 0）" in texts[0]


def test_a_long_group_repeats_the_header_and_counts_once_at_its_end() -> None:
    households = tuple(_household(index) for index in range(1, 71))
    texts = page_texts(_groups_pdf([GroupList("3班", households)]))
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert "世帯番号" in text and "住所" in text and "配布" in text
        assert ("（続き）" in text) == (number > 1)
        assert ("計 70世帯" in text) == (number == len(texts))
        assert f"{number} / {len(texts)}" in text
    whole = "\n".join(texts)
    assert _in_order(whole, [f"世帯{index:04d}" for index in range(1, 71)])


def test_the_leader_is_marked_and_channels_are_named() -> None:
    group = GroupList("1班", (
        _household(1, channel=NoticeChannel.APP),
        _household(2, marks=("班長",), channel=NoticeChannel.EMAIL),
    ))
    text = page_texts(_groups_pdf([group]))[0]
    assert "アプリ" in text and "メール" in text
    assert _in_order(text, ["世帯0001", "班長", "世帯0002"])


@pytest.mark.parametrize("large", [False, True])
def test_group_lists_embed_fonts_and_stay_on_the_paper(large: bool) -> None:
    long_name = "長谷川 左衛門之助太郎兵衛"
    households = tuple(_household(index, address=LONG_ADDRESS if index % 7 == 0 else
                                  f"東京都緑ヶ丘市桜町1丁目{index}番1号",
                                  name=long_name if index % 5 == 0 else "山田 花子",
                                  marks=("班長",) if index == 3 else ())
                       for index in range(1, 40))
    pdf = _groups_pdf([GroupList("東地区 1班", households)], large=large,
                      year_label="令和7年度")
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


def test_large_print_puts_fewer_households_on_a_page() -> None:
    households = tuple(_household(index) for index in range(1, 121))
    normal = page_count(_groups_pdf([GroupList("1班", households)]))
    large = page_count(_groups_pdf([GroupList("1班", households)], large=True))
    assert large > normal


def test_no_households_is_one_page_that_says_so() -> None:
    texts = page_texts(_groups_pdf([]))
    assert len(texts) == 1 and "該当する世帯はありません" in texts[0]


def test_progress_runs_to_the_end_and_raising_cancels_without_leaving_a_file(
    tmp_path: Path,
) -> None:
    groups = [GroupList(f"{n}班", tuple(_household(i) for i in range(1, 5))) for n in (1, 2, 3)]
    calls: list[tuple[int, int]] = []
    target = tmp_path / "班別名簿.pdf"
    pages = render_group_lists(target, association="桜町自治会", issued_on=ISSUED,
                               groups=groups, progress=lambda done, total: calls.append(
                                   (done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)] and pages == 3
    assert page_count(target) == 3

    class Cancelled(Exception):
        pass

    def cancel(done: int, _total: int) -> None:
        if done == 2:
            raise Cancelled

    target.unlink()
    with pytest.raises(Cancelled):
        render_group_lists(target, association="桜町自治会", issued_on=ISSUED, groups=groups,
                           progress=cancel)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KairanError, match="does not exist"):
        render_group_lists(tmp_path / "nowhere" / "x.pdf", association="桜町自治会",
                           issued_on=ISSUED, groups=[])


def test_two_thousand_households_print_quickly() -> None:
    import time

    groups = [GroupList(f"{n}班", tuple(_household(n * 100 + i) for i in range(20)))
              for n in range(100)]
    started = time.perf_counter()
    pdf = _groups_pdf(groups)
    elapsed = time.perf_counter() - started
    assert page_count(pdf) == 100
    assert elapsed < 5, f"2,000 households took {elapsed:.1f} s"  # about 1 s here


# ---------------------------------------------------------------- 役員連絡先一覧


def _officers_pdf(officers: Sequence[OfficerLine], *, large: bool = False) -> bytes:
    buffer = io.BytesIO()
    pages = render_officer_list(buffer, association="桜町自治会", issued_on=ISSUED,
                                year_label="令和7年度", officers=officers, large=large)
    pdf = buffer.getvalue()
    assert page_count(pdf) == pages
    return pdf


def _officers(count_per_han: int = 1, hans: int = 3) -> list[OfficerLine]:
    lines = [
        OfficerLine("会長", name="山田 太郎", phone="03-1234-5678", email="yamada@example.jp",
                    postal_code="123-4567", address="東京都緑ヶ丘市桜町1丁目1番1号"),
        OfficerLine("副会長", name="佐藤 花子", phone="090-1111-2222",
                    email="hanako.sato.long.address@example.co.jp", postal_code="123-4567",
                    address=LONG_ADDRESS),
        OfficerLine("会計"),  # vacant
    ]
    for han in range(1, hans + 1):
        lines.extend(OfficerLine("班長", group=f"{han}班", name=f"班長{han:03d}-{slot}",
                                 phone="042-000-0000")
                     for slot in range(count_per_han))
    return lines


def test_officers_in_role_order_with_vacancies_and_marked_handle_with_care() -> None:
    text = page_texts(_officers_pdf(_officers()))[0]
    assert _in_order(text, ["役員連絡先一覧　令和7年度", "会長", "山田 太郎", "副会長",
                            "佐藤 花子", "会計", "（空席）", "班長", "1班", "班長001-0",
                            "2班", "3班"])
    assert "取扱注意" in text and "個人情報" in text
    assert "〒123-4567" in text and "yamada@example.jp" in text


def test_a_long_address_makes_the_row_taller_rather_than_cut_short() -> None:
    text = page_texts(_officers_pdf(_officers(), large=True))[0]
    assert ELLIPSIS not in text
    assert "三二〇五号室（山田様方）" in text.replace("\n", "")


@pytest.mark.parametrize("large", [False, True])
def test_every_page_of_a_long_officer_list_is_marked_and_on_the_paper(large: bool) -> None:
    pdf = _officers_pdf(_officers(hans=60), large=large)
    texts = page_texts(pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert "取扱注意" in text and "役職" in text and f"{number} / {len(texts)}" in text
    assert "班長" in texts[1]  # the role's name again at the top of the next page
    assert_fonts_embedded(pdf)
    assert_ink_within(pdf)


# ---------------------------------------------------------------- read from the file


def _add(association_file: AssociationFile, number: str, name: str,
         group_id: uuid.UUID | None, **changes: object) -> uuid.UUID:
    data = HouseholdData(number=number, display_name=name, furigana="やまだ",
                         postal_code="123-4567", address=f"桜町{number}",
                         phone="03-1234-5678", emails=(f"h{number}@example.jp",),
                         **changes)  # type: ignore[arg-type]
    with association_file.write() as session:
        return create_household(session, data=data, group_id=group_id,
                                members=(MemberData(name=name, phone="090-1234-5678",
                                                    email=f"m{number}@example.jp"),))


@pytest.fixture
def town(association_file: AssociationFile) -> dict[str, uuid.UUID]:
    """東地区 (1班, 2班) and a 3班 of its own; households in a route that is not by number;
    1班's 班長 for 2025; a withdrawn household and one in no 班."""
    with association_file.write() as session:
        east = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
        han1 = create_group(session, name="1班", parent_id=east)
        han2 = create_group(session, name="2班", parent_id=east)
        han3 = create_group(session, name="3班")
    ids = {"east": east, "1班": han1, "2班": han2, "3班": han3}
    for number, name, group, channel in [
        ("101", "青木", han1, NoticeChannel.PAPER), ("102", "石井", han1, NoticeChannel.APP),
        ("103", "上田", han1, NoticeChannel.PAPER), ("201", "江藤", han2, NoticeChannel.EMAIL),
        ("301", "岡田", han3, NoticeChannel.PAPER), ("900", "加藤", None, NoticeChannel.PAPER),
    ]:
        ids[number] = _add(association_file, number, name, group, channel=channel)
    ids["199"] = _add(association_file, "199", "木村", han1)
    with association_file.write() as session:
        withdraw_household(session, household_id=ids["199"], left_on=date(2025, 5, 1))
        set_circulation_order(session, group_id=han1,
                              household_ids=[ids["103"], ids["101"], ids["102"]])
        leader = get_household(session, household_id=ids["101"]).members[0].id
        assert leader is not None
        role = next(role.id for role in list_roles(session) if role.name == "班長")
        assign_role(session, role_id=role, year=2025, member_id=leader, group_id=han1)
    return ids


def test_group_lists_read_in_tree_and_circulation_order(
    association_file: AssociationFile, town: dict[str, uuid.UUID]
) -> None:
    with association_file.read() as session:
        lists = load_group_lists(session, year=2025)
        label = year_label(session, year=2025)
    assert label == "令和7年度"
    assert [group.name for group in lists] == ["東地区 1班", "東地区 2班", "3班", "班なし"]
    first = lists[0]
    assert [h.number for h in first.households] == ["103", "101", "102"]  # 199 withdrew
    assert [h.marks for h in first.households] == [(), ("班長",), ()]
    assert first.leaders == ("班長 青木",)
    assert [h.number for h in lists[3].households] == ["900"]
    with association_file.read() as session:
        assert load_group_lists(session, year=2024)[0].leaders == ()  # another year


def test_a_choice_of_groups_and_paper_only(
    association_file: AssociationFile, town: dict[str, uuid.UUID]
) -> None:
    with association_file.read() as session:
        groups = group_tree(session)
        district = han_ids_named(groups, ["東地区"])
        assert district == (town["1班"], town["2班"])
        assert han_ids_named(groups, ["3班", "東地区/1班"]) == (town["1班"], town["3班"])
        lists = load_group_lists(session, year=2025, han_ids=district, paper_only=True)
        labels = load_addressees(session, han_ids=[town["1班"]])
    assert [(g.name, [h.number for h in g.households]) for g in lists] == [
        ("東地区 1班", ["103", "101"])]  # 2班 has no paper household: left out
    assert [(a.number, a.name, a.postal_code) for a in labels] == [
        ("103", "上田", "123-4567"), ("101", "青木", "123-4567"), ("102", "石井", "123-4567")]


def test_an_unknown_group_name_lists_the_groups(
    association_file: AssociationFile, town: dict[str, uuid.UUID]
) -> None:
    with association_file.read() as session:
        groups = group_tree(session)
    with pytest.raises(KairanError, match="no group called 9班") as raised:
        han_ids_named(groups, ["3班", "9班"])
    assert "東地区/1班" in raised.value.message


def test_officers_read_with_their_own_contacts(
    association_file: AssociationFile, town: dict[str, uuid.UUID]
) -> None:
    with association_file.read() as session:
        officers = load_officers(session, year=2025)
        only_3 = load_officers(session, year=2025, han_ids=[town["3班"]])
    assert officers[0] == OfficerLine("会長")  # vacant
    leaders = [line for line in officers if line.role == "班長"]
    assert [line.group for line in leaders] == ["東地区 1班", "東地区 2班", "3班"]
    assert leaders[0] == OfficerLine("班長", group="東地区 1班", name="青木",
                                     phone="090-1234-5678", email="m101@example.jp",
                                     postal_code="123-4567", address="桜町101")
    assert [line.group for line in only_3 if line.role == "班長"] == ["3班"]

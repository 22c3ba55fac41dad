"""The generated demo association: shape, realism, officers, determinism and speed."""

from __future__ import annotations

import gc
import time
from collections import Counter
from datetime import date

import pytest

from desktop.domain.demo_data import (
    DemoHousehold,
    DemoRoster,
    generate_demo_roster,
    iter_han,
    iter_households,
)
from desktop.domain.text import (
    has_kanji,
    is_kana_reading,
    is_plausible_email,
    is_plausible_phone,
    normalise_postal_code,
)

EXECUTIVE_ROLES = ["会長", "副会長", "副会長", "会計", "書記", "防災部長"]


@pytest.fixture(scope="module")
def roster() -> DemoRoster:
    return generate_demo_roster()


@pytest.fixture(scope="module")
def big_roster() -> DemoRoster:
    return generate_demo_roster(3000, seed=11)


def households_of(roster: DemoRoster) -> list[DemoHousehold]:
    return list(iter_households(roster))


# --- shape ----------------------------------------------------------------------------------


def test_default_roster_is_a_flat_list_of_han(roster: DemoRoster) -> None:
    assert roster.association_name == "桜町自治会"
    assert all(g.kind == "han" and not g.children for g in roster.groups)
    assert [g.name for g in roster.groups] == [f"{i}班" for i in range(1, len(roster.groups) + 1)]
    assert len(households_of(roster)) == 300
    assert list(iter_han(roster)) == list(roster.groups)


@pytest.mark.parametrize("count", [12, 25, 26, 100, 300, 599, 600, 601, 1234, 3000])
def test_han_hold_12_to_25_households(count: int) -> None:
    roster = generate_demo_roster(count, seed=count)
    hans = list(iter_han(roster))
    assert sum(len(h.households) for h in hans) == count
    assert all(12 <= len(h.households) <= 25 for h in hans)
    assert len({h.name for h in hans}) == len(hans)  # 班 names are unique roster-wide


@pytest.mark.parametrize("count", [1, 5, 11])
def test_tiny_association_has_one_small_han(count: int) -> None:
    roster = generate_demo_roster(count)
    (han,) = roster.groups
    assert han.kind == "han"
    assert len(han.households) == count
    assert sum(o.role == "班長" for o in roster.officers) == 1
    assert [o.role for o in roster.officers][:6] == EXECUTIVE_ROLES


def test_large_association_has_districts_of_about_20_han(big_roster: DemoRoster) -> None:
    assert all(g.kind == "district" and not g.households for g in big_roster.groups)
    assert len({g.name for g in big_roster.groups}) == len(big_roster.groups)
    for district in big_roster.groups:
        assert 10 <= len(district.children) <= 20
        assert all(c.kind == "han" and not c.children for c in district.children)
    assert list(iter_han(big_roster)) == [c for g in big_roster.groups for c in g.children]


def test_600_is_the_last_flat_size() -> None:
    assert generate_demo_roster(600).groups[0].kind == "han"
    few = generate_demo_roster(601)
    assert [g.kind for g in few.groups] == ["district", "district"]
    assert [g.name for g in few.groups] == ["東地区", "西地区"]


@pytest.mark.parametrize("count", [0, -3])
def test_refuses_an_empty_association(count: int) -> None:
    with pytest.raises(ValueError, match="at least one household"):
        generate_demo_roster(count)


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_same_roster(roster: DemoRoster) -> None:
    assert generate_demo_roster(300, seed=7) == roster


def test_other_seed_other_roster(roster: DemoRoster) -> None:
    assert generate_demo_roster(300, seed=8) != roster


def test_generation_leaves_the_garbage_collector_as_it_was() -> None:
    assert gc.isenabled()
    generate_demo_roster(20)
    assert gc.isenabled()
    gc.disable()
    try:
        generate_demo_roster(20)
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- households -----------------------------------------------------------------------------


def test_household_numbers_are_unique_padded_and_in_order(big_roster: DemoRoster) -> None:
    numbers = [h.number for h in households_of(big_roster)]
    assert numbers == [f"{i:04d}" for i in range(1, 3001)]
    assert generate_demo_roster(12_345, seed=1).groups[0].children[0].households[0].number == (
        "00001"
    )


def test_household_fields_are_well_formed(big_roster: DemoRoster) -> None:
    for h in households_of(big_roster):
        head = h.members[0]
        assert h.display_name == head.name
        assert h.furigana == head.furigana
        assert normalise_postal_code(h.postal_code) == h.postal_code
        assert h.address.startswith("東京都緑ヶ丘市") and "丁目" in h.address
        assert h.phone is None or is_plausible_phone(h.phone)
        assert h.channel in {"app", "email", "paper"}
        assert len(h.emails) <= 4
        assert all(is_plausible_email(e) for e in h.emails)
        assert h.channel != "email" or h.emails
        assert date(1970, 1, 1) <= h.joined_on <= date(2025, 3, 31)
        assert 1 <= len(h.members) <= 6
        assert h.notes == h.notes.strip()


def test_members_are_realistic(big_roster: DemoRoster) -> None:
    for h in households_of(big_roster):
        head, *others = h.members
        assert head.is_head and head.relation == "世帯主"
        assert not any(m.is_head or m.relation == "世帯主" for m in others)
        surname = head.name.split(" ")[0]
        reading = head.furigana.split(" ")[0]
        assert len({m.name for m in h.members}) == len(h.members)
        assert sum(m.app_access for m in h.members) <= 4
        assert h.channel == "app" or not any(m.app_access for m in h.members)
        for m in h.members:
            assert m.name.split(" ")[0] == surname
            assert m.furigana.split(" ")[0] == reading
            assert has_kanji(m.name) and m.name.count(" ") == 1
            assert is_kana_reading(m.furigana) and m.furigana.count(" ") == 1
            assert m.phone is None or (
                is_plausible_phone(m.phone) and m.phone[:3] in {"090", "080", "070"}
            )
            if m.email is not None:
                assert m.email in h.emails
        assert [m.email for m in h.members if m.email] == list(h.emails)


def test_emails_use_example_domains_only_and_are_unique(big_roster: DemoRoster) -> None:
    emails = [e for h in households_of(big_roster) for e in h.emails]
    assert emails
    assert all(e.endswith(("@example.jp", "@example.com")) for e in emails)
    assert len(set(emails)) == len(emails)


def test_proportions_look_like_a_real_association(big_roster: DemoRoster) -> None:
    households = households_of(big_roster)
    n = len(households)
    channels = Counter(h.channel for h in households)
    assert 0.55 <= channels["app"] / n <= 0.65
    assert 0.11 <= channels["email"] / n <= 0.19
    assert 0.20 <= channels["paper"] / n <= 0.30
    assert 0.03 <= sum(h.exempt_han_leader for h in households) / n <= 0.07
    members = sum(len(h.members) for h in households)
    assert 2.2 <= members / n <= 2.6
    katakana = sum(h.furigana[0] >= "ァ" for h in households)  # katakana block follows hiragana
    assert 0.15 <= katakana / n <= 0.25
    assert 0.03 <= sum(bool(h.notes) for h in households) / n <= 0.2
    phones = sum(h.phone is not None for h in households)
    assert 0.3 <= phones / n <= 0.8
    sizes = Counter(len(h.members) for h in households)
    assert set(sizes) == {1, 2, 3, 4, 5, 6}


def test_elderly_living_alone_prefer_paper(big_roster: DemoRoster) -> None:
    alone = [h for h in households_of(big_roster) if len(h.members) == 1]
    others = [h for h in households_of(big_roster) if len(h.members) > 1]
    paper_alone = sum(h.channel == "paper" for h in alone) / len(alone)
    paper_others = sum(h.channel == "paper" for h in others) / len(others)
    assert paper_alone > 1.5 * paper_others


def test_relations_use_the_usual_words(big_roster: DemoRoster) -> None:
    relations = Counter(m.relation for h in households_of(big_roster) for m in h.members)
    assert {"世帯主", "妻", "夫", "長男", "長女", "次男", "母", "孫"} <= set(relations)
    assert relations["世帯主"] == 3000


# --- officers -------------------------------------------------------------------------------


def check_officers(roster: DemoRoster) -> None:
    by_number = {h.number: h for h in iter_households(roster)}
    hans = list(iter_han(roster))
    roles = [o.role for o in roster.officers]
    assert roles == EXECUTIVE_ROLES + ["班長"] * len(hans)
    for officer in roster.officers:
        household = by_number[officer.household_number]
        assert not household.exempt_han_leader
        member = household.members[officer.member_index]
        assert member.relation in {"世帯主", "妻", "夫"}  # an adult
    executives = roster.officers[:6]
    assert all(o.group_name is None for o in executives)
    assert len({(o.household_number, o.member_index) for o in executives}) == 6
    leaders = roster.officers[6:]
    assert [o.group_name for o in leaders] == [h.name for h in hans]
    for leader, han in zip(leaders, hans, strict=True):
        assert leader.household_number in {h.number for h in han.households}


def test_officers_of_the_default_roster(roster: DemoRoster) -> None:
    check_officers(roster)
    executives = roster.officers[:6]
    assert len({o.household_number for o in executives}) == 6  # different households
    leaders = {o.household_number for o in roster.officers[6:]}
    assert not leaders & {o.household_number for o in executives}


def test_officers_of_a_large_roster(big_roster: DemoRoster) -> None:
    check_officers(big_roster)


@pytest.mark.parametrize("seed", range(20))
def test_officers_never_come_from_exempt_households(seed: int) -> None:
    check_officers(generate_demo_roster(40, seed=seed))


def test_every_han_keeps_someone_who_can_lead() -> None:
    for seed in range(40):
        roster = generate_demo_roster(3, seed=seed)
        assert any(not h.exempt_han_leader for h in iter_households(roster))


# --- speed ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_50000_households_generate_quickly() -> None:
    started = time.perf_counter()
    roster = generate_demo_roster(50_000)
    elapsed = time.perf_counter() - started
    households = households_of(roster)
    assert len(households) == 50_000
    assert 110_000 <= sum(len(h.members) for h in households) <= 130_000
    assert households[-1].number == "50000"
    assert elapsed < 3.0  # ~0.7 s on a 2-core developer machine

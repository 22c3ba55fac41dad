"""Officer profiles: names checked, PINs hashed with a salt and checked, retired profiles off
the list but kept."""

from __future__ import annotations

import pytest

from desktop.domain import profiles
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.store.association_file import AssociationFile


def test_profiles_are_listed_by_name_and_retired_ones_kept(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        yamada = profiles.create_profile(session, name="  山田　太郎 ")
        profiles.create_profile(session, name="佐藤 花子", pin="1234")
        profiles.retire_profile(session, profile_id=yamada.id)
    with association_file.read() as session:
        current = profiles.list_profiles(session)
        everyone = profiles.list_profiles(session, include_retired=True)
    assert [p.name for p in current] == ["佐藤 花子"]
    assert sorted(p.name for p in everyone) == ["佐藤 花子", "山田 太郎"]
    assert profiles.actor_of(current[0]).profile_id == current[0].id


@pytest.mark.parametrize("name", ["", "   ", "あ" * 41])
def test_a_bad_name_is_refused(association_file: AssociationFile, name: str) -> None:
    with pytest.raises(ValidationError) as error, association_file.write() as session:
        profiles.create_profile(session, name=name)
    assert error.value.field == "name"


def test_a_name_in_use_is_refused_but_a_retired_one_may_return(
        association_file: AssociationFile) -> None:
    with association_file.write() as session:
        first = profiles.create_profile(session, name="山田")
    with pytest.raises(ConflictError, match="山田"), association_file.write() as session:
        profiles.create_profile(session, name="山田")
    with association_file.write() as session:
        profiles.retire_profile(session, profile_id=first.id)
        again = profiles.create_profile(session, name="山田")
    assert again.id != first.id


def test_a_pin_is_salted_hashed_and_checked(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        one = profiles.create_profile(session, name="一", pin="１２３４")  # full width typed
        two = profiles.create_profile(session, name="二", pin="1234")
        none = profiles.create_profile(session, name="三")
    assert "1234" not in one.pin_hash
    assert one.pin_hash != two.pin_hash  # a salt each
    salt, _sep, hashed = one.pin_hash.partition("$")
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(hashed)) == 32
    assert profiles.check_pin(one, "1234") and profiles.check_pin(one, "１２３４")
    assert not profiles.check_pin(one, "1235")
    assert not profiles.check_pin(one, "")
    assert not profiles.check_pin(one, "abcd")
    assert profiles.has_pin(one) and not profiles.has_pin(none)
    assert profiles.check_pin(none, "")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "12 34x"])
def test_a_bad_pin_is_refused(association_file: AssociationFile, pin: str) -> None:
    with pytest.raises(ValidationError, match="4 to 8 digits"), \
            association_file.write() as session:
        profiles.create_profile(session, name="山田", pin=pin)


def test_a_pin_can_be_changed_and_removed(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        profile = profiles.create_profile(session, name="山田", pin="1111")
        profiles.set_pin(session, profile_id=profile.id, pin="2222")
    assert profiles.check_pin(profile, "2222") and not profiles.check_pin(profile, "1111")
    with association_file.write() as session:
        profiles.set_pin(session, profile_id=profile.id, pin="")
    with association_file.read() as session:
        stored = profiles.get_profile(session, profile_id=profile.id)
    assert not profiles.has_pin(stored)


def test_a_damaged_stored_pin_never_matches(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        profile = profiles.create_profile(session, name="山田", pin="1111")
        profile.pin_hash = "zz$zz"
    assert not profiles.check_pin(profile, "1111")


def test_a_missing_profile_is_a_clear_error(association_file: AssociationFile) -> None:
    import uuid

    with pytest.raises(NotFoundError), association_file.write() as session:
        profiles.retire_profile(session, profile_id=uuid.uuid4())

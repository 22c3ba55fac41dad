"""Sharing the roster between office PCs: join by key code and by recovery words, edits on
several PCs converging, conflicts listed for review, revoking a PC and rotating the key,
a PC with a newer Kairan, damaged ciphertext, and what the relay keeps (no plaintext)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from desktop.domain.households import get_household, update_household, withdraw_household
from desktop.domain.models import Household, OutboxOp, OutboxState, SyncState
from desktop.store.association_file import AssociationFile
from sync.client import RelayRefused
from sync.engine import Outcome
from sync.replica import review, service
from tests.sync.replica_helpers import (
    Office,
    SharedAssociation,
    add_household,
    reviews,
    shared_rows,
)


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[SharedAssociation]:
    association = SharedAssociation.make(tmp_path / "shared")
    yield association
    association.close()


@pytest.fixture
def template(tmp_path: Path, association_file: AssociationFile) -> Path:
    """An association file with a few households, closed, to copy."""
    for number in ("1", "2", "3"):
        add_household(association_file, number, f"山田{number}", (f"山田 太郎{number}",))
    association_file.close()
    return association_file.path


def _rename(store: AssociationFile, number: str, **changes: str) -> None:
    with store.write() as session:
        household_id = session.exec(select(Household.id).where(
            Household.number == number)).one()
        record = get_household(session, household_id=household_id)
        from dataclasses import replace

        update_household(session, household_id=household_id,
                         data=replace(record.data, **changes), members=record.members)


def _sync_all(shared: SharedAssociation, rounds: int = 2) -> None:
    for _round in range(rounds):
        for office in shared.offices:
            status = office.sync()
            assert status.outcome == Outcome.SYNCED, status.error


def test_a_new_pc_receives_the_roster_by_key_code(shared: SharedAssociation,
                                                   template: Path) -> None:
    first, words = shared.first("kaicho", template)
    assert len(words) == 12
    code = _offer(first)
    second = shared.join("kaikei", key_code=code)
    assert shared_rows(second.store) == shared_rows(first.store)
    assert len(shared_rows(second.store)["household"]) == 3


def _offer(office: Office) -> str:
    return service.offer_key(office.store, relay=office.relay)


def test_edits_of_different_fields_both_survive(shared: SharedAssociation,
                                                template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    _rename(first.store, "1", address="新住所1")
    _rename(second.store, "1", phone="03-1234-5678")
    _sync_all(shared)
    assert shared_rows(first.store) == shared_rows(second.store)
    with first.store.read() as session:
        household = session.exec(select(Household).where(Household.number == "1")).one()
        assert (household.address, household.phone) == ("新住所1", "03-1234-5678")
        assert "03" in household.search_text or household.search_text  # worked out again
    assert reviews(first.store) == reviews(second.store) == []


def test_same_field_resolves_by_relay_order_and_is_listed(shared: SharedAssociation,
                                                          template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    _rename(first.store, "2", address="Aの住所")
    _rename(second.store, "2", address="Bの住所")
    first.sync()  # A's change reaches the relay first
    _sync_all(shared)
    assert shared_rows(first.store) == shared_rows(second.store)
    with first.store.read() as session:
        assert session.exec(select(Household.address).where(
            Household.number == "2")).one() == "Bの住所"
    listed = reviews(first.store)
    assert listed == reviews(second.store)
    assert [(kind, table, name, kept, lost) for _key, kind, table, name, kept, lost in listed] \
        == [("overwritten", "household", "address", '"Bの住所"', '"Aの住所"')]
    with first.store.read() as session:
        items = review.review_items(session)
    assert items[0].kept == "Bの住所" and items[0].lost == "Aの住所"


def test_restoring_an_overwritten_value_reaches_every_pc(shared: SharedAssociation,
                                                         template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    _rename(first.store, "2", address="Aの住所")
    _rename(second.store, "2", address="Bの住所")
    first.sync()
    _sync_all(shared)
    with first.store.write() as session:
        item = review.review_items(session)[0]
        review.decide_review(session, review_id=item.id, choice=review.RESTORE)
    _sync_all(shared)
    for office in shared.offices:
        with office.store.read() as session:
            assert session.exec(select(Household.address).where(
                Household.number == "2")).one() == "Aの住所"
            assert review.review_items(session) == []  # decided on one PC: closed on all
    assert shared_rows(first.store) == shared_rows(second.store)


def test_delete_racing_an_edit_is_listed_and_the_row_stays_deleted(
        shared: SharedAssociation, template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    with first.store.write() as session:
        household_id = session.exec(select(Household.id).where(Household.number == "3")).one()
        from desktop.domain.households import delete_new_household

        delete_new_household(session, household_id=household_id)
    _rename(second.store, "3", notes="電話あり")
    first.sync()
    _sync_all(shared, rounds=3)
    assert shared_rows(first.store) == shared_rows(second.store)
    assert all(row[1] != "3" for row in shared_rows(first.store)["household"])
    kinds = {row[1] for row in reviews(first.store)}
    assert kinds == {"edit_after_delete"}
    assert reviews(first.store) == reviews(second.store)


def test_a_delete_racing_two_edits_is_listed_alike_and_restores_whole(
        shared: SharedAssociation, template: Path) -> None:
    """One PC deletes a household while two others edit it: every PC lists the same entry
    (the search text and the other columns each PC works out itself are not part of it), and
    bringing the household back works those out again."""
    from desktop.domain.households import delete_new_household

    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    third = shared.join("shoki", key_code=_offer(first))
    with third.store.write() as session:
        household_id = session.exec(select(Household.id).where(Household.number == "3")).one()
        delete_new_household(session, household_id=household_id)
    _rename(first.store, "3", address="新しい住所")
    _rename(second.store, "3", phone="03-1111-2222")
    _sync_all(shared, rounds=3)
    listed = reviews(first.store)
    assert "deleted_edit" in {row[1] for row in listed}
    assert reviews(second.store) == listed and reviews(third.store) == listed
    with first.store.write() as session:
        (item,) = [i for i in review.review_items(session) if i.kind == "deleted_edit"]
        review.decide_review(session, review_id=item.id, choice=review.RESTORE)
    _sync_all(shared)
    for office in shared.offices:
        with office.store.read() as session:
            restored = session.get(Household, household_id)
            assert restored is not None and restored.address == "新しい住所"
            assert "新しい住所" in restored.search_text
    assert shared_rows(first.store) == shared_rows(second.store) == shared_rows(third.store)


def test_two_pcs_giving_one_role_are_listed(shared: SharedAssociation,
                                            template: Path) -> None:
    from desktop.domain.models import Member, Role
    from desktop.domain.roles import assign_role

    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    for office, number in ((first, "1"), (second, "2")):
        with office.store.write() as session:
            household_id = session.exec(select(Household.id).where(
                Household.number == number)).one()
            member_id = session.exec(select(Member.id).where(
                Member.household_id == household_id)).first()
            role_id = session.exec(select(Role.id).where(Role.name == "会長")).one()
            assign_role(session, role_id=role_id, year=2026, member_id=member_id)
    _sync_all(shared)
    assert shared_rows(first.store) == shared_rows(second.store)
    assert [row[1] for row in reviews(first.store)] == ["role_twice"]
    assert reviews(first.store) == reviews(second.store)


def test_recovery_words_bring_everything_back(shared: SharedAssociation,
                                              template: Path) -> None:
    first, words = shared.first("kaicho", template)
    add_household(first.store, "10", "新井")
    first.sync()
    rescued = shared.join("rescue", words=" ".join(words))
    assert shared_rows(rescued.store) == shared_rows(first.store)


def test_a_wrong_key_code_is_said_and_the_join_can_be_finished(
        shared: SharedAssociation, template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    _offer(first)
    with pytest.raises(Exception, match="key code"):
        shared.join("kaikei", key_code="ABCDE-FGHJK")
    # The half-joined file is finished with the right code (no second pairing code needed).
    code = _offer(first)
    folder = shared.folder / "kaikei"
    path = service.join_association(service.JoinRequest(
        folder=folder, relay_url="https://relay.test/kaikei", pairing_code="unused",
        device_name="kaikei", ca_file="", key_code=code),
        relay=lambda _url, token: __import__("tests.relay.inprocess", fromlist=["x"])
        .InProcessRelay(shared.database, token))
    assert path.parent == folder


def test_revoking_a_pc_rotates_the_key_and_reencrypts(shared: SharedAssociation,
                                                      template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    lost = shared.join("laptop", key_code=_offer(first))
    with lost.store.read() as session:
        lost_id = session.get(SyncState, 1).device_id  # type: ignore[union-attr]
    _rename(second.store, "1", notes="鍵の変更の前に書いた")  # sealed with the old key
    service.revoke_device(first.store, device_id=lost_id, relay=first.relay)
    with pytest.raises(RelayRefused):
        lost.relay.pull(after=0, limit=10, epoch="")
    add_household(first.store, "20", "新しい世帯")
    _sync_all(type(shared)(shared.folder, shared.database, shared.association_id,
                           [first, second]))
    assert shared_rows(first.store) == shared_rows(second.store)
    with second.store.read() as session:
        assert session.get(SyncState, 1).key_gen == 2  # type: ignore[union-attr]
    # Everything the relay keeps is sealed with the new key now.
    with shared.database.read() as connection:
        gens = connection.exec_driver_sql(
            "SELECT DISTINCT json_extract(body, '$.key_gen') FROM log WHERE kind = 'replica'"
        ).all()
    assert {row[0] for row in gens} == {2}
    with first.store.read() as session:
        assert session.exec(select(Household.notes).where(
            Household.number == "1")).one() == "鍵の変更の前に書いた"


def test_a_new_recovery_sheet_reaches_the_other_pcs(shared: SharedAssociation,
                                                     template: Path) -> None:
    first, _old_words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    words = service.new_recovery_sheet(first.store, relay=first.relay)
    _sync_all(shared)
    with first.store.read() as session:
        expected = session.get(SyncState, 1).recovery_public_key  # type: ignore[union-attr]
    with second.store.read() as session:
        assert session.get(SyncState, 1).recovery_public_key == expected  # type: ignore[union-attr]
    rescued = shared.join("rescue", words=" ".join(words))
    assert shared_rows(rescued.store) == shared_rows(first.store)


def test_the_relay_keeps_no_roster_plaintext(shared: SharedAssociation,
                                             template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    _rename(second.store, "1", address="秘密町一丁目", phone="090-9999-0000")
    add_household(first.store, "30", "鈴木", ("鈴木 花子",))
    _sync_all(shared)
    shared.database.dispose()
    raw = (shared.folder / "relay.db").read_bytes()
    wal = shared.folder / "relay.db-wal"
    raw += wal.read_bytes() if wal.exists() else b""
    for secret in ("秘密町一丁目", "090-9999-0000", "鈴木 花子", "山田 太郎1", "桜町1番地"):
        assert secret.encode() not in raw, secret


def test_a_pc_with_an_older_kairan_keeps_its_changes(shared: SharedAssociation,
                                                     template: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    from sync.replica import envelope

    monkeypatch.setattr(envelope, "REPLICA_SCHEMA", envelope.REPLICA_SCHEMA + 1)
    _rename(first.store, "1", notes="新しい版から")
    assert first.sync().outcome == Outcome.SYNCED
    monkeypatch.setattr(envelope, "REPLICA_SCHEMA", envelope.REPLICA_SCHEMA - 1)
    _rename(second.store, "2", notes="古い版から")
    status = second.sync()
    assert status.outcome == Outcome.UPDATE_NEEDED
    with second.store.read() as session:
        waiting = session.exec(select(OutboxOp).where(
            OutboxOp.state == OutboxState.PENDING)).all()
        assert waiting  # kept queued
        assert session.get(SyncState, 1).update_needed  # type: ignore[union-attr]


def test_damaged_ciphertext_is_listed_not_applied(shared: SharedAssociation,
                                                  template: Path) -> None:
    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    _rename(first.store, "1", notes="壊れる")
    first.sync()
    with shared.database.write() as connection:
        connection.exec_driver_sql(
            "UPDATE log SET body = json_set(body, '$.ct', substr(json_extract(body, '$.ct'), 1, "
            "40)) WHERE seq = (SELECT max(seq) FROM log WHERE kind = 'replica')")
    status = second.sync()
    assert status.outcome == Outcome.SYNCED
    assert status.rejected == 1  # listed among the sync problems


def test_clock_skew_is_warned_about(shared: SharedAssociation, template: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from sync.replica import sharing

    first, _words = shared.first("kaicho", template)
    real = sharing.clock_skew
    monkeypatch.setattr(sharing, "clock_skew", lambda status, now=None: 86_400)
    first.sync()
    monkeypatch.setattr(sharing, "clock_skew", real)
    info = service.sharing_info(first.store)
    assert "24 hours" in info.clock_warning or "24時間" in info.clock_warning


def test_withdrawn_household_replicates(shared: SharedAssociation, template: Path) -> None:
    from datetime import date

    first, _words = shared.first("kaicho", template)
    second = shared.join("kaikei", key_code=_offer(first))
    with first.store.write() as session:
        household_id = session.exec(select(Household.id).where(Household.number == "2")).one()
        withdraw_household(session, household_id=household_id, left_on=date(2026, 5, 1))
    _sync_all(shared)
    assert shared_rows(first.store) == shared_rows(second.store)


def test_disconnecting_forgets_the_keys(shared: SharedAssociation, template: Path) -> None:
    from sync.e2e.keys import load_key_ring
    from sync.pairing import unpair

    first, _words = shared.first("kaicho", template)
    assert load_key_ring(first.url, shared.association_id) is not None
    unpair(first.store)
    assert load_key_ring(first.url, shared.association_id) is None
    add_household(first.store, "40", "切断後")  # nothing is recorded for the other PCs now
    with first.store.read() as session:
        assert session.exec(select(OutboxOp)).all() == []

"""A hypothesis state machine of 2–4 office PCs sharing one roster through the relay.

The PCs edit, add and delete households, go offline, sync, are killed mid-sync (the relay's
answer lost, the file closed and opened again) and the relay restarts. At the end every PC is
brought online and synced, and then:

- every PC holds the same shared rows, equal to a model that applies the relay's log in its
  order (last writer wins per field, deletes stay deleted);
- nothing was applied twice (the relay holds each operation once; no PC has a shared change
  left on its way);
- no deleted row came back;
- every PC lists the same changes to review, and every overwritten value the model sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select

from desktop.domain.errors import KairanError
from desktop.domain.households import (
    delete_new_household,
    get_household,
    update_household,
)
from desktop.domain.models import Household, OutboxOp, OutboxState
from desktop.store.association_file import AssociationFile, open_association
from sync.client import RelayUnavailable
from sync.engine import sync_once
from sync.protocol import LogItem, Op, OpResult
from sync.relay.db import open_database
from sync.replica import service
from sync.replica.apply import OVERWRITTEN
from sync.replica.envelope import open_item
from sync.replica.sharing import sharing_of
from tests.relay.inprocess import InProcessRelay
from tests.sync.helpers import MemoryKeyring
from tests.sync.replica_helpers import SharedAssociation, add_household, reviews, shared_rows

PCS = 4
FIELDS = ("address", "phone", "notes")
PHONES = {"あ": "03-1111-2222", "い": "090-1234-5678", "う": "0561-11-2222"}
COMPARED = ("id", "number", "display_name", "address", "phone", "notes", "left_on")


class LosingAnswers:
    """A relay whose answer to one push is lost on the way (the push was applied)."""

    def __init__(self, relay: InProcessRelay) -> None:
        self.relay = relay

    def __getattr__(self, name: str) -> Any:
        return getattr(self.relay, name)

    def push(self, ops: list[Op]) -> list[OpResult]:
        self.relay.push(ops)
        raise RelayUnavailable("lost", offline=True)


@pytest.fixture
def shared_template(tmp_path: Path, association_file: AssociationFile,
                    memory_keyring: MemoryKeyring) -> tuple[Path, dict[Any, str], list[str]]:
    """Four office PCs sharing two households (files, relay and keyring), to copy."""
    for number in ("1", "2"):
        add_household(association_file, number, f"世帯{number}", (f"会員{number}",))
    association_file.close()
    folder = tmp_path / "template"
    shared = SharedAssociation.make(folder)
    first, _words = shared.first("pc0", association_file.path)
    for index in range(1, PCS):
        shared.join(f"pc{index}", key_code=service.offer_key(first.store, relay=first.relay))
    for office in shared.offices:
        office.sync()
    paths = [str(office.store.path.relative_to(folder)) for office in shared.offices]
    shared.close()
    return folder, dict(memory_keyring.passwords), paths


class Offices(RuleBasedStateMachine):
    """2–4 PCs around one relay; see the module docstring."""

    def __init__(self, template: tuple[Path, dict[Any, str], list[str]], work: Path,
                 keyring: MemoryKeyring) -> None:
        super().__init__()
        self.template = template
        self.work = work
        self.keyring = keyring
        self.stores: list[AssociationFile] = []
        self.relays: list[InProcessRelay] = []
        self.offline: set[int] = set()
        self.numbers = 100

    @initialize(count=st.integers(2, PCS))
    def start(self, count: int) -> None:
        folder, passwords, paths = self.template
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(folder, self.work)
        self.keyring.passwords = dict(passwords)
        self.database = open_database(f"sqlite:///{self.work / 'relay.db'}")
        self.paths = [self.work / path for path in paths[:count]]
        for path in self.paths:
            store = open_association(path)
            self.stores.append(store)
            self.relays.append(self._relay(store))

    def _relay(self, store: AssociationFile) -> InProcessRelay:
        from sync import credentials

        with store.read() as session:
            sharing = sharing_of(session)
        assert sharing is not None
        token = credentials.load_token(credentials.token_key(sharing.relay_url,
                                                             sharing.association_id))
        return InProcessRelay(self.database, token)

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        if hasattr(self, "database"):
            self.database.dispose()

    # ------------------------------------------------------------ what officers do

    def _numbers(self, pc: int) -> list[str]:
        with self.stores[pc].read() as session:
            return sorted(session.exec(select(Household.number)).all())

    @rule(pc=st.integers(0, PCS - 1), which=st.integers(0, 10), field=st.sampled_from(FIELDS),
          value=st.sampled_from(("あ", "い", "う", "")))
    def edit(self, pc: int, which: int, field: str, value: str) -> None:
        pc %= len(self.stores)
        numbers = self._numbers(pc)
        if not numbers:
            return
        number = numbers[which % len(numbers)]
        with self.stores[pc].write() as session:
            household_id = session.exec(select(Household.id).where(
                Household.number == number)).one()
            record = get_household(session, household_id=household_id)
            if field == "phone":
                value = PHONES.get(value, "")
            update_household(session, household_id=household_id,
                             data=replace(record.data, **{field: value}),
                             members=record.members)

    @rule(pc=st.integers(0, PCS - 1))
    def add(self, pc: int) -> None:
        pc %= len(self.stores)
        self.numbers += 1
        add_household(self.stores[pc], str(self.numbers), f"新{self.numbers}",
                      (f"会員{self.numbers}",))

    @rule(pc=st.integers(0, PCS - 1), which=st.integers(0, 10))
    def delete(self, pc: int, which: int) -> None:
        pc %= len(self.stores)
        numbers = self._numbers(pc)
        if not numbers:
            return
        with self.stores[pc].write() as session:
            household_id = session.exec(select(Household.id).where(
                Household.number == numbers[which % len(numbers)])).one()
            with contextlib.suppress(KairanError):  # it has role history
                delete_new_household(session, household_id=household_id)

    # ------------------------------------------------------------ networks and faults

    @rule(pc=st.integers(0, PCS - 1))
    def sync(self, pc: int) -> None:
        pc %= len(self.stores)
        if pc not in self.offline:
            sync_once(self.stores[pc], self.relays[pc])

    @rule(pc=st.integers(0, PCS - 1))
    def go_offline(self, pc: int) -> None:
        self.offline.add(pc % len(self.stores))

    @rule(pc=st.integers(0, PCS - 1))
    def come_online(self, pc: int) -> None:
        self.offline.discard(pc % len(self.stores))

    @rule(pc=st.integers(0, PCS - 1))
    def killed_mid_sync(self, pc: int) -> None:
        """The push reaches the relay, the answer is lost, the process dies."""
        pc %= len(self.stores)
        if pc in self.offline:
            return
        sync_once(self.stores[pc], LosingAnswers(self.relays[pc]))  # type: ignore[arg-type]
        self.stores[pc].close()
        self.stores[pc] = open_association(self.paths[pc])

    @precondition(lambda self: bool(self.stores))
    @rule()
    def relay_restarts(self) -> None:
        self.database.dispose()
        self.database = open_database(f"sqlite:///{self.work / 'relay.db'}")
        for relay in self.relays:
            relay.database = self.database

    @invariant()
    def files_stay_sound(self) -> None:
        for store in self.stores:
            with store.read() as session:
                assert session.connection().exec_driver_sql(
                    "SELECT count(*) FROM replica_change").scalar() == 0

    # ------------------------------------------------------------ the end

    def settle(self) -> None:
        self.offline.clear()
        for _round in range(3):
            for store, relay in zip(self.stores, self.relays, strict=True):
                sync_once(store, relay)
        first = shared_rows(self.stores[0])
        listed = reviews(self.stores[0])
        for store in self.stores[1:]:
            assert shared_rows(store) == first
            assert reviews(store) == listed
        for store in self.stores:
            with store.read() as session:
                assert session.exec(select(OutboxOp).where(
                    OutboxOp.kind == "replica",
                    col(OutboxOp.state).in_((OutboxState.PENDING, OutboxState.SENT)))).all() == []
        model, tombs, overwritten = self.model()
        households = {row[0]: row for row in self._compared(self.stores[0])}
        assert set(households) == set(model)
        for key, values in model.items():
            assert households[key] == tuple(values.get(c) for c in COMPARED)
        assert not set(households) & tombs
        found = {key for key, kind, *_rest in listed if kind == OVERWRITTEN}
        assert overwritten <= found

    def _compared(self, store: AssociationFile) -> list[tuple[Any, ...]]:
        with store.read() as session:
            return [tuple(row) for row in session.connection().exec_driver_sql(
                f"SELECT {', '.join(COMPARED)} FROM household").all()]

    def model(self) -> tuple[dict[str, dict[str, Any]], set[str], set[str]]:
        """Households as the relay's log says, applied in order by the simplest rule."""
        with self.stores[0].read() as session:
            sharing = sharing_of(session)
        assert sharing is not None
        with self.database.read() as connection:
            rows = connection.exec_driver_sql(
                "SELECT seq, kind, body, at FROM log WHERE kind = 'replica' ORDER BY seq").all()
            op_ids = [json.loads(row[2])["op_id"] for row in rows]
        assert len(op_ids) == len(set(op_ids))  # nothing applied twice
        start = {row[0]: dict(zip(COMPARED, row, strict=True))
                 for row in self._initial()}
        households: dict[str, dict[str, Any]] = start
        tombs: set[str] = set()
        overwritten: set[str] = set()
        for seq, kind, body, at in rows:
            item = LogItem(seq, kind, json.loads(body), at)
            shared = open_item(item, sharing.ring, association_id=sharing.association_id)
            for change in shared.changes:
                if change.table != "household":
                    continue
                key = json.loads(change.key)[0]
                if change.op == "d":
                    households.pop(key, None)
                    tombs.add(key)
                elif key in tombs:
                    continue
                elif change.op in ("i", "r"):
                    households[key] = {c: change.values.get(c) for c in COMPARED}
                elif key in households:
                    row = households[key]
                    for name, value in change.values.items():
                        if name in COMPARED and name in change.base \
                                and change.base[name] != row[name] and row[name] != value:
                            overwritten.add(f"{OVERWRITTEN}:household:{change.key}:{name}:{seq}")
                        if name in COMPARED:
                            row[name] = value
        return households, tombs, overwritten

    def _initial(self) -> list[tuple[Any, ...]]:
        template_file = self.template[0] / self.template[2][0]
        opened = open_association(template_file)
        try:
            return self._compared(opened)
        finally:
            opened.close()


def test_office_pcs_converge(shared_template: tuple[Path, dict[Any, str], list[str]],
                             tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    work = tmp_path / "work"

    def machine() -> Offices:
        return _Settling(shared_template, work, memory_keyring)

    run_state_machine_as_test(machine, settings=settings(
        max_examples=int(os.environ.get("KAIRAN_MACHINE_EXAMPLES", "300")),
        stateful_step_count=12, deadline=None,
        # The explain phase re-runs a failing case line-traced: minutes for this machine.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


class _Settling(Offices):
    def teardown(self) -> None:
        try:
            if self.stores:
                self.settle()
        finally:
            super().teardown()

"""Residents' invitations: a random code per household, only its hash queued for the relay,
the join link in the QR, and nothing issued while the file is not paired."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlmodel import select

from desktop.domain.errors import ConflictError, NotFoundError
from desktop.domain.invitations import (
    invitation_households,
    issue_invitations,
    revoke_invitation,
)
from desktop.domain.models import OutboxOp
from desktop.store.association_file import AssociationFile
from sync.invitation_codes import (
    CODE_ALPHABET,
    canonical_invitation_code,
    invitation_code_hash,
    join_link,
    new_invitation_code,
)
from sync.protocol import Op, OpKind, check_op
from tests.domain.test_circulars import Town, build_town
from tests.sync.helpers import mark_paired


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


def test_codes_are_random_unambiguous_and_fold_what_phones_change() -> None:
    codes = {new_invitation_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{4}}-[{CODE_ALPHABET}]{{4}}", code)
    assert not set("0O1IL5S2Z8BUV") & set(CODE_ALPHABET)
    for typed in ("k7qm 2xta", "ｋ７ｑｍ－２ｘｔａ", "K7QM-2XTA"):
        assert canonical_invitation_code(typed) == "K7QM2XTA"
    assert invitation_code_hash("k7qm 2xta") == hashlib.sha256(b"K7QM2XTA").hexdigest()
    assert join_link("https://relay.test/", "K7QM-2XTA") == \
        "https://relay.test/r/join?code=K7QM-2XTA"


def test_issuing_queues_only_the_hash(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        mark_paired(session, relay_url="https://relay.test/")
        han1 = invitation_households(session, group_id=town.han1)
        assert han1 == [town.households[n] for n in ("0003", "0001", "0002")]  # the route
        batch = issue_invitations(session, household_ids=han1)
    assert batch.association and batch.relay_url == "https://relay.test/"
    first = batch.invitations[0]
    assert (first.number, first.display_name, first.group_name) == ("0003", "世帯0003", "1班")
    assert first.link == f"https://relay.test/r/join?code={first.code}"
    with association_file.read() as session:
        ops = session.exec(select(OutboxOp).order_by(OutboxOp.position)).all()  # type: ignore[arg-type]
    assert [op.kind for op in ops] == [OpKind.INVITATION_ISSUE] * 3
    for op, invitation in zip(ops, batch.invitations, strict=True):
        check_op(Op(str(op.id), op.kind, op.body))
        assert op.body == {"household_id": str(invitation.household_id),
                           "code_hash": invitation_code_hash(invitation.code)}
        assert invitation.code.replace("-", "") not in str(op.body)  # never the code itself


def test_choosing_households(association_file: AssociationFile, town: Town) -> None:
    ids = town.households
    with association_file.write() as session:
        everyone = invitation_households(session)
        assert ids["0007"] not in everyone  # withdrawn
        assert set(everyone) == {ids[n] for n in ids if n != "0007"}
        district = invitation_households(session, group_id=town.district)
        assert set(district) == {ids[n] for n in ("0001", "0002", "0003", "0004", "0005")}
        paper = invitation_households(session, paper_only=True)
        assert ids["0002"] not in paper and ids["0005"] not in paper and ids["0001"] in paper
        mark_paired(session)
        again = issue_invitations(session, household_ids=[ids["0001"]]).invitations[0].code
        newer = issue_invitations(session, household_ids=[ids["0001"]]).invitations[0].code
        assert again != newer  # a lost slip: a new code replaces it
        with pytest.raises(NotFoundError, match="withdrawn"):
            issue_invitations(session, household_ids=[ids["0007"]])
        revoke_invitation(session, household_id=ids["0001"])
        last = session.exec(select(OutboxOp).order_by(
            OutboxOp.position.desc())).first()  # type: ignore[attr-defined]
        assert last is not None and last.kind == OpKind.INVITATION_REVOKE
        assert last.body == {"household_id": str(ids["0001"])}


def test_an_unpaired_file_issues_nothing(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session, pytest.raises(ConflictError, match="relay"):
        issue_invitations(session, household_ids=[town.households["0001"]])
    with association_file.read() as session:
        assert session.exec(select(OutboxOp)).first() is None

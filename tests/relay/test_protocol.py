"""The wire protocol's op checks: what the relay accepts is exactly what the contract names."""

from __future__ import annotations

import uuid

import pytest

from sync.protocol import (
    OP_FIELDS,
    LogPage,
    Op,
    OpResult,
    OpStatus,
    ProtocolError,
    check_op,
    op_fingerprint,
)


def _household() -> dict[str, object]:
    return {"household_id": str(uuid.uuid4()), "number": "3-1", "display_name": "山田",
            "group_id": None, "group_name": "3班"}


def test_a_valid_op_passes_and_every_kind_is_known() -> None:
    check_op(Op(id=str(uuid.uuid4()), kind="household.upsert", body=_household()))
    assert set(OP_FIELDS) == {
        "household.upsert", "household.purge", "invitation.issue", "invitation.revoke",
        "circular.publish", "circular.retract", "disaster.set", "answer.record",
        "meeting.publish", "meeting.retract", "safety.record", "association.profile",
        "mail.addresses", "mail.resend"}


@pytest.mark.parametrize(("addresses", "valid"), [
    ([], True), (["taro@docomo.ne.jp", "hanako.y@example.jp"], True),
    (["a@b.jp"] * 5, False),  # at most four
    (["taro@docomo"], False), (["taro yamada@example.jp"], False), (["＠example.jp"], False),
    (["x" * 250 + "@a.jp"], False)])
def test_mail_addresses_are_checked_before_the_relay_keeps_them(
    addresses: list[str], valid: bool
) -> None:
    op = Op(id=str(uuid.uuid4()), kind="mail.addresses",
            body={"household_id": str(uuid.uuid4()), "addresses": addresses})
    if valid:
        check_op(op)
    else:
        with pytest.raises(ProtocolError, match="addresses"):
            check_op(op)


@pytest.mark.parametrize(("at", "valid"), [
    ("2026-11-23T10:42:00+09:00", True), ("2026-11-23T01:42:00Z", True),
    ("2026-11-23T10:42:00", False),  # no offset: whose 10:42?
    ("yesterday", False), (1764000000, False)])
def test_a_safety_record_needs_a_moment_with_its_offset(at: object, valid: bool) -> None:
    body = {"answer_id": str(uuid.uuid4()), "household_id": str(uuid.uuid4()), "status": "ok",
            "note": "", "needs_help": False, "channel": "phone", "at": at}
    op = Op(id=str(uuid.uuid4()), kind="safety.record", body=body)
    if valid:
        check_op(op)
    else:
        with pytest.raises(ProtocolError, match="at"):
            check_op(op)


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"id": "123"}, "invalid_id", "123"),
    ({"kind": "household.delete"}, "unknown_kind", "household.delete"),
    ({"body": {**_household(), "phone": "090"}}, "invalid_body", "phone"),
    ({"body": {**_household(), "group_id": "3班"}}, "invalid_body", "group_id"),
    ({"body": {k: v for k, v in _household().items() if k != "number"}}, "invalid_body",
     "number"),
    ({"body": {**_household(), "display_name": "x" * 20_001}}, "invalid_body", "display_name"),
])
def test_bad_ops_say_what_is_wrong(change: dict[str, object], code: str, words: str) -> None:
    fields: dict[str, object] = {"id": str(uuid.uuid4()), "kind": "household.upsert",
                                 "body": _household(), **change}
    op = Op(id=str(fields["id"]), kind=str(fields["kind"]), body=fields["body"])  # type: ignore[arg-type]
    with pytest.raises(ProtocolError) as caught:
        check_op(op)
    assert caught.value.code == code
    assert words in caught.value.message


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    body = _household()
    reordered = dict(reversed(list(body.items())))
    assert op_fingerprint("household.upsert", body) == op_fingerprint("household.upsert",
                                                                      reordered)
    assert op_fingerprint("household.upsert", body) != op_fingerprint(
        "household.upsert", {**body, "display_name": "佐藤"})


def test_messages_round_trip_through_json() -> None:
    result = OpResult(id="x", status=OpStatus.REJECTED, code="id_reused", message="m")
    assert OpResult.from_json(result.to_json()) == result
    assert "seq" not in result.to_json()
    page = LogPage.from_json({"epoch": "e", "more": True, "items": [
        {"seq": 1, "kind": "read", "body": {"circular_id": "c"}, "at": "2025-01-01T00:00:00Z"}]})
    assert page.items[0].seq == 1 and page.more

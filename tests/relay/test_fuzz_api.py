"""Property-based fuzzing of the relay's office API with schemathesis, from the OpenAPI document
the relay itself serves (``/api/v1/openapi.json``), against a real relay over HTTPS.

Every operation gets valid and invalid requests (positive and negative generation), sent with
an office token, a resident session's token and no token at all. The relay must never answer
5xx, and only with a status its document lists for that operation. Kept small (a few dozen
examples per operation and mode) so that it stays a few seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from sync.invitation_codes import canonical_invitation_code
from sync.protocol import OPENAPI_PATH, hash_secret
from sync.relay.config import Settings
from tests.relay.relay_server import RunningRelay, TlsFiles, household_op, push, running_relay

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 25  # per operation and generation mode with the office token
STRANGER_EXAMPLES = 8  # per operation with a resident's token and with none


@pytest.fixture(scope="module")
def fuzz_relay(tmp_path_factory: pytest.TempPathFactory,
               tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A relay whose rate limits stay out of the way (429 is tested on its own)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'relay.db'}"
    settings_ = Settings(rate_burst=1_000_000, rate_per_second=1_000_000.0,
                         pair_rate_burst=1_000_000, pair_rate_per_second=1_000_000.0)
    with running_relay(url, tls_files, settings=settings_) as relay:
        yield relay


def _credentials(relay: RunningRelay) -> dict[str, dict[str, str]]:
    _association, office = relay.office()
    household = household_op()
    code = "FUZZ-CODE-0001"
    push(office, [household, {"id": str(uuid.uuid4()), "kind": "invitation.issue",
                              "body": {"household_id": household["body"]["household_id"],
                                       "code_hash": hash_secret(
                                           canonical_invitation_code(code))}}])
    phone = relay.client()
    page = phone.get("/r/join")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    joined = phone.post("/r/join", data={"csrf": csrf, "code": code})
    assert joined.status_code == 303, joined.text
    resident = phone.cookies.get("__Host-kairan-session")
    assert resident
    return {
        "office": {"Authorization": office.headers["authorization"]},
        "resident": {"Authorization": f"Bearer {resident}"},
        "none": {},
    }


def test_the_office_api_never_fails_and_answers_only_documented_statuses(
        fuzz_relay: RunningRelay) -> None:
    import requests
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import status_code_conformance

    ca_file = str(fuzz_relay.tls.ca_file)
    schema = schemathesis.openapi.from_url(fuzz_relay.url + OPENAPI_PATH, verify=ca_file)
    credentials = _credentials(fuzz_relay)
    session = requests.Session()
    session.verify = ca_file
    seen: dict[str, set[int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /api/v1/pair", "POST /api/v1/ops",
                                               "GET /api/v1/log"}
    plan = [("office", GenerationMode.POSITIVE, EXAMPLES),
            ("office", GenerationMode.NEGATIVE, EXAMPLES),
            ("resident", GenerationMode.POSITIVE, STRANGER_EXAMPLES),
            ("none", GenerationMode.POSITIVE, STRANGER_EXAMPLES)]
    try:
        for operation in operations:
            for who, mode, examples in plan:
                _fuzz(operation, mode=mode, examples=examples, session=session,
                      base_url=fuzz_relay.url, headers=credentials[who],
                      checks=[not_a_server_error, status_code_conformance],
                      statuses=seen.setdefault(f"{operation.label} {who}", set()))
    finally:
        session.close()
    # The fuzzing reached past the guards: real successes and real refusals.
    assert 200 in seen["POST /api/v1/ops office"]
    assert 200 in seen["GET /api/v1/log office"]
    assert 403 in seen["GET /api/v1/log resident"]
    assert 403 in seen["POST /api/v1/ops resident"]
    assert 200 not in seen["GET /api/v1/log resident"] | seen["POST /api/v1/ops resident"]
    assert 401 in seen["POST /api/v1/ops none"]


def _fuzz(operation: Any, *, mode: Any, examples: int, session: Any, base_url: str,
          headers: dict[str, str], checks: list[Any], statuses: set[int]) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30,
                             verify=session.verify)
        statuses.add(response.status_code)
        case.validate_response(response, checks=checks, headers=headers)

    run()

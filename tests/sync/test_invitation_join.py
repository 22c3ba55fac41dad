"""End to end: invitations issued on the office PC are pushed to a real relay (HTTPS, resident
pages on), and a phone joins with the printed code — through the QR link or typed in lower
case — while a code replaced by a newer one no longer works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.domain.invitations import invitation_households, issue_invitations
from desktop.store.association_file import AssociationFile
from sync import outbox
from sync.engine import Outcome, open_client, sync_once
from sync.pairing import pair
from tests.domain.test_circulars import build_town
from tests.relay.relay_server import RunningRelay, TlsFiles, running_relay
from tests.sync.conftest import GENEROUS, TODAY

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def resident_relay(tmp_path: Path, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files,
                       settings=GENEROUS) as running:
        yield running


def _join(relay: RunningRelay, *, link: str | None = None, code: str = "") -> int:
    """A phone opens the join page (by the QR link, or bare and types the code)."""
    phone = relay.client()
    page = phone.get(link or "/r/join")
    assert page.status_code == 200
    if link is not None:
        found = re.search(r'name="code"[^>]*value="([^"]*)"', page.text)
        assert found, page.text
        code = found[1]  # filled in from the link
    csrf = _CSRF.search(page.text)
    assert csrf, page.text
    return phone.post("/r/join", data={"csrf": csrf[1], "code": code}).status_code


def test_a_printed_code_opens_the_resident_page(association_file: AssociationFile,
                                               resident_relay: RunningRelay) -> None:
    with association_file.write() as session:
        build_town(session)
    _association_id, pairing_code = resident_relay.new_association("桜町自治会")
    pair(association_file, relay_url=resident_relay.url, code=pairing_code,
         device_name="事務所PC", ca_file=str(resident_relay.tls.ca_file), today=TODAY)
    with association_file.write() as session:
        households = invitation_households(session)[:2]
        first, second = issue_invitations(session, household_ids=households).invitations
        replaced = issue_invitations(session, household_ids=[households[1]]).invitations[0]
    with open_client(association_file) as client:
        assert sync_once(association_file, client).outcome == Outcome.SYNCED

    assert first.link.startswith(resident_relay.url + "/r/join?code=")
    assert _join(resident_relay, link=first.link.removeprefix(resident_relay.url)) == 303
    assert _join(resident_relay, code=first.code.lower().replace("-", " ")) == 303
    assert _join(resident_relay, code=replaced.code) == 303
    assert _join(resident_relay, code=second.code) != 303  # the lost slip's code is dead


def test_the_purpose_statement_reaches_every_resident_page(
        association_file: AssociationFile, resident_relay: RunningRelay) -> None:
    with association_file.write() as session:
        build_town(session)
    _association_id, pairing_code = resident_relay.new_association("桜町自治会")
    pair(association_file, relay_url=resident_relay.url, code=pairing_code,
         device_name="事務所PC", ca_file=str(resident_relay.tls.ca_file), today=TODAY)
    with association_file.write() as session:
        [invitation] = issue_invitations(
            session, household_ids=invitation_households(session)[:1]).invitations
        outbox.association_profile_changed(
            session, purpose_statement="名簿は回覧と災害時の安否確認にのみ使います。")
    with open_client(association_file) as client:
        assert sync_once(association_file, client).outcome == Outcome.SYNCED

    phone = resident_relay.client()
    page = phone.get(invitation.link.removeprefix(resident_relay.url))
    csrf = _CSRF.search(page.text)
    assert csrf
    code = re.search(r'name="code"[^>]*value="([^"]*)"', page.text)
    assert code
    assert phone.post("/r/join", data={"csrf": csrf[1], "code": code[1]}).status_code == 303
    home = phone.get("/r/")
    assert "個人情報の利用目的" in home.text
    assert "名簿は回覧と災害時の安否確認にのみ使います。" in home.text

"""The e-mail channel end to end: the office publishes a circular, the relay mails it through a
real SMTP server (aiosmtpd on 127.0.0.1), the household opens its personal link, and the office
sees "sent", "opened" and the read mark after its next sync."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from desktop.domain.circulars import CircularData, create_circular, send_circular
from desktop.domain.mail_status import MailState, mail_status
from desktop.domain.models import Ask, ReplyChannel
from desktop.store.association_file import AssociationFile
from sync.engine import Outcome, open_client, sync_once
from sync.pairing import pair
from sync.relay.mail.sender import MailSender
from sync.relay.mail.settings import MailSettings, Security
from tests.domain.test_circulars import build_town
from tests.relay.mail_support import Sink, smtp_server
from tests.relay.relay_server import RunningRelay, TlsFiles, running_relay
from tests.sync.conftest import GENEROUS, TODAY

SENT_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def relay(tmp_path: Path, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    """A real relay over HTTPS with its residents' pages and the mails' links."""
    with running_relay(f"sqlite:///{tmp_path / 'relay.db'}", tls_files,
                       settings=GENEROUS) as running:
        yield running


def test_a_circular_reaches_an_email_household_and_its_opening_comes_back(
    association_file: AssociationFile, relay: RunningRelay
) -> None:
    with association_file.write() as session:
        town = build_town(session)  # 0005's notices go by e-mail, to x@example.jp
    association_id, code = relay.new_association("桜町自治会")
    pair(association_file, relay_url=relay.url, code=code, device_name="事務所PC",
         ca_file=str(relay.tls.ca_file), today=TODAY)
    with association_file.write() as session:
        circular_id = create_circular(session, data=CircularData(
            title="防災訓練のお知らせ", body="6月15日(日) 9時から、公園で防災訓練を行います。",
            issued_on=date(2026, 6, 1), ask=Ask.ATTENDANCE, deadline=date(2026, 6, 12)))
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    with open_client(association_file) as client:
        assert sync_once(association_file, client).outcome == Outcome.SYNCED

    sink = Sink()
    with smtp_server(sink) as server:
        settings = MailSettings(host="127.0.0.1", port=server.port, security=Security.NONE,
                                from_address="kairan@relay.example.jp", base_url=relay.url,
                                rate_per_minute=6000, retry_base_seconds=0.1)
        tally = MailSender(relay.database, settings, report=lambda _text: None).drain()
    assert tally.sent == 1
    [mail] = sink.received
    assert mail.recipients == ("x@example.jp",)
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert "要返信" in str(message["Subject"]) and "防災訓練" in str(message["Subject"])
    text = message.get_content()
    assert "6月15日" in text
    link = re.search(re.escape(relay.url) + r"/k/[0-9A-Z]{10}(?=\s)", text)
    assert link is not None, text

    with httpx.Client(verify=ssl.create_default_context(cafile=relay.tls.ca_file)) as browser:
        page = browser.get(link.group(0))
        assert page.status_code == 200 and "防災訓練のお知らせ" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answered = browser.post(link.group(0), data={"csrf": csrf.group(1), "q1": "出席"})
        assert answered.status_code == 303

    with open_client(association_file) as client:
        assert sync_once(association_file, client).outcome == Outcome.SYNCED
    with association_file.read() as session:
        groups = mail_status(session, circular_id=circular_id)
    [household] = [h for group in groups for h in group.households]
    assert household.household_id == town.households["0005"]
    assert household.mail is MailState.OPENED
    assert household.read_at is not None and household.has_read
    assert household.answer_channel is ReplyChannel.EMAIL  # answered through the mail's link
    assert association_id

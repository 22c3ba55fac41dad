"""The resident page clicked through in a real headless browser (Debian's chromium driven by
Playwright, with JavaScript switched off) against a real relay over HTTPS.

Only the system's ``/usr/bin/chromium`` is used, never a browser Playwright would download; the
test relay's certificate is trusted by pinning its public key (``--ignore-certificate-errors-
spki-list``), so every other certificate error would still stop the browser.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.invitation_codes import canonical_invitation_code, join_link
from sync.protocol import hash_secret
from sync.relay.config import Settings
from tests.relay.relay_server import RunningRelay, TlsFiles, pull_all, push, running_relay

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file() or shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (apt-get install -y chromium); the resident "
           "page is clicked through in it, never in a browser downloaded by Playwright",
)


def _spki_pin(cert_file: Path) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of the first certificate in ``cert_file``."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    spki = certificate.public_key().public_bytes(Encoding.DER,
                                                 PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[RunningRelay]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'relay.db'}"
    with running_relay(url, tls_files, settings=Settings(pair_rate_burst=100)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tls_files: TlsFiles) -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=[f"--ignore-certificate-errors-spki-list={_spki_pin(tls_files.cert_file)}"])
        try:
            yield launched
        finally:
            launched.close()


def _op(kind: str, **body: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "body": body}


def _applied(office: Any, *ops: dict[str, Any]) -> None:
    assert all(r["status"] == "applied" for r in push(office, list(ops)))


def test_a_resident_joins_answers_switches_language_and_checks_in_safe(
        relay: RunningRelay, browser: Any) -> None:
    association_id, office = relay.office("桜町内会")
    household_id, code = str(uuid.uuid4()), "QR7K-MP2X-4HTN"
    circular_id = str(uuid.uuid4())
    _applied(office,
             _op("household.upsert", household_id=household_id, number="0012",
                 display_name="山田", group_id=None, group_name="3班"),
             _op("invitation.issue", household_id=household_id,
                 code_hash=hash_secret(canonical_invitation_code(code))),
             _op("circular.publish", circular_id=circular_id, title="夏祭りのお知らせ",
                 body="# 日時\n8月2日 18時から\n- 会場: 公園\n- 雨天中止",
                 issued_on="2025-07-01", issuer="会長 山田 太郎", ask="survey",
                 questions=[{"text": "参加しますか", "kind": "choice",
                             "choices": ["参加する", "参加しない"]},
                            {"text": "ご意見", "kind": "text", "choices": []}],
                 deadline="2025-07-20", household_ids=[household_id]))

    context = browser.new_context(java_script_enabled=False, locale="ja-JP",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # The QR link opens the code page with the code filled in.
        page.goto(join_link(relay.url, code))
        assert page.locator("#code").input_value() == code
        page.click("#join")
        assert page.url == f"{relay.url}/r/"
        assert page.locator(".who").inner_text().startswith("桜町内会")
        assert "山田 様" in page.locator(".who").inner_text()
        listing = page.locator("#circulars")
        assert "夏祭りのお知らせ" in listing.inner_text() and "未読" in listing.inner_text()

        # Open it, answer the survey: the choice is required, the note free.
        page.click("text=夏祭りのお知らせ")
        assert page.locator("article h3").inner_text() == "日時"
        assert page.locator("article li").all_inner_texts() == ["会場: 公園", "雨天中止"]
        page.fill("textarea[name=q2]", "楽しみにしています")
        page.check("input[name=q1][value=参加する]")
        page.click("#send")
        assert page.locator("#sent").inner_text() == "回答を送信しました。ありがとうございました。"
        assert page.locator("input[name=q1][value=参加する]").is_checked()
        page.click("text=一覧に戻る")
        assert "回答済み" in page.locator("#circulars").inner_text()
        assert "未読" not in page.locator("#circulars").inner_text()

        # English, and back (the same page).
        page.click("#lang-en")
        assert page.locator("h1").inner_text() == "Notices"
        assert page.locator("#logout").inner_text() == "Log out"
        page.click("#lang-ja")
        assert page.locator("h1").inner_text() == "お知らせ"

        # Disaster mode: the page becomes the safety check.
        _applied(office, _op("disaster.set", on=True, message="震度6弱の地震がありました。"))
        page.reload()  # on the list: a banner leads to the check
        assert page.locator(".banner").inner_text() == "災害モード: 安否確認"
        page.click(".banner a")
        assert page.locator("#disaster").inner_text() == "災害モード"
        assert page.locator("#disaster-message").inner_text() == "震度6弱の地震がありました。"
        page.click("#send")  # nothing chosen: the browser itself asks for a status
        assert page.locator("#sent").count() == 0
        page.check("input[name=status][value=urgent]")
        page.check("input[name=needs_help]")
        page.fill("#note", "祖母が動けません")
        page.click("#send")
        assert page.locator("#sent").is_visible()
        assert "至急支援要" in page.locator("#last").inner_text()
        page.click("#other-notices")
        assert "夏祭りのお知らせ" in page.locator("#circulars").inner_text()

        page.click("#logout")
        assert page.url == f"{relay.url}/r/join?bye=1"
        assert page.locator(".done").inner_text() == "ログアウトしました。"
        page.goto(f"{relay.url}/r/")
        assert page.url == f"{relay.url}/r/join"
    finally:
        context.close()

    items = pull_all(office)
    answers = [i["body"] for i in items if i["kind"] == "answer"]
    assert [(a["circular_id"], a["answers"], a["channel"]) for a in answers] == [
        (circular_id, ["参加する", "楽しみにしています"], "app")]
    assert [i["body"]["circular_id"] for i in items if i["kind"] == "read"] == [circular_id]
    safety = [i["body"] for i in items if i["kind"] == "safety"]
    assert [(s["household_id"], s["status"], s["note"], s["needs_help"]) for s in safety] == [
        (household_id, "urgent", "祖母が動けません", True)]
    assert association_id


def test_the_page_is_large_and_fits_a_small_phone(relay: RunningRelay, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(f"{relay.url}/r/join?code=ABCD")
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 18
        button = page.locator("#join").bounding_box()
        assert button is not None and button["height"] >= 44  # a thumb's tap target
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        assert page.locator("script").count() == 0
    finally:
        context.close()

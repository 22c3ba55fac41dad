"""The update check below the window: versions in order, the officer's "not this version",
https only, once a day, and asking the file's relay (a real one over HTTPS) — offline, not
paired or without a token it says so and never raises."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from desktop.store.association_file import AssociationFile
from sync import credentials
from sync.protocol import ReleaseInfo
from sync.relay import releases
from sync.update_check import (
    CheckOutcome,
    UpdateNotice,
    check_due,
    check_for_update,
    download_url,
    is_newer,
    notice_for,
    parse_version,
    same_version,
)
from tests.sync.conftest import Paired
from tests.sync.helpers import MemoryKeyring, mark_paired

PAGE = "https://kairan.example.jp/download"


# ---------------------------------------------------------------- versions


def _key(text: str) -> object:
    version = parse_version(text)
    assert version is not None, text
    return version


def test_versions_compare_as_numbers_and_pre_releases_come_first() -> None:
    ordered = ["0.1.0", "0.2.0.dev3", "0.2.0a1", "0.2.0b2", "0.2.0rc1", "0.2.0rc2", "0.2.0",
               "0.2.1", "0.9.0", "0.10.0", "1.0.0rc1", "1.0", "10.0.0"]
    assert sorted(reversed(ordered), key=_key) == ordered  # type: ignore[arg-type]
    assert is_newer("0.10.0", "0.9.0") and not is_newer("0.9.0", "0.10.0")
    assert is_newer("0.2.0", "0.2.0rc1") and not is_newer("0.2.0rc1", "0.2.0")
    assert is_newer("0.2.0rc1", "0.1.0")


def test_the_same_version_written_differently_is_equal() -> None:
    for one, other in (("0.2", "0.2.0"), ("v0.2.0", "0.2.0"), ("0.2.0RC1", "0.2.0rc1"),
                       ("0.2.0-rc.1", "0.2.0rc1"), (" 0.2.0 ", "0.2.0"), ("1", "1.0.0")):
        assert parse_version(one) == parse_version(other), (one, other)
        assert same_version(one, other)
        assert not is_newer(one, other) and not is_newer(other, one)
    assert parse_version("0.10.0") != parse_version("0.1.0")


@pytest.mark.parametrize("text", [
    "", " ", "latest", "0.2.0-final", "0..2", ".2", "0.2.", "0.2.0+local", "0.2.0.post1",
    "1" * 41, "０.２.０", "〇.二", "0.2.0; rm -rf /", "1.2.3.4.5.6", "<b>0.3</b>",
])
def test_what_is_not_a_version_is_ignored(text: str) -> None:
    assert parse_version(text) is None
    assert not is_newer(text, "0.1.0")
    assert notice_for(ReleaseInfo(text, PAGE), current="0.1.0") is None


def test_an_unreadable_running_version_announces_nothing() -> None:
    assert not is_newer("9.0.0", "development")


# ---------------------------------------------------------------- what to tell


def test_a_newer_release_becomes_a_notice() -> None:
    notice = notice_for(ReleaseInfo("0.2.0", PAGE, " 印刷が速くなりました \n"), current="0.1.0")
    assert notice == UpdateNotice(version="0.2.0", current="0.1.0", url=PAGE,
                                  notes="印刷が速くなりました")


def test_nothing_newer_means_no_notice() -> None:
    assert notice_for(None, current="0.1.0") is None
    for version in ("0.1.0", "0.1", "0.0.9", "0.1.0rc1"):
        assert notice_for(ReleaseInfo(version, PAGE), current="0.1.0") is None


def test_the_version_the_officer_dismissed_is_not_announced_again() -> None:
    latest = ReleaseInfo("0.2.0", PAGE)
    assert notice_for(latest, current="0.1.0", dismissed="0.2.0") is None
    assert notice_for(latest, current="0.1.0", dismissed="0.2") is None  # written differently
    # Only that version: the next one is news again, and so is an unrelated dismissal.
    assert notice_for(ReleaseInfo("0.3.0", PAGE), current="0.1.0", dismissed="0.2.0")
    assert notice_for(latest, current="0.1.0", dismissed="0.2.0rc1")
    assert notice_for(latest, current="0.1.0", dismissed="")


@pytest.mark.parametrize("url", [
    "http://kairan.example.jp/", "file:///C:/Windows/system32/cmd.exe", "javascript:alert(1)",
    "https://", "kairan.example.jp", "", "HTTPS//kairan.example.jp", "https://[::1",
])
def test_only_an_https_page_is_offered(url: str) -> None:
    assert download_url(url) is None
    notice = notice_for(ReleaseInfo("0.2.0", url), current="0.1.0")
    assert notice is not None and notice.url is None  # told, but no button to open it


def test_https_pages_are_offered_as_they_are() -> None:
    assert download_url("HTTPS://kairan.example.jp/dl?v=0.2") == "HTTPS://kairan.example.jp/dl?v=0.2"
    assert download_url(f" {PAGE} ") == PAGE


def test_the_automatic_check_asks_at_most_once_a_day() -> None:
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert check_due("", now)
    assert check_due("yesterday", now)
    assert check_due("2026-06-01T08:00:00", now)  # no offset: cannot tell, so ask
    assert not check_due((now - timedelta(hours=23)).isoformat(), now)
    assert check_due((now - timedelta(hours=24)).isoformat(), now)
    assert check_due((now + timedelta(hours=2)).isoformat(), now)  # the clock was put back
    jst = timezone(timedelta(hours=9))
    assert not check_due(datetime(2026, 6, 1, 17, 0, tzinfo=jst).isoformat(), now)


# ---------------------------------------------------------------- asking the relay


def test_not_paired_asks_nobody(association_file: AssociationFile) -> None:
    result = check_for_update(association_file, current="0.1.0")
    assert result.outcome == CheckOutcome.NOT_PAIRED
    assert result.notice is None and not result.asked


def test_the_paired_relay_is_asked(paired: Paired) -> None:
    store, relay = paired.store, paired.relay
    result = check_for_update(store, current="0.1.0")
    assert (result.outcome, result.latest, result.notice) == (CheckOutcome.UP_TO_DATE, None,
                                                              None)
    assert result.asked

    releases.set_release(relay.database, version="0.2.0", url=PAGE, notes="新しい機能")
    result = check_for_update(store, current="0.1.0")
    assert result.outcome == CheckOutcome.NEWER
    assert result.latest == ReleaseInfo("0.2.0", PAGE, "新しい機能")
    assert result.notice == UpdateNotice("0.2.0", "0.1.0", PAGE, "新しい機能")

    dismissed = check_for_update(store, current="0.1.0", dismissed="0.2.0")
    assert dismissed.outcome == CheckOutcome.NEWER and dismissed.notice is None
    assert check_for_update(store, current="0.2.0").outcome == CheckOutcome.UP_TO_DATE
    assert check_for_update(store, current="0.3.0").outcome == CheckOutcome.UP_TO_DATE


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_offline_says_so_and_raises_nothing(association_file: AssociationFile,
                                            memory_keyring: MemoryKeyring) -> None:
    url = f"https://127.0.0.1:{_closed_port()}"
    with association_file.write() as session:
        mark_paired(session, relay_url=url)
    credentials.store_token(credentials.token_key(url, "a1"), "token")
    result = check_for_update(association_file, current="0.1.0")
    assert result.outcome == CheckOutcome.UNREACHABLE
    assert "cannot be reached" in result.message and result.notice is None
    assert not result.asked


def test_a_missing_token_says_so_and_raises_nothing(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        mark_paired(session)
    result = check_for_update(association_file, current="0.1.0")
    assert result.outcome == CheckOutcome.UNREACHABLE
    assert "password store" in result.message

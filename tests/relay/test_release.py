"""The newest Kairan release on the relay: ``kairan-relay release set/show/clear``, ``GET
/release`` for office devices only (a real relay over HTTPS, SQLite and PostgreSQL), and
:meth:`RelayClient.latest_release` against it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.domain.errors import ValidationError
from sync import client as client_module
from sync.client import RelayClient
from sync.protocol import OPENAPI_PATH, RELEASE_PATH, ReleaseInfo, Scope
from sync.relay import releases
from sync.relay.auth import issue_token
from sync.relay.cli import main
from sync.relay.db import open_database, upgrade
from tests.relay.relay_server import (
    RunningRelay,
    TlsFiles,
    household_op,
    office_only,
    push,
    running_relay,
)

PAGE = "https://kairan.example.jp/download/0.2.0"


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(["--lang", "en", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def relay(relay: RunningRelay) -> Iterator[RunningRelay]:
    """The relay with no release recorded (the PostgreSQL database is the session's, and the
    release is the relay's, not an association's), and none left behind."""
    releases.clear_release(relay.database)
    yield relay
    releases.clear_release(relay.database)


def _office_client(relay: RunningRelay) -> RelayClient:
    _association, code = relay.new_association()
    token = relay.pair(code)["token"]
    return RelayClient(relay.url, token=token, ca_file=relay.tls.ca_file)


# ---------------------------------------------------------------- the endpoint


def test_office_devices_read_the_recorded_release(relay: RunningRelay) -> None:
    _association, office = relay.office()
    answer = office.get(RELEASE_PATH)
    assert answer.status_code == 200
    assert answer.json() == {"version": None}  # nothing recorded yet

    releases.set_release(relay.database, version="0.2.0", url=PAGE, notes="印刷が速くなりました")
    assert office.get(RELEASE_PATH).json() == {
        "version": "0.2.0", "url": PAGE, "notes": "印刷が速くなりました"}

    releases.set_release(relay.database, version="0.3.0rc1", url=PAGE + "rc")  # replaces it
    assert office.get(RELEASE_PATH).json() == {"version": "0.3.0rc1", "url": PAGE + "rc",
                                               "notes": ""}
    assert releases.clear_release(relay.database)
    assert not releases.clear_release(relay.database)
    assert office.get(RELEASE_PATH).json() == {"version": None}


def test_strangers_and_residents_are_refused(relay: RunningRelay) -> None:
    releases.set_release(relay.database, version="0.2.0", url=PAGE)
    association_id, office = relay.office()
    for stranger in (relay.client(), relay.client("not-a-token")):
        answer = stranger.get(RELEASE_PATH)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"
        assert "0.2.0" not in answer.text
    household = str(uuid.uuid4())
    push(office, [household_op(household)])
    with relay.database.write() as connection:
        resident = issue_token(connection, association_id=association_id,
                               scope=Scope.RESIDENT, household_id=household)
    answer = relay.client(resident).get(RELEASE_PATH)
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"


def test_the_release_is_in_the_openapi_document(sqlite_relay: RunningRelay) -> None:
    document = sqlite_relay.client().get(OPENAPI_PATH).json()
    operation = document["paths"][RELEASE_PATH]["get"]
    assert operation["security"] == [{"bearer": []}]
    assert set(operation["responses"]) == {"200", "401", "403", "429"}


def test_recording_refuses_what_office_pcs_could_not_use(sqlite_relay: RunningRelay) -> None:
    database = sqlite_relay.database
    for url in ("http://kairan.example.jp/", "ftp://kairan.example.jp/", "https://",
                "javascript:alert(1)", "kairan.example.jp"):
        with pytest.raises(ValidationError, match="https"):
            releases.set_release(database, version="0.2.0", url=url)
    for version in ("", "latest", "0.2.0-final", "1" * 50, "0.2.0; rm"):
        with pytest.raises(ValidationError, match="version"):
            releases.set_release(database, version=version, url=PAGE)
    with pytest.raises(ValidationError, match="too long"):
        releases.set_release(database, version="0.2.0", url=PAGE, notes="あ" * 501)
    assert releases.read_release(database) is None
    stored = releases.set_release(database, version=" v0.2.0 ", url=f" {PAGE} ")
    assert stored == ReleaseInfo(version="v0.2.0", url=PAGE, notes="")


# ---------------------------------------------------------------- the client


def test_the_client_reads_the_release_and_sends_nothing_about_the_pc(
    relay: RunningRelay,
) -> None:
    sent: list[httpx.Request] = []
    with _office_client(relay) as client:
        client._http.event_hooks["request"].append(sent.append)
        assert client.latest_release() is None
        releases.set_release(relay.database, version="0.2.0", url=PAGE, notes="新機能")
        assert client.latest_release() == ReleaseInfo("0.2.0", PAGE, "新機能")
    for request in sent:
        assert request.method == "GET"
        assert request.url.path == RELEASE_PATH and not request.url.query
        assert request.content == b""
        assert set(request.headers) <= {"host", "accept", "accept-encoding", "connection",
                                        "user-agent", "authorization"}
        assert request.headers["user-agent"].startswith("python-httpx/")  # not Kairan's version


def test_an_older_relay_without_releases_means_no_news(
    sqlite_relay: RunningRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "RELEASE_PATH", "/api/v1/no-such-endpoint")
    with _office_client(sqlite_relay) as client:
        assert client.latest_release() is None  # 404: the relay predates announcements


def test_the_client_refused_with_a_revoked_token(sqlite_relay: RunningRelay) -> None:
    with RelayClient(sqlite_relay.url, token="revoked-or-never-issued",
                     ca_file=sqlite_relay.tls.ca_file) as client, \
            pytest.raises(client_module.RelayRefused) as refused:
        client.latest_release()
    assert refused.value.status == 401


@pytest.mark.parametrize("body", [
    [], "0.2.0", {"version": 2}, {"version": "0.2.0"}, {"version": "", "url": PAGE},
    {"version": "1" * 41, "url": PAGE}, {"version": "0.2.0", "url": "x" * 2001},
])
def test_odd_answers_read_as_no_release(body: object) -> None:
    assert ReleaseInfo.from_json(body) is None


def test_long_notes_are_cut_and_missing_notes_are_empty() -> None:
    info = ReleaseInfo.from_json({"version": "0.2.0", "url": PAGE, "notes": "x" * 900})
    assert info is not None and len(info.notes) == 500
    assert ReleaseInfo.from_json({"version": "0.2.0", "url": PAGE}) == ReleaseInfo(
        "0.2.0", PAGE, "")


# ---------------------------------------------------------------- the command


def test_release_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          tls_files: TlsFiles) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    database = open_database(url)
    upgrade(database)
    database.dispose()
    status, out, _err = _run(capsys, "release", "show", "--db", url)
    assert status == 0 and "No release is recorded" in out

    status, out, _err = _run(capsys, "release", "set", "0.2.0", "--url", PAGE, "--notes",
                             "名簿の印刷が速くなりました", "--db", url)
    assert status == 0 and "0.2.0" in out and PAGE in out
    status, out, _err = _run(capsys, "release", "show", "--db", url)
    assert status == 0
    assert out.splitlines() == ["Version: 0.2.0", f"Download page: {PAGE}",
                                "Notes: 名簿の印刷が速くなりました"]

    status, _out, err = _run(capsys, "release", "set", "0.3.0", "--url",
                             "http://kairan.example.jp/", "--db", url)
    assert status == 2 and "https" in err and "http://kairan.example.jp/" in err
    status, _out, err = _run(capsys, "release", "set", "next", "--url", PAGE, "--db", url)
    assert status == 2 and "「next」" in err
    assert "0.2.0" in _run(capsys, "release", "show", "--db", url)[1]  # unchanged

    with running_relay(url, tls_files, migrate=False,
                       resident_routes=office_only) as relay:
        _association, office = relay.office()
        assert office.get(RELEASE_PATH).json()["version"] == "0.2.0"
        status, out, _err = _run(capsys, "release", "clear", "--db", url)
        assert status == 0 and "forgotten" in out
        assert office.get(RELEASE_PATH).json() == {"version": None}
    status, out, _err = _run(capsys, "release", "clear", "--db", url)
    assert status == 0 and "No release was recorded" in out


def test_release_commands_refuse_an_old_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = open_database(url)
    upgrade(database, "0004")
    database.dispose()
    status, _out, err = _run(capsys, "release", "set", "0.2.0", "--url", PAGE, "--db", url)
    assert status == 2 and "kairan-relay upgrade" in err

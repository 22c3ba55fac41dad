"""TLS (an untrusted certificate refused, the configured CA accepted) and the ``kairan-relay``
command: trial certificates, administration, and ``serve`` in a real child process."""

from __future__ import annotations

import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sync.protocol import LOG_PATH, PAIR_PATH
from sync.relay.cli import main
from sync.relay.db import current_epoch, open_database
from tests.relay.relay_server import RunningRelay, TlsFiles, office_only, running_relay

REPO = Path(__file__).resolve().parents[2]


def test_untrusted_certificate_is_refused_and_the_ca_file_accepted(
    sqlite_relay: RunningRelay,
) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(sqlite_relay.url + LOG_PATH, timeout=10)  # default verification: certifi
    context = ssl.create_default_context(cafile=str(sqlite_relay.tls.ca_file))
    with httpx.Client(verify=context, timeout=10) as client:
        assert client.get(sqlite_relay.url + LOG_PATH).status_code == 401


def test_selfsigned_makes_a_pair_the_relay_serves_and_clients_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "certs"
    assert main(["--lang", "en", "selfsigned", str(folder), "--name", "127.0.0.1"]) == 0
    printed = capsys.readouterr().out
    assert "ca.pem" in printed and "--cert" in printed
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    with running_relay(f"sqlite:///{tmp_path / 'r.db'}", files,
                       resident_routes=office_only) as relay:
        assert relay.client().get(LOG_PATH).status_code == 401
        with pytest.raises(httpx.ConnectError):
            httpx.get(relay.url + LOG_PATH, timeout=10)


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    status = main(["--lang", "en", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_admin_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        tls_files: TlsFiles) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"  # a new relay: create makes the tables
    status, out, _err = _run(capsys, "association", "create", "緑町内会", "--db", url)
    assert status == 0
    assert _run(capsys, "upgrade", "--db", url)[0] == 0  # already current: nothing to do
    association_id = re.search(r"Association id: (\S+)", out)[1]  # type: ignore[index]
    first_code = re.search(r"Pairing code: (\S+)", out)[1]  # type: ignore[index]
    status, out, _err = _run(capsys, "pairing-code", association_id, "--db", url)
    second_code = re.search(r"Pairing code: (\S+)", out)[1]  # type: ignore[index]
    assert first_code != second_code
    status, out, _err = _run(capsys, "association", "list", "--db", url)
    assert "緑町内会" in out and association_id in out

    with running_relay(url, tls_files, migrate=False,
                       resident_routes=office_only) as relay:
        token = relay.pair(first_code, device="会長のPC")["token"]
        relay.pair(second_code, device="会計のPC")
        office = relay.client(token)
        assert office.get(LOG_PATH).status_code == 200
        status, out, _err = _run(capsys, "token", "list", "--db", url)
        line = next(row for row in out.splitlines() if "会長のPC" in row)
        assert _run(capsys, "token", "revoke", line.split()[0], "--db", url)[0] == 0
        assert office.get(LOG_PATH).status_code == 401
        database = open_database(url)
        with database.read() as connection:
            before = current_epoch(connection)
        assert _run(capsys, "epoch", "rotate", "--db", url)[0] == 0
        with database.read() as connection:
            assert current_epoch(connection) != before
        database.dispose()

    status, _out, err = _run(capsys, "pairing-code", "no-such-association", "--db", url)
    assert status == 2 and "no-such-association" in err
    status, _out, err = _run(capsys, "token", "revoke", "abc", "--db", url)
    assert status == 2 and "8 characters" in err
    status, _out, err = _run(capsys, "association", "list", "--db",
                             f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    assert status == 2 and "cannot open the relay database" in err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_upgrades_the_database_and_answers_over_https(
    tmp_path: Path, tls_files: TlsFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    port = _free_port()
    command = [sys.executable, "-m", "sync.relay.cli", "serve", "--db", url,
               "--cert", str(tls_files.cert_file), "--key", str(tls_files.key_file),
               "--port", str(port)]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        with httpx.Client(verify=tls_files.context(), timeout=5,
                          base_url=f"https://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.get(LOG_PATH)
                    break
                except httpx.TransportError:
                    assert child.poll() is None, child.communicate()[1].decode()
                    assert time.monotonic() < deadline, "kairan-relay serve did not start"
                    time.sleep(0.1)
            # The served database was upgraded by serve: the admin command can use it.
            _status, out, _err = _run(capsys, "association", "create", "本町", "--db", url)
            code = re.search(r"Pairing code: (\S+)", out)[1]  # type: ignore[index]
            paired = client.post(PAIR_PATH, json={"code": code, "device_name": "PC"})
            assert paired.status_code == 200
            token = paired.json()["token"]
            page = client.get(LOG_PATH, headers={"Authorization": f"Bearer {token}"})
            assert page.status_code == 200 and page.json()["items"] == []
    finally:
        child.terminate()
        child.communicate(timeout=20)


def test_serve_refuses_without_readable_certificate_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _out, err = _run(capsys, "serve", "--db", f"sqlite:///{tmp_path / 'r.db'}",
                             "--cert", str(tmp_path / "none.pem"),
                             "--key", str(tmp_path / "none.key"))
    assert status == 2 and "none.pem" in err

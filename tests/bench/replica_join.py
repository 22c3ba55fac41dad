"""Figure ``replica_join_50k``: seconds for a new office PC to receive a 50,000-household
association from the relay and apply it. The issue asks for at most 3× the floor.

Setup (once, in the child): ``kairan-relay serve`` over HTTPS on loopback with a fresh SQLite
database; the first PC (a copy of the 50,000-household demo file) pairs and starts sharing,
which seals its roster and uploads the snapshot.
Ours: ``sync.replica.service.join_association`` as the join wizard runs it — pair with a new
pairing code, fetch the association key with a key code the first PC offered (scrypt), download
the sealed snapshot over HTTPS, open it and load it into a new file in one transaction, then
pull the log.
Floor: the same snapshot bytes and log pages (the residents' copy of the roster the first PC
sent) downloaded by the same httpx client over the same HTTPS, and the same rows inserted with
raw ``sqlite3.executemany`` into a new file with the same schema and settings (WAL,
``synchronous=FULL``) in one transaction.

Both sides alternate three times; the medians are reported.

    python -m tests.bench.replica_join              # the figure
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.bench.common import (
    Figure,
    alternate,
    child_result,
    demo_file,
    empty_association_file,
    figure_main,
    run_child,
)

NAME = "replica_join_50k"
MODULE = "replica_join"
REPEATS = 3


class _Sides:
    """The relay, the first PC and both sides' work, in a throw-away folder."""

    def __init__(self, folder: Path, demo: Path, empty: Path) -> None:
        import ssl

        import keyring

        from sync.relay import admin
        from sync.relay.db import open_database, upgrade
        from tests.relay.relay_server import make_tls_files
        from tests.sync.helpers import MemoryKeyring

        keyring.set_keyring(MemoryKeyring())
        self.folder = folder
        self.empty = empty
        self.tls = make_tls_files(folder / "tls")
        self.context = ssl.create_default_context(cafile=str(self.tls.ca_file))
        self.db_url = f"sqlite:///{folder / 'relay.db'}"
        self.database = open_database(self.db_url)
        upgrade(self.database)
        made = admin.create_association(self.database, name="ベンチ町内会", code_hours=1)
        self.association_id = made.association_id
        self.first_code = made.pairing_code
        self.demo = demo
        self.runs = 0

    def _code(self) -> str:
        from sync.relay import admin

        code, _expires = admin.pairing_code(self.database, association_id=self.association_id,
                                            hours=1)
        return code

    def start_first_pc(self, url: str) -> None:
        """The first PC pairs and starts sharing (its snapshot goes to the relay)."""
        from datetime import date

        from desktop.store.association_file import open_association
        from sync.pairing import pair
        from sync.replica import service

        path = self.folder / "first.kairan"
        shutil.copyfile(self.demo, path)
        self.first = open_association(path)
        pair(self.first, relay_url=url, code=self.first_code, device_name="会長PC",
             ca_file=str(self.tls.ca_file), today=date(2026, 6, 1))
        began = time.perf_counter()
        service.enable_sharing(self.first)
        self.enable_seconds = time.perf_counter() - began
        from sync.engine import open_client, sync_until_done

        with open_client(self.first) as client:  # the residents' copy reaches the relay too
            sync_until_done(self.first, client)
        self.url = url
        self.floor_token = self._floor_token()

    def _floor_token(self) -> str:
        import httpx

        with httpx.Client(base_url=self.url, verify=self.context) as client:
            answer = client.post("/api/v1/pair", json={"code": self._code(),
                                                       "device_name": "floor"})
            answer.raise_for_status()
            return str(answer.json()["token"])

    def ours(self) -> float:
        from sync.replica import service

        self.runs += 1
        code = service.offer_key(self.first)
        folder = self.folder / f"ours-{self.runs}"
        folder.mkdir()
        request = service.JoinRequest(folder=folder, relay_url=self.url,
                                      pairing_code=self._code(), device_name=f"PC{self.runs}",
                                      ca_file=str(self.tls.ca_file), key_code=code)
        began = time.perf_counter()
        path = service.join_association(request)
        seconds = time.perf_counter() - began
        self._check(path)
        return seconds

    def _check(self, path: Path) -> None:
        with sqlite3.connect(path) as connection:
            count = connection.execute("SELECT count(*) FROM household").fetchone()[0]
        if count < 50_000:
            raise RuntimeError(f"the new PC received {count} households")

    def floor(self) -> float:
        import httpx

        from sync.replica import snapshot
        from sync.replica.sharing import sharing_of

        with self.first.read() as session:
            sharing = sharing_of(session)
            parts = snapshot.read_parts(session, recovery_public_key="")
        assert sharing is not None
        target = self.folder / f"floor-{self.runs}.kairan"
        shutil.copyfile(self.empty, target)
        began = time.perf_counter()
        with httpx.Client(base_url=self.url, verify=self.context,
                          headers={"Authorization": f"Bearer {self.floor_token}"}) as client:
            meta = client.get("/api/v1/replica/snapshot").json()
            for index in range(meta["chunk_count"]):
                answer = client.get(f"/api/v1/replica/snapshots/{meta['snapshot_id']}"
                                    f"/chunks/{index}")
                answer.raise_for_status()
            after, more = 0, True
            while more:  # the log, as the new PC pulls it after the snapshot
                page = client.get("/api/v1/log", params={"after": after, "limit": 1000})
                page.raise_for_status()
                data = page.json()
                more = data["more"]
                after = data["items"][-1]["seq"] if data["items"] else after
        connection = sqlite3.connect(target, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("BEGIN IMMEDIATE")
        for part in parts:
            if not part.table:
                continue
            columns = ", ".join(f'"{column}"' for column in part.columns)
            connection.executemany(
                f'INSERT OR REPLACE INTO "{part.table}" ({columns}) '
                f'VALUES ({", ".join("?" * len(part.columns))})', part.rows)
        connection.execute("COMMIT")
        connection.close()
        return time.perf_counter() - began


def measure() -> dict[str, Any]:
    """Start the relay and the first PC, then alternate ours and the floor."""
    from tests.bench.relay_flush import _free_port, _server

    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-join-"))
    try:
        sides = _Sides(folder, demo_file(), empty_association_file())
        port = _free_port()
        command = [sys.executable, "-m", "sync.relay.cli", "serve", "--db", sides.db_url,
                   "--cert", str(sides.tls.cert_file), "--key", str(sides.tls.key_file),
                   "--port", str(port)]
        with _server(command, port, sides.context):
            sides.start_first_pc(f"https://127.0.0.1:{port}")
            value, baseline = alternate(sides.ours, sides.floor, REPEATS)
            enable = sides.enable_seconds
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"seconds": value, "floor": baseline, "enable_seconds": enable}


def child_main(argv: Sequence[str]) -> int:
    """Run in the fresh child: measure and print the result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("both",))
    parser.parse_args(argv)
    child_result(measure())


def figure() -> Figure:
    """Measure the figure in one child (both sides alternating inside it)."""
    try:
        result = run_child(MODULE, ["both"])
    except Exception as error:  # a benchmark reports its trouble, it never fails the run
        return Figure(NAME, "s", None, None, error=f"{type(error).__name__}: {error}")
    print(f"# starting to share (sealing and uploading 50,000 households): "
          f"{result['enable_seconds']:.1f} s", file=sys.stderr)
    return Figure(NAME, "s", result["seconds"], result["floor"], digits=2)


def main(argv: Sequence[str] | None = None) -> int:
    """``--child both`` measures; else the figure."""
    return figure_main(argv, figure, child_main)


if __name__ == "__main__":
    sys.exit(main())

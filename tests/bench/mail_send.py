"""Figure ``mail_send_10k``: mails per minute the relay's mail sender hands to an SMTP server,
sending 10,000 queued circular notices. Higher is better (value / baseline: the issue asks for
at least 10×).

Ours: the real sender (:class:`sync.relay.mail.sender.MailSender` with the rate set out of the
way) on a fresh SQLite relay database in WAL with ``synchronous=FULL``, 10,000 households with
one address each and one queued mail per household, as the office's ``circular.publish``
leaves them. Every mail is claimed under a lease, composed (ISO-2022-JP), sent over one SMTP
connection (MAIL, RCPT, DATA) and recorded as ``sent`` with its log item for the office in
its own durable transaction. The SMTP server is aiosmtpd on 127.0.0.1 in its own process; it
counts the Message-IDs it accepted, and the run is only reported when each of the 10,000
arrived exactly once.

Baseline: 800 mails a minute, the figure of the commercial mail services the issue compares
with (a constant: there is no floor to measure in the same run).

    python -m tests.bench.mail_send              # the figure
    python -m tests.bench.mail_send --profile    # cProfile of the sender's work for one run
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.bench.common import REPO, Figure, child_result, figure_main, run_child

NAME = "mail_send_10k"
MODULE = "mail_send"
UNIT = "mails/min"
MAILS = 10_000
BASELINE_PER_MINUTE = 800.0  # the commercial services' figure the issue names
REPEATS = 3
START_TIMEOUT = 30.0


# ------------------------------------------------------------------ the SMTP server process


def serve_smtp(port: int) -> None:
    """The SMTP server's process: aiosmtpd on 127.0.0.1:``port``; on SIGTERM it prints how
    many mails it accepted and how many distinct Message-IDs they had."""
    import threading
    from collections import Counter
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    seen: Counter[str] = Counter()
    lock = threading.Lock()
    parser = BytesHeaderParser()

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message_id = str(parser.parsebytes(envelope.original_content).get("Message-ID"))
            with lock:
                seen[message_id] += 1
            return "250 2.0.0 Ok: queued"

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda _n, _f: done.set())
    controller = Controller(Count(), hostname="127.0.0.1", port=port,
                            server_hostname="localhost", ready_timeout=10)
    controller.start()
    print("ready", flush=True)
    done.wait()
    controller.stop()
    with lock:
        print(json.dumps({"accepted": sum(seen.values()), "unique": len(seen)}), flush=True)


@contextmanager
def _smtp_process(port: int) -> Iterator[dict[str, int]]:
    """Run :func:`serve_smtp` in its own process; the dict gets its counts when it ends."""
    child = subprocess.Popen([sys.executable, "-m", f"tests.bench.{MODULE}", "--serve-smtp",
                              str(port)], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    counts: dict[str, int] = {}
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the SMTP server did not start: {child.stderr.read()!r}"
                               if child.stderr else "the SMTP server did not start")
        yield counts
    finally:
        child.send_signal(signal.SIGTERM)
        out, _err = child.communicate(timeout=30)
        for line in reversed(out.splitlines()):
            if line.startswith("{"):
                counts.update(json.loads(line))
                break


# ------------------------------------------------------------------ in the child


def _prepare(folder: Path) -> str:
    """A fresh relay database with :data:`MAILS` queued mails; its URL."""
    from sync.relay.db import open_database, upgrade
    from tests.relay.mail_support import (
        add_circular,
        add_households,
        new_association,
        queue_mails,
    )

    url = f"sqlite:///{folder / 'relay.db'}"
    database = open_database(url)
    upgrade(database)
    association_id = new_association(database, "ベンチ町内会")
    households = add_households(database, association_id,
                                [f"household{n}@example.jp" for n in range(MAILS)])
    circular_id = add_circular(
        database, association_id, [h for h, _a in households], title="夏祭りのお知らせ",
        body="7月20日（日）に夏祭りを行います。\n会場は公民館前の広場です。\n" * 4,
        ask="attendance")
    queue_mails(database, association_id, households, circular_id=circular_id)
    database.dispose()
    return url


def _send(url: str, port: int) -> tuple[float, int]:
    """Send every queued mail; (seconds, mails sent)."""
    from sync.relay.db import open_database
    from sync.relay.mail.sender import MailSender
    from sync.relay.mail.settings import checked

    database = open_database(url)
    settings = checked(host="127.0.0.1", port=port, security="none",
                       from_address="kairan@relay.example.jp",
                       base_url="https://relay.example.jp", rate_per_minute=10_000_000,
                       timeout_seconds=30, batch_size=100)
    sender = MailSender(database, settings)
    began = time.perf_counter()
    tally = sender.drain()
    seconds = time.perf_counter() - began
    database.dispose()
    return seconds, tally.sent


def measure_once(folder: Path) -> float:
    """One run on a fresh database and a fresh server; mails per minute."""
    from tests.relay.mail_support import free_port

    url = _prepare(folder)
    port = free_port()
    with _smtp_process(port) as counts:
        seconds, sent = _send(url, port)
    if sent != MAILS or counts.get("accepted") != MAILS or counts.get("unique") != MAILS:
        raise RuntimeError(f"sent {sent}, the server accepted {counts.get('accepted')} "
                           f"({counts.get('unique')} distinct) of {MAILS}")
    for leftover in folder.iterdir():
        leftover.unlink()
    return MAILS / seconds * 60


def measure() -> dict[str, Any]:
    """The median of :data:`REPEATS` runs, in mails per minute."""
    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-mail-"))
    try:
        runs = [measure_once(folder) for _ in range(REPEATS)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"mails_per_minute": statistics.median(runs), "runs": runs}


def profile() -> dict[str, Any]:
    """One run with the sender under cProfile (the server is in its own process)."""
    import cProfile

    from tests.bench.common import profile_lines
    from tests.relay.mail_support import free_port

    folder = Path(tempfile.mkdtemp(prefix="kairan-bench-mail-"))
    try:
        url = _prepare(folder)
        port = free_port()
        profiler = cProfile.Profile()
        with _smtp_process(port):
            profiler.enable()
            seconds, _sent = _send(url, port)
            profiler.disable()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"mails_per_minute": MAILS / seconds * 60,
            "profile": profile_lines(profiler, count=40, by_own_time=True)}


def child_main(argv: Sequence[str]) -> int:
    """Run in the fresh child: measure (or profile) and print the result."""
    parser = argparse.ArgumentParser(prog=f"tests.bench.{MODULE} --child")
    parser.add_argument("side", choices=("ours",))
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    child_result(profile() if args.profile else measure())


def figure() -> Figure:
    """Measure the figure in one child; the baseline is the constant 800 mails/min."""
    try:
        result = run_child(MODULE, ["ours"])
    except Exception as error:  # a benchmark reports its trouble, it never fails the run
        return Figure(NAME, UNIT, None, BASELINE_PER_MINUTE,
                      error=f"{type(error).__name__}: {error}")
    return Figure(NAME, UNIT, result["mails_per_minute"], BASELINE_PER_MINUTE, digits=0)


def print_profile() -> None:
    """Profile the sender for one run; print the top entries by own time."""
    result = run_child(MODULE, ["ours", "--profile"])
    print(f"# MailSender.drain under cProfile: {result['mails_per_minute']:.0f} mails/min")
    print("\n".join(result["profile"]))


def main(argv: Sequence[str] | None = None) -> int:
    """``--serve-smtp PORT`` runs the SMTP server; ``--child ours`` measures; ``--profile``
    profiles; else the figure."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--serve-smtp"]:
        serve_smtp(int(arguments[1]))
        return 0
    return figure_main(arguments, figure, child_main, {"--profile": print_profile})


if __name__ == "__main__":
    sys.exit(main())

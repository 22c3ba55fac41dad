"""The desktop's sync engine in a process of its own, for the fault tests to kill.

Started by a ``forkserver`` that has imported everything already, so each start costs a fork
rather than an interpreter's start-up; the test SIGKILLs it at random moments.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from pathlib import Path

# Imported by the fork server once, not by every child.
PRELOAD = ["tests.sync.fault_worker", "sync.engine", "sync.client", "httpx",
           "desktop.store.association_file"]


@dataclass(frozen=True)
class Job:
    """What a sync process needs (the token comes from the test, not from a keyring)."""

    path: str
    relay_url: str
    token: str
    ca_file: str
    batch_size: int
    deadline_seconds: float = 30.0


def flush(job: Job, started: Event | None = None) -> None:
    """Sync the file until its outbox is empty (quick retries: a test); ``started`` is set
    once the file is open and the client made, as the pushing begins."""
    from desktop.store.association_file import open_association
    from sync.backoff import Backoff
    from sync.client import RelayClient
    from sync.engine import sync_until_done

    store = open_association(Path(job.path), verify_now=False)
    try:
        with RelayClient(job.relay_url, token=job.token, ca_file=job.ca_file) as client:
            if started is not None:
                started.set()
            sync_until_done(store, client, backoff=Backoff(base=0.01, cap=0.2),
                            batch_size=job.batch_size,
                            deadline=time.monotonic() + job.deadline_seconds)
    finally:
        store.close()

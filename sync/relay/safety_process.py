"""A process of its own that stores the disaster burst's safety answers.

The relay answers each safety answer only after it is committed, and the group writer
(:class:`sync.relay.residents.GroupWriter`) commits concurrent answers together. In a thread
of the relay's own process that commit competes with the event loop for the interpreter lock:
each time the driver hands back control the writer waits for the loop to pause, so commits
and requests take turns instead of running side by side, and a burst runs at half the rate
the loop alone could serve. Here the batches go to a child process (``python -m
sync.relay.safety_process``) over its stdin and stdout, which stores them with
:func:`~sync.relay.residents.store_safety` in one transaction per batch, exactly as the thread
would: the loop only sends a batch and reads back one small answer.

Frames both ways are a 4-byte big-endian length and a JSON document. The parent sends the
database URL first (never on the command line, where other users could read a password);
the child answers ``{"ready": true}`` once the database is open. Then per batch the parent sends
``[[token, status, note, needs_help], …]`` and the child answers ``{"results": [1 | 0 | -1, …]}``
(stored, disaster mode off, unknown session) after the commit, or ``{"error": name}`` when the
transaction was rolled back, so the parent may store that batch itself. Nothing the child writes
names a token or an answer. The child stops at the end of its input, so it never outlives the
relay; the parent's :class:`SafetyProcess` is owned by a task that closes it when the event loop
shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from sync.relay.db import Database

_LENGTH: Final = struct.Struct(">I")
START_TIMEOUT: Final = 60.0  # seconds for the child to import and open the database
STOP_TIMEOUT: Final = 10.0  # seconds for the child to finish after its input ends

CHILD_COMMAND = (sys.executable, "-m", __name__)
STORED: Final = 1
CLOSED: Final = 0  # the association's disaster mode is off: nothing stored
NOT_SIGNED_IN: Final = -1


class ProcessGone(Exception):
    """The child is not there (any more). ``sent``: the batch had been handed over, so it may
    have been committed before the child went away."""

    def __init__(self, *, sent: bool) -> None:
        super().__init__("the safety answers' writer process stopped")
        self.sent = sent


def _frame(document: Any) -> bytes:
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    return _LENGTH.pack(len(data)) + data


@dataclass(slots=True)
class SafetyProcess:
    """The parent's end of one child process; :meth:`store` one batch at a time."""

    process: asyncio.subprocess.Process

    @classmethod
    async def start(cls, database_url: str) -> SafetyProcess:
        """A child over ``database_url``, ready to store; :class:`ProcessGone` when it could
        not start (the caller then stores in its own thread)."""
        try:
            process = await asyncio.create_subprocess_exec(
                *CHILD_COMMAND, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        except (OSError, NotImplementedError) as error:  # e.g. a loop without subprocesses
            raise ProcessGone(sent=False) from error
        child = cls(process)
        ready: Any = None
        try:
            ready = await asyncio.wait_for(child._exchange({"url": database_url}),
                                           START_TIMEOUT)
        except (ProcessGone, TimeoutError):
            pass
        except BaseException:  # cancelled: the child must not outlive its start
            await asyncio.shield(child.close())
            raise
        if ready != {"ready": True}:
            await child.close()
            raise ProcessGone(sent=False)
        return child

    async def store(self, answers: Sequence[tuple[str, str, str, bool]]) -> list[int] | None:
        """Store ``answers`` (token, status, note, needs help) in one transaction: per answer
        :data:`STORED`, :data:`CLOSED` or :data:`NOT_SIGNED_IN`; None when the child rolled
        the batch back. :class:`ProcessGone` when the child went away."""
        reply = await self._exchange(answers)
        results = reply.get("results") if isinstance(reply, dict) else None
        if isinstance(results, list) and len(results) == len(answers):
            return [int(result) for result in results]
        return None

    async def _exchange(self, document: Any) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(_frame(document))
            await stdin.drain()
        except (ConnectionError, RuntimeError) as error:  # RuntimeError: transport closed
            raise ProcessGone(sent=False) from error
        try:
            (length,) = _LENGTH.unpack(await stdout.readexactly(_LENGTH.size))
            return json.loads(await stdout.readexactly(length))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as error:
            raise ProcessGone(sent=True) from error
        except asyncio.CancelledError:  # its answer would be taken for the next batch's
            with contextlib.suppress(ProcessLookupError):  # unless it ended already
                self.process.kill()
            raise

    async def close(self) -> None:
        """End the child's input and wait for it to finish (killed if it does not)."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


# ---------------------------------------------------------------- the child


def _read(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    return json.loads(stream.read(length))


def _write(stream: IO[bytes], document: Any) -> None:
    stream.write(_frame(document))
    stream.flush()


def main() -> int:
    """The child: store the batches read from stdin until it ends."""
    from sync.relay.db import open_database

    inbox = sys.stdin.buffer
    outbox = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not break a frame
    config = _read(inbox)
    if not isinstance(config, dict) or not isinstance(config.get("url"), str):
        return 2
    database = open_database(config["url"])
    try:
        _write(outbox, {"ready": True})
        while not _store_batches(database, inbox, outbox):
            pass  # a batch failed: the next ones on a new connection, in case it broke
    finally:
        database.dispose()
    return 0


def _store_batches(database: Database, inbox: IO[bytes], outbox: IO[bytes]) -> bool:
    """Store batches on one connection until the input ends (True) or a batch fails and
    was rolled back (False). On PostgreSQL the connection stays in pipeline mode: a batch's
    BEGIN goes with its sessions' query and its writes with its COMMIT. A connection that
    cannot be opened ends the child (the parent then stores in its thread)."""
    from sync.relay.db import pipelined
    from sync.relay.residents import NotSignedIn, SafetyAnswer, store_safety

    with database.writer_connection() as connection, pipelined(connection):
        while (batch := _read(inbox)) is not None:
            answers = [SafetyAnswer(str(token), str(status), str(note), bool(needs_help))
                       for token, status, note, needs_help in batch]
            try:
                with connection.begin():
                    stored = store_safety(connection, answers)
            except Exception as error:  # rolled back: the parent stores it itself
                _write(outbox, {"error": type(error).__name__})
                return False
            _write(outbox, {"results": [
                NOT_SIGNED_IN if isinstance(result, NotSignedIn)
                else STORED if result else CLOSED for result in stored]})
    return True


if __name__ == "__main__":
    sys.exit(main())

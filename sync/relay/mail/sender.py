"""The mail sender: takes due mails from the durable queue and hands them to the SMTP server.

One sender keeps one SMTP connection and sends at the configured steady rate (a mail every
60/rate seconds). For each mail it claims (with a lease, see :mod:`sync.relay.mail.queue`) it
composes the bytes, speaks MAIL/RCPT/DATA, and records the answer the moment it comes, in its
own committed transaction:

- 250 after DATA → ``sent``;
- 4xx (greylisting, a full mailbox, "try later"), a timeout, a lost connection → ``queued``
  again after a full-jitter wait, ``failed`` after the last attempt;
- 5xx at RCPT or DATA → ``bounced``, and the address is never mailed again;
- 421 ("closing") or a lost connection → the mail in flight is retried later, the rest of the
  batch goes back to the queue untouched, and the sender reconnects after a full-jitter wait.

Trouble with the server itself — unreachable, login refused, our sender address refused, a
certificate that does not verify — loses nothing: the claimed mails go back to the queue and a
clear message says what to check.

**Exactly once, and its limit.** A mail is resent only when its lease ran out without a
recorded outcome, i.e. its sender died (or lost the connection) between handing the mail over
and recording the 250. It is then resent with the same Message-ID and the same bytes. The one
window in which a mail can reach a mailbox twice is therefore between the server's 250 and
the commit of ``sent`` a few statements later (and the server-side twin of it: a connection
lost after the final dot but before the 250 arrives): SMTP has no way to ask a server whether
it took a message. Receivers that suppress repeated Message-IDs (Gmail does) drop even that
copy. Everything else — a crash at any other point, an outage, a restart — sends each mail
once.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import OperationalError

from desktop.domain.errors import KairanError
from desktop.i18n import _
from sync.backoff import full_jitter
from sync.relay.db import Database, now
from sync.relay.mail import queue
from sync.relay.mail.compose import compose, envelope_address
from sync.relay.mail.queue import Claimed
from sync.relay.mail.settings import MailSettings, Security

# SMTP commands one mail needs after the connection is up (MAIL, RCPT, DATA, the final dot):
# each may take up to the timeout, so a lease shorter than this could run out mid-mail.
COMMANDS_PER_MAIL: Final = 4
CLOSING: Final = 421  # the server is closing the connection: like a lost connection
# How often ``drain`` (``mail send --once``) reconnects after a passing connection failure
# before it gives up and reports the server unreachable, and the longest wait in between
# (someone is watching: the mails' own retries wait longer, in the queue).
DRAIN_RECONNECTS: Final = 3
DRAIN_WAIT_CAP: Final = 5.0
# A database write that failed for the moment (SQLite busy past its timeout) is tried again
# this many times: after a 250 the ``sent`` must be recorded, or the mail would be resent.
RECORD_TRIES: Final = 5


class SmtpProblem(KairanError):
    """The SMTP server cannot be used now; the claimed mails went back to the queue."""


class ServerUnreachable(SmtpProblem):
    """No connection, or the connection was lost (passing trouble: try again later)."""


class ServerRefused(SmtpProblem):
    """The server refuses us (login, sender address, TLS): waiting alone will not help."""


@dataclass(slots=True)
class Tally:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    bounced: int = 0
    cancelled: int = 0

    @property
    def handled(self) -> int:
        """Mails that got an outcome (any of the above)."""
        return self.sent + self.retrying + self.failed + self.bounced + self.cancelled


class _Refusal(Exception):
    """The server answered one command of a mail with an error reply."""

    def __init__(self, stage: str, code: int, reply: bytes | str) -> None:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        super().__init__(f"{code} {text}")
        self.stage = stage
        self.code = code
        self.text = f"{code} {' '.join(text.split())}"


class _Lost(Exception):
    """The connection broke (or the server is closing it) while a mail was in flight."""


class SmtpConnection:
    """One connection to the operator's SMTP server (TLS verified, login when configured)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    @property
    def is_open(self) -> bool:
        """Whether a connection is up."""
        return self._smtp is not None

    def open(self) -> None:
        """Connect, secure and log in; :class:`ServerUnreachable` or :class:`ServerRefused`
        when that fails."""
        s = self.settings
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        smtp: smtplib.SMTP | None = None
        try:
            if s.security is Security.TLS:
                smtp = smtplib.SMTP_SSL(s.host, s.port, local_hostname=s.helo_name,
                                        timeout=s.timeout_seconds, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, local_hostname=s.helo_name,
                                    timeout=s.timeout_seconds)
            smtp.ehlo()
            if s.security is Security.STARTTLS:
                if not smtp.has_extn("starttls"):
                    raise ServerRefused(_(
                        "The mail server {host}:{port} does not offer STARTTLS. Check the port "
                        "(587 for STARTTLS, 465 with --smtp-security tls).").format(
                            host=s.host, port=s.port))
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as error:
            self._discard(smtp)
            raise ServerRefused(_(
                "The mail server {host} refused the login of {user} ({reply}). Check the user "
                "and the password (${env} or --smtp-password-file). No mail was lost: they "
                "wait in the queue.").format(host=s.host, user=s.user,
                                             reply=_reply_text(error),
                                             env="KAIRAN_SMTP_PASSWORD")) from error
        except smtplib.SMTPNotSupportedError as error:
            self._discard(smtp)
            raise ServerRefused(_(
                "The mail server {host} offers no login (AUTH) on this connection. Check "
                "--smtp-security and the port.").format(host=s.host)) from error
        except ssl.SSLCertVerificationError as error:
            self._discard(smtp)
            raise ServerRefused(_(
                "The certificate of the mail server {host} cannot be verified ({problem}). "
                "Give its CA with --smtp-ca-file.").format(
                    host=s.host, problem=error.verify_message or error)) from error
        except SmtpProblem:
            self._discard(smtp)
            raise
        except (OSError, smtplib.SMTPException) as error:
            self._discard(smtp)
            raise ServerUnreachable(_(
                "Cannot reach the mail server {host}:{port} ({problem}). The mails wait in "
                "the queue and go out when it answers again.").format(
                    host=s.host, port=s.port, problem=_problem(error))) from error
        self._smtp = smtp

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        """Hand one mail over; the server's final reply. :class:`_Refusal` for an error reply
        (the transaction is reset), :class:`_Lost` when the connection broke."""
        smtp = self._smtp
        assert smtp is not None, "open() first"
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise _Refusal("mail", code, reply)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _Refusal("rcpt", code, reply)
            try:
                code, reply = smtp.data(data)
            except smtplib.SMTPDataError as error:  # the DATA command itself was refused
                raise _Refusal("data", error.smtp_code, error.smtp_error) from error
            if code != 250:
                raise _Refusal("data", code, reply)
        except _Refusal as refusal:
            if refusal.code == CLOSING or refusal.code < 400:
                self.close()
                raise _Lost(refusal.text) from refusal
            self._reset()
            raise
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise _Lost(_problem(error)) from error
        return f"{code} {' '.join(reply.decode('utf-8', 'replace').split())}"

    def _reset(self) -> None:
        try:
            assert self._smtp is not None
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say goodbye (QUIT) when possible and drop the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    @staticmethod
    def _discard(smtp: smtplib.SMTP | None) -> None:
        if smtp is not None:
            smtp.close()


def _reply_text(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    decoded = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{error.smtp_code} {' '.join(decoded.split())}"


def _problem(error: BaseException) -> str:
    # smtplib wraps a socket timeout in "Connection unexpectedly closed": say what it was.
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return _("no answer in time")
        cause = cause.__cause__ or cause.__context__
    return str(error) or type(error).__name__


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class MailSender:
    """Sends due mails until told to stop (:meth:`run`) or until none is due (:meth:`drain`).

    ``stop`` ends a run between two mails (a mail in flight is finished and recorded first);
    ``report`` receives the messages for the operator (stderr by default).
    """

    def __init__(self, database: Database, settings: MailSettings, *,
                 stop: threading.Event | None = None,
                 report: Callable[[str], None] = _to_stderr,
                 connection: SmtpConnection | None = None) -> None:
        self.database = database
        self.settings = settings
        self.stop = stop if stop is not None else threading.Event()
        self.report = report
        self.connection = connection if connection is not None else SmtpConnection(settings)
        self.tally = Tally()
        self._next_start = 0.0  # monotonic time the next mail may start (the steady rate)

    # -------------------------------------------------------------- running

    def run(self) -> Tally:
        """Send until :attr:`stop` is set, waiting for new mail when none is due and after
        trouble with the server (full-jitter backoff, reported)."""
        failures = 0
        try:
            while not self.stop.is_set():
                try:
                    handled = self.batch()
                except SmtpProblem as problem:
                    failures += 1
                    wait = max(self.settings.poll_seconds, self._backoff(failures))
                    self.report(_("{problem} Next try in {seconds:.0f} s.").format(
                        problem=problem.message, seconds=wait))
                    self.stop.wait(wait)
                    continue
                except OperationalError as error:
                    # The database is away (a restarting PostgreSQL): what was claimed stays
                    # leased and is taken up again once it answers.
                    failures += 1
                    wait = max(self.settings.poll_seconds, self._backoff(failures))
                    self.report(_("The relay database is not answering ({problem}). Next try "
                                  "in {seconds:.0f} s.").format(
                                      problem=str(error).splitlines()[0], seconds=wait))
                    self.connection.close()
                    self.stop.wait(wait)
                    continue
                failures = 0
                if handled == 0:
                    self.connection.close()  # idle: servers drop quiet connections anyway
                    self.stop.wait(self.settings.poll_seconds)
        finally:
            self.connection.close()
        return self.tally

    def drain(self) -> Tally:
        """Send what is due (and what comes due meanwhile) and return; passing connection
        trouble is retried a few times, then :class:`ServerUnreachable` is raised, and
        :class:`ServerRefused` at once. Nothing claimed is lost either way."""
        failures = 0
        try:
            while not self.stop.is_set():
                try:
                    handled = self.batch()
                except ServerUnreachable:
                    failures += 1
                    if failures > DRAIN_RECONNECTS:
                        raise
                    self.stop.wait(min(DRAIN_WAIT_CAP, self._backoff(failures)))
                    continue
                failures = 0
                if handled == 0:
                    break
        finally:
            self.connection.close()
        return self.tally

    def _backoff(self, failures: int) -> float:
        return full_jitter(failures, base=self.settings.retry_base_seconds,
                           cap=self.settings.retry_cap_seconds)

    # -------------------------------------------------------------- one batch

    def batch(self) -> int:
        """Claim due mails and send them; how many got an outcome (0: none was due)."""
        s = self.settings
        if not queue.any_due(self.database):  # idle: no write transaction, no lock
            return 0
        claimed, cancelled = queue.claim(self.database, limit=s.batch_size,
                                         lease_seconds=self._lease_seconds())
        self.tally.cancelled += cancelled
        if not claimed:
            return cancelled
        before = self.tally.handled
        pending = list(claimed)
        try:
            while pending and not self.stop.is_set():
                if not self.connection.is_open:  # first, or after a reset that failed
                    self.connection.open()
                self._pace()
                if self.stop.is_set():
                    break
                pending = self._keep_lease(pending)
                if not pending:
                    break
                mail = pending.pop(0)
                self._send(mail)
        finally:
            # Whatever was not tried (trouble, stopping) is due again at once, not counted.
            queue.release(self.database, pending)
        return self.tally.handled - before

    def _lease_seconds(self) -> float:
        return max(self.settings.lease_seconds, 2 * self.mail_budget())

    def mail_budget(self) -> float:
        """The longest one mail may take: every command of it up to the timeout, and the
        wait for its turn at the rate."""
        return COMMANDS_PER_MAIL * self.settings.timeout_seconds + self.settings.interval_seconds

    def _keep_lease(self, pending: list[Claimed]) -> list[Claimed]:
        """Renew the lease on the rest of the batch when it would run out before the next
        mail could be done (a slow rate or a slow server)."""
        if not pending:
            return pending
        left = (pending[0].lease_until - now()).total_seconds()
        if left > self.mail_budget():
            return pending
        return queue.renew(self.database, pending, lease_seconds=self._lease_seconds())

    def _pace(self) -> None:
        """Wait for this mail's turn: one every 60/rate seconds, never a burst."""
        moment = time.monotonic()
        if self._next_start > moment:
            self.stop.wait(self._next_start - moment)
            moment = time.monotonic()
        self._next_start = max(moment, self._next_start) + self.settings.interval_seconds

    def _send(self, mail: Claimed) -> None:
        s = self.settings
        try:
            recipient = envelope_address(mail.address)
        except ValueError:
            self._record(queue.record_bounced, mail,
                         reply="553 the address cannot travel over SMTP (not ASCII)")
            self.tally.bounced += 1
            return
        data = compose(mail.content, from_address=s.from_address, charset=s.charset,
                       base_url=s.base_url)
        try:
            reply = self.connection.send(s.from_address, recipient, data)
        except _Lost as lost:
            self._retry(mail, str(lost))
            raise ServerUnreachable(_(
                "The connection to the mail server {host} was lost ({problem}). The mails "
                "wait in the queue.").format(host=s.host, problem=str(lost))) from lost
        except _Refusal as refusal:
            if 400 <= refusal.code < 500 and refusal.stage == "mail":
                # "Not now" to our sender address (too many mails, a busy server): every
                # mail would hear the same, so the batch pauses rather than burn its tries.
                self._retry(mail, refusal.text)
                raise ServerUnreachable(_(
                    "The mail server {host} asks to wait ({reply}). The mails wait in the "
                    "queue.").format(host=s.host, reply=refusal.text)) from refusal
            if 400 <= refusal.code < 500:
                self._retry(mail, refusal.text)
            elif refusal.stage == "mail":
                # Our own sender address is refused: every mail would be, whatever the
                # recipient. Not the household's fault: its mail waits, untried.
                queue.release(self.database, [mail])
                raise ServerRefused(_(
                    "The mail server {host} refuses the sender address {sender} ({reply}). "
                    "Check --mail-from. No mail was lost.").format(
                        host=s.host, sender=s.from_address, reply=refusal.text)) from refusal
            else:
                self._record(queue.record_bounced, mail, reply=refusal.text)
                self.tally.bounced += 1
            return
        self._record(queue.record_sent, mail, reply=reply)
        self.tally.sent += 1

    def _retry(self, mail: Claimed, error: str) -> None:
        state = self._record_retry(mail, error=error,
                                   delay_seconds=self._backoff(mail.attempts + 1))
        if state == "failed":
            self.tally.failed += 1
        else:
            self.tally.retrying += 1

    def _record_retry(self, mail: Claimed, *, error: str, delay_seconds: float) -> str | None:
        for attempt in range(RECORD_TRIES):
            try:
                return queue.record_retry(self.database, mail, error=error,
                                          delay_seconds=delay_seconds,
                                          max_attempts=self.settings.max_attempts)
            except OperationalError:
                if attempt == RECORD_TRIES - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        return None

    def _record(self, record: Callable[..., bool], mail: Claimed, *, reply: str) -> None:
        """Record an outcome at once; a database busy for the moment is waited out, since a
        sent mail whose ``sent`` is not recorded would go out again."""
        for attempt in range(RECORD_TRIES):
            try:
                if not record(self.database, mail, reply=reply):
                    self.report(_("Mail {message_id} was taken over by another sender before "
                                  "its outcome was recorded.").format(
                                      message_id=mail.content.message_id))
                return
            except OperationalError:
                if attempt == RECORD_TRIES - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))


class BackgroundSender:
    """A :class:`MailSender` running in a thread of the relay process (``serve`` with
    ``--smtp-host``): :meth:`start` it, :meth:`stop` it when the server stops."""

    def __init__(self, database: Database, settings: MailSettings, *,
                 report: Callable[[str], None] = _to_stderr) -> None:
        self._stop = threading.Event()
        self.sender = MailSender(database, settings, stop=self._stop, report=report)
        # A daemon thread: a stuck SMTP exchange never keeps the relay from exiting (its
        # mail is resent after the lease, like after a crash).
        self._thread = threading.Thread(target=self._run, name="kairan-mail-sender",
                                        daemon=True)

    def _run(self) -> None:
        try:
            self.sender.run()
        except Exception as error:  # the relay goes on serving; the operator is told
            self.sender.report(_("The mail sender stopped on an unexpected error: {error}")
                               .format(error=error))
            raise

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the mail in flight (waiting at most as long as one mail may take)."""
        self._stop.set()
        self._thread.join(self.sender.mail_budget() + 5.0)

"""How the relay sends mail: the SMTP server, the sender's address, charset, rate and retries.

Declared once here with their defaults; ``kairan-relay serve``/``mail send`` fill them in from
the command line. The SMTP password is never a command-line value and never in the database:
it comes from ``$KAIRAN_SMTP_PASSWORD`` or from a secrets file that only its owner can read
(mode 0600 or 0400), and :class:`MailSettings` keeps it out of its ``repr`` so that no log or
traceback shows it.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from desktop.domain.errors import ValidationError
from desktop.i18n import _
from sync.protocol import is_mail_address

PASSWORD_ENVIRONMENT = "KAIRAN_SMTP_PASSWORD"
# Owner read-write or owner read-only: anything more and another account could read it.
SECRET_FILE_MODES = (0o600, 0o400)


class Security(enum.StrEnum):
    """How the connection to the SMTP server is protected."""

    STARTTLS = "starttls"  # plain connect, then STARTTLS (submission, port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # no TLS at all: only to a server on this machine


class Charset(enum.StrEnum):
    """The charset of the mails: ISO-2022-JP reads on every Japanese phone, UTF-8 carries
    every character."""

    ISO_2022_JP = "iso-2022-jp"
    UTF_8 = "utf-8"


DEFAULT_PORTS = {Security.STARTTLS: 587, Security.TLS: 465, Security.NONE: 25}


@dataclass(frozen=True, slots=True, kw_only=True)
class MailSettings:
    """Everything the mail sender needs. :func:`checked` builds one from plain values.

    ``rate_per_minute`` is kept steady (one mail every 60/rate seconds, no bursts), as
    providers throttle or block senders that burst. A mail refused for the moment (4xx,
    greylisting, a timeout, a lost connection) is tried again after a full-jitter wait of up
    to ``retry_base_seconds · 2^(n-1)`` (at most ``retry_cap_seconds``), ``max_attempts``
    times in all. ``lease_seconds`` is how long a claimed mail stays with one sender before
    another may take it over after a crash; it must outlast a whole SMTP exchange.
    """

    host: str
    port: int
    security: Security = Security.STARTTLS
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str
    charset: Charset = Charset.ISO_2022_JP
    rate_per_minute: float = 100.0
    base_url: str
    ca_file: Path | None = None
    timeout_seconds: float = 30.0
    retry_base_seconds: float = 60.0
    retry_cap_seconds: float = 1800.0
    max_attempts: int = 10
    lease_seconds: float = 300.0
    batch_size: int = 50
    poll_seconds: float = 2.0

    @property
    def interval_seconds(self) -> float:
        """Time between the starts of two mails at the configured rate."""
        return 60.0 / self.rate_per_minute

    @property
    def helo_name(self) -> str:
        """The name the sender gives in EHLO: the domain of its address (looking up this
        machine's name can take seconds where DNS is slow)."""
        return self.from_address.rpartition("@")[2]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost`` or a loopback address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalise_base_url(value: str) -> str:
    """The public address residents open, as ``https://host[:port][/path]`` without a
    trailing slash; :class:`ValidationError` when it is not such an address."""
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ValidationError(_("The public address of the relay must look like "
                                "https://relay.example.jp (got {value}).").format(value=value),
                              field="base_url")
    return text


def read_password(file: Path | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The SMTP password: the first line of ``file`` when one is named (refused unless only
    its owner may read it), else ``$KAIRAN_SMTP_PASSWORD``, else None."""
    if file is None:
        value = (os.environ if environ is None else environ).get(PASSWORD_ENVIRONMENT)
        return value or None
    try:
        mode = stat.S_IMODE(file.stat().st_mode)
    except OSError as error:
        raise ValidationError(_("Cannot read the password file {path} ({problem}).")
                              .format(path=file, problem=error.strerror or error),
                              field="password_file") from error
    if mode not in SECRET_FILE_MODES:
        raise ValidationError(_("The password file {path} may be read by other users (mode "
                                "{mode:o}). Make it private first: chmod 600 {path}")
                              .format(path=file, mode=mode), field="password_file")
    lines = file.read_text(encoding="utf-8").splitlines()
    password = lines[0] if lines else ""
    if not password:
        raise ValidationError(_("The password file {path} is empty.").format(path=file),
                              field="password_file")
    return password


def checked(*, host: str, port: int | None = None, security: str = Security.STARTTLS,
            user: str | None = None, password: str | None = None, from_address: str,
            charset: str = Charset.ISO_2022_JP, rate_per_minute: float = 100.0,
            base_url: str, ca_file: Path | None = None, timeout_seconds: float = 30.0,
            retry_base_seconds: float = 60.0, retry_cap_seconds: float = 1800.0,
            max_attempts: int = 10, lease_seconds: float | None = None, batch_size: int = 50,
            poll_seconds: float = 2.0) -> MailSettings:
    """:class:`MailSettings` from plain values, or :class:`ValidationError` saying what is
    wrong. The retry, lease, batch and poll values have sound defaults (tests shorten them);
    the lease defaults to six timeouts, at least five minutes."""
    host = host.strip()
    if not host:
        raise ValidationError(_("Name the SMTP server (--smtp-host)."), field="host")
    try:
        mode = Security(security)
    except ValueError as error:
        raise ValidationError(_("Unknown SMTP security {value}: use starttls, tls or none.")
                              .format(value=security), field="security") from error
    if mode is Security.NONE and not is_loopback(host):
        raise ValidationError(_("Mail without TLS is only allowed to a server on this machine "
                                "(127.0.0.1 or localhost), not to {host}. Use starttls or tls.")
                              .format(host=host), field="security")
    if user and not password:
        raise ValidationError(_("The SMTP user {user} needs a password: set {env} or give "
                                "--smtp-password-file.").format(user=user,
                                                                env=PASSWORD_ENVIRONMENT),
                              field="password")
    if not is_mail_address(from_address) or not from_address.isascii():
        raise ValidationError(_("The sender address {value} is not a mail address.")
                              .format(value=from_address), field="from_address")
    try:
        chosen_charset = Charset(charset.lower())
    except ValueError as error:
        raise ValidationError(_("Unknown mail charset {value}: use iso-2022-jp or utf-8.")
                              .format(value=charset), field="charset") from error
    if not rate_per_minute > 0:
        raise ValidationError(_("The mail rate must be more than 0 a minute."), field="rate")
    if ca_file is not None and not ca_file.is_file():
        raise ValidationError(_("Cannot read the CA file {path}.").format(path=ca_file),
                              field="ca_file")
    if not timeout_seconds > 0:
        raise ValidationError(_("The SMTP timeout must be more than 0 seconds."),
                              field="timeout")
    return MailSettings(
        host=host, port=port or DEFAULT_PORTS[mode], security=mode, user=user or None,
        password=password if user else None, from_address=from_address,
        charset=chosen_charset, rate_per_minute=rate_per_minute,
        base_url=normalise_base_url(base_url), ca_file=ca_file,
        timeout_seconds=timeout_seconds, retry_base_seconds=retry_base_seconds,
        retry_cap_seconds=retry_cap_seconds, max_attempts=max(1, max_attempts),
        lease_seconds=lease_seconds if lease_seconds is not None
        else max(300.0, 6 * timeout_seconds),
        batch_size=max(1, batch_size), poll_seconds=poll_seconds,
    )

"""The ``kairan-relay`` command: run the relay and administer it.

    kairan-relay serve --db URL --cert FILE --key FILE [--host H] [--port P]
    kairan-relay upgrade --db URL
    kairan-relay selfsigned OUTDIR [--name HOST ...]
    kairan-relay association create NAME --db URL [--hours H]
    kairan-relay association list --db URL
    kairan-relay pairing-code ASSOCIATION_ID --db URL [--hours H]
    kairan-relay token list --db URL [--association ID]
    kairan-relay token revoke HASH_PREFIX --db URL
    kairan-relay epoch rotate --db URL        (after restoring a backup)
    kairan-relay release set VERSION --url URL [--notes TEXT] --db URL
    kairan-relay release show --db URL
    kairan-relay release clear --db URL
    kairan-relay mail send --db URL --smtp-host HOST --mail-from ADDRESS --mail-base-url URL
                           [--once] [SMTP and mail options]
    kairan-relay mail status --db URL [--association ID]
    kairan-relay mail bounce --db URL [FILE]   (a delivery status notification; stdin if no FILE)

``--db`` defaults to ``$KAIRAN_RELAY_DB``, else ``sqlite:///kairan-relay.db`` in the current
folder; PostgreSQL is ``postgresql://user@host/dbname``. ``serve`` and ``association create``
upgrade the schema first.

``release set`` records the newest Kairan release so that paired office PCs tell their officers
it exists (they only tell: nothing is downloaded or installed). The URL is the download page
(https only); ``release clear`` stops the news.

Mail to households whose channel is e-mail goes through the operator's SMTP server:
``serve`` sends it too when ``--smtp-host`` is given, or ``mail send`` runs the sender on its
own (``--once``: send what is due, then stop). The SMTP password comes from
``$KAIRAN_SMTP_PASSWORD`` or ``--smtp-password-file`` (readable by its owner only), never from
the command line. ``--mail-base-url`` is the relay's public address as residents' phones reach
it; the personal links in the mails start with it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import ArgumentError, OperationalError

from desktop.domain.errors import KairanError
from desktop.i18n import DEFAULT_LANGUAGE, LANGUAGES, _, set_language
from sync.relay.config import DEFAULT_DATABASE_URL, DEFAULT_HOST, DEFAULT_PORT, Settings
from sync.relay.db import Database, open_database, upgrade

if TYPE_CHECKING:
    from sync.relay.mail.settings import MailSettings

EXIT_PROBLEM = 2
DB_ENVIRONMENT = "KAIRAN_RELAY_DB"


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="URL",
        default=os.environ.get(DB_ENVIRONMENT, DEFAULT_DATABASE_URL),
        help=_("database URL: sqlite:///FILE or postgresql://USER@HOST/NAME "
               "(default: ${env} or {default})").format(env=DB_ENVIRONMENT,
                                                          default=DEFAULT_DATABASE_URL))


def _add_smtp(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """The options of the mail sender (``serve`` sends mail only when --smtp-host is given)."""
    from sync.relay.mail.settings import DEFAULT_PORTS, PASSWORD_ENVIRONMENT, Charset, Security

    group = parser.add_argument_group(_("mail (e-mail channel)"))
    group.add_argument("--smtp-host", required=required, metavar="HOST",
                       help=_("the SMTP server that sends the mails"))
    group.add_argument("--smtp-port", type=int, default=None, metavar="PORT",
                       help=_("its port (default: {starttls} for starttls, {tls} for tls)")
                       .format(starttls=DEFAULT_PORTS[Security.STARTTLS],
                               tls=DEFAULT_PORTS[Security.TLS]))
    group.add_argument("--smtp-security", choices=[m.value for m in Security],
                       default=Security.STARTTLS.value,
                       help=_("starttls (default), tls, or none (only to this machine)"))
    group.add_argument("--smtp-user", default=None, metavar="USER",
                       help=_("the SMTP login; the password comes from ${env} or "
                              "--smtp-password-file").format(env=PASSWORD_ENVIRONMENT))
    group.add_argument("--smtp-password-file", type=Path, default=None, metavar="FILE",
                       help=_("a file holding the SMTP password (mode 600 or 400)"))
    group.add_argument("--smtp-ca-file", type=Path, default=None, metavar="FILE",
                       help=_("CA certificates the SMTP server's certificate is checked "
                              "against (default: the system's)"))
    group.add_argument("--smtp-timeout", type=float, default=30.0, metavar="SECONDS",
                       help=_("seconds to wait for each answer of the SMTP server"))
    group.add_argument("--mail-from", metavar="ADDRESS",
                       help=_("the sender address of the mails"))
    group.add_argument("--mail-base-url", metavar="URL",
                       help=_("the relay's public address for the links in the mails "
                              "(https://…)"))
    group.add_argument("--mail-charset", choices=[c.value for c in Charset],
                       default=Charset.ISO_2022_JP.value,
                       help=_("iso-2022-jp (default: every Japanese phone reads it) or utf-8"))
    group.add_argument("--mail-rate", type=float, default=100.0, metavar="PER_MINUTE",
                       help=_("mails a minute, sent at a steady pace (default: 100)"))
    group.add_argument("--mail-attempts", type=int, default=10, metavar="N",
                       help=_("tries of one mail before it is given up as failed"))
    group.add_argument("--mail-retry-base", type=float, default=60.0, metavar="SECONDS",
                       help=_("first wait before trying a mail again; it doubles each time"))
    group.add_argument("--mail-lease", type=float, default=None, metavar="SECONDS",
                       help=_("how long a mail stays with a sender that crashed before "
                              "another sends it"))


def _add_release_commands(commands: Any) -> None:
    """``release set``, ``release show`` and ``release clear``."""
    release = commands.add_parser(
        "release", help=_("the newest Kairan release, announced to office PCs"))
    release_actions = release.add_subparsers(dest="action", required=True, metavar="ACTION")
    release_set = release_actions.add_parser(
        "set", help=_("record the newest release (office PCs tell their officers)"))
    release_set.add_argument("version", metavar="VERSION")
    release_set.add_argument("--url", required=True, metavar="URL",
                             help=_("the download page (https://…)"))
    release_set.add_argument("--notes", default="", metavar="TEXT",
                             help=_("a line or two about what is new"))
    _add_db(release_set)
    _add_db(release_actions.add_parser("show", help=_("show the recorded release")))
    _add_db(release_actions.add_parser(
        "clear", help=_("forget the recorded release (office PCs hear of none)")))


def _add_mail_commands(commands: Any) -> None:
    """``mail send``, ``mail status`` and ``mail bounce``."""
    mail = commands.add_parser("mail", help=_("mail to households whose channel is e-mail"))
    mail_actions = mail.add_subparsers(dest="action", required=True, metavar="ACTION")
    send = mail_actions.add_parser("send", help=_("send the queued mails (until stopped)"))
    send.add_argument("--once", action="store_true",
                      help=_("send what is due now, then stop"))
    _add_db(send)
    _add_smtp(send, required=True)
    status = mail_actions.add_parser("status", help=_("the mail queue of each association"))
    status.add_argument("--association", metavar="ID")
    _add_db(status)
    bounce = mail_actions.add_parser(
        "bounce", help=_("record a delivery status notification (a bounce) read from FILE "
                         "or standard input"))
    bounce.add_argument("file", nargs="?", type=Path, default=None, metavar="FILE")
    _add_db(bounce)


def _parser() -> argparse.ArgumentParser:
    defaults = Settings()
    parser = argparse.ArgumentParser(
        prog="kairan-relay",
        description=_("Kairan relay: brings circulars to residents' phones and their answers "
                      "back to the office PCs."))
    parser.add_argument("--lang", choices=LANGUAGES, default=None,
                        help=_("language of messages (default: Japanese)"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help=_("run the relay over HTTPS"))
    _add_db(serve)
    serve.add_argument("--cert", type=Path, required=True, metavar="FILE",
                       help=_("the server certificate (PEM), e.g. cert.pem of `selfsigned`"))
    serve.add_argument("--key", type=Path, required=True, metavar="FILE",
                       help=_("the certificate's private key (PEM)"))
    serve.add_argument("--host", default=DEFAULT_HOST,
                       help=_("address to listen on (default: {host}; 0.0.0.0 for all)")
                       .format(host=DEFAULT_HOST))
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--rate-burst", type=int, default=defaults.rate_burst, metavar="N",
                       help=_("requests one token may send at once (default: {n})")
                       .format(n=defaults.rate_burst))
    serve.add_argument("--rate-per-second", type=float, default=defaults.rate_per_second,
                       metavar="R", help=_("requests per second one token may keep sending "
                                           "(default: {r})").format(r=defaults.rate_per_second))
    _add_smtp(serve, required=False)

    commands.add_parser("upgrade", help=_("bring the database to this relay's schema"))
    _add_db(commands.choices["upgrade"])

    selfsigned = commands.add_parser(
        "selfsigned", help=_("make a trial certificate (a private CA and a server certificate)"))
    selfsigned.add_argument("outdir", type=Path, metavar="OUTDIR")
    selfsigned.add_argument("--name", action="append", metavar="HOST",
                            help=_("host name or address the certificate is for (repeatable; "
                                   "default: localhost, 127.0.0.1 and this machine's name)"))

    association = commands.add_parser("association", help=_("associations on this relay"))
    actions = association.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help=_("create an association and a pairing code"))
    create.add_argument("name", metavar="NAME")
    create.add_argument("--hours", type=float, default=defaults.pairing_code_hours,
                        help=_("hours the pairing code stays valid (default: {h:g})")
                        .format(h=defaults.pairing_code_hours))
    _add_db(create)
    listing = actions.add_parser("list", help=_("list the associations"))
    _add_db(listing)

    code = commands.add_parser("pairing-code",
                               help=_("a new one-time pairing code for another office PC"))
    code.add_argument("association_id", metavar="ASSOCIATION_ID")
    code.add_argument("--hours", type=float, default=defaults.pairing_code_hours)
    _add_db(code)

    token = commands.add_parser("token", help=_("office device tokens"))
    token_actions = token.add_subparsers(dest="action", required=True, metavar="ACTION")
    tokens = token_actions.add_parser("list", help=_("list office device tokens"))
    tokens.add_argument("--association", metavar="ID")
    _add_db(tokens)
    revoke = token_actions.add_parser("revoke", help=_("revoke a device token (a lost PC)"))
    revoke.add_argument("prefix", metavar="HASH_PREFIX")
    _add_db(revoke)

    epoch = commands.add_parser("epoch", help=_("the database's epoch"))
    epoch_actions = epoch.add_subparsers(dest="action", required=True, metavar="ACTION")
    rotate = epoch_actions.add_parser(
        "rotate", help=_("start a new epoch after restoring a backup (PCs pull everything)"))
    _add_db(rotate)

    _add_release_commands(commands)
    _add_mail_commands(commands)
    return parser


def _database(args: argparse.Namespace) -> Database:
    return open_database(str(args.db))


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.relay.app import create_app

    for path in (args.cert, args.key):
        if not path.is_file():
            raise KairanError(_("Cannot read {path}. Give the certificate and key files "
                                "(`kairan-relay selfsigned DIR` makes a trial pair).")
                              .format(path=path))
    settings = Settings(database_url=str(args.db), rate_burst=args.rate_burst,
                        rate_per_second=args.rate_per_second)
    mail_settings = _mail_settings(args) if args.smtp_host else None
    if args.mail_base_url:
        _use_base_url(args.mail_base_url)
    database = _database(args)
    upgrade(database)
    app = create_app(settings, database=database)
    print(_("Relay listening on https://{host}:{port}/").format(host=args.host, port=args.port),
          file=sys.stderr)
    sender = None
    if mail_settings is not None:
        from sync.relay.mail.sender import BackgroundSender

        sender = BackgroundSender(database, mail_settings)
        sender.start()
        print(_("Sending mail through {host}:{port} ({rate:g} a minute).").format(
            host=mail_settings.host, port=mail_settings.port,
            rate=mail_settings.rate_per_minute), file=sys.stderr)
    try:
        uvicorn.run(app, host=args.host, port=args.port, ssl_certfile=str(args.cert),
                    ssl_keyfile=str(args.key), log_level="warning", server_header=False)
    finally:
        if sender is not None:
            sender.stop()
        database.dispose()
    return 0


def _cmd_upgrade(args: argparse.Namespace) -> int:
    database = _database(args)
    try:
        upgrade(database)
    finally:
        database.dispose()
    print(_("The relay database is up to date."))
    return 0


def _cmd_selfsigned(args: argparse.Namespace) -> int:
    from sync.relay.tls import write_selfsigned

    made = write_selfsigned(args.outdir, names=tuple(args.name) if args.name else None)
    print(_("Wrote {ca}, {cert} and {key} for: {names}").format(
        ca=made.ca_file, cert=made.cert_file, key=made.key_file, names=", ".join(made.names)))
    print(_("Start the relay with: kairan-relay serve --cert {cert} --key {key}").format(
        cert=made.cert_file, key=made.key_file))
    print(_("Office PCs trust it when {ca} is set as the CA file in their sync settings; "
            "browsers of residents need it installed as a trusted certificate. For a relay on "
            "the internet, use a certificate from a public CA instead.").format(ca=made.ca_file))
    return 0


def _cmd_association(args: argparse.Namespace) -> int:
    from sync.relay import admin

    database = _database(args)
    try:
        if args.action == "create":
            upgrade(database)  # the first command on a new relay: make its tables
            made = admin.create_association(database, name=args.name, code_hours=args.hours)
            print(_("Association: {name}").format(name=made.name))
            print(_("Association id: {id}").format(id=made.association_id))
            print(_("Pairing code: {code} (one use, valid until {until:%Y-%m-%d %H:%M} UTC)")
                  .format(code=made.pairing_code, until=made.expires_at))
        else:
            for row in admin.list_associations(database):
                print(f"{row.association_id}  {row.name}  "
                      + _("{devices} device(s), {items} log item(s)").format(
                          devices=row.devices, items=row.last_seq))
    finally:
        database.dispose()
    return 0


def _cmd_pairing_code(args: argparse.Namespace) -> int:
    from sync.relay import admin

    database = _database(args)
    try:
        code, until = admin.pairing_code(database, association_id=args.association_id,
                                         hours=args.hours)
    finally:
        database.dispose()
    print(_("Pairing code: {code} (one use, valid until {until:%Y-%m-%d %H:%M} UTC)")
          .format(code=code, until=until))
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from sync.relay import admin

    database = _database(args)
    try:
        if args.action == "revoke":
            admin.revoke_token(database, hash_prefix=args.prefix)
            print(_("Token revoked: that device can no longer sync. Pair it again with a new "
                    "pairing code if it should."))
            return 0
        for row in admin.list_tokens(database, association_id=args.association):
            state = _("revoked") if row.revoked else _("active")
            print(f"{row.hash_prefix}  {row.association_id}  {row.created_at:%Y-%m-%d}  "
                  f"{state}  {row.label}")
    finally:
        database.dispose()
    return 0


def _cmd_epoch(args: argparse.Namespace) -> int:
    from sync.relay import admin

    database = _database(args)
    try:
        epoch = admin.rotate_epoch(database)
    finally:
        database.dispose()
    print(_("New epoch {epoch}: office PCs will pull everything again at their next sync.")
          .format(epoch=epoch))
    return 0


def _require_current_schema(database: Database) -> None:
    """Refuse a database an older relay made (its tables lack what this command writes)."""
    from sync.relay.db import current_revision, head_revision

    with database.read() as connection:
        found = current_revision(connection)
    expected = head_revision()
    if found != expected:
        raise KairanError(_("The relay database is at schema revision {found}, this relay "
                            "needs {expected}. Run: kairan-relay upgrade --db URL").format(
                                found=found or "-", expected=expected))


def _cmd_release(args: argparse.Namespace) -> int:
    from sync.relay import releases

    if args.action == "set":  # checked before the database is opened
        releases.checked_release(version=args.version, url=args.url, notes=args.notes)
    database = _database(args)
    try:
        _require_current_schema(database)
        if args.action == "set":
            made = releases.set_release(database, version=args.version, url=args.url,
                                        notes=args.notes)
            print(_("Office PCs will be told that Kairan {version} exists: {url}").format(
                version=made.version, url=made.url))
        elif args.action == "clear":
            if releases.clear_release(database):
                print(_("The release was forgotten: office PCs hear of none."))
            else:
                print(_("No release was recorded."))
        else:
            recorded = releases.read_release(database)
            if recorded is None:
                print(_("No release is recorded."))
            else:
                print(_("Version: {version}").format(version=recorded.version))
                print(_("Download page: {url}").format(url=recorded.url))
                if recorded.notes:
                    print(_("Notes: {notes}").format(notes=recorded.notes))
    finally:
        database.dispose()
    return 0


def _use_base_url(base_url: str) -> None:
    """Give mails queued by this process Message-IDs in the domain of the public address."""
    from sync.relay.mail.settings import normalise_base_url

    try:
        from sync.relay.mail.enqueue import use_public_base_url
    except ImportError:  # the queueing side is not installed: nothing to tell it
        return
    use_public_base_url(normalise_base_url(base_url))


def _mail_settings(args: argparse.Namespace) -> MailSettings:
    """The mail sender's settings from the command line (the password from the environment
    or the secrets file), or :class:`KairanError` saying what is missing."""
    from sync.relay.mail.settings import checked, read_password

    if not args.mail_from:
        raise KairanError(_("Give the sender address of the mails: --mail-from ADDRESS."))
    if not args.mail_base_url:
        raise KairanError(_("Give the relay's public address for the links in the mails: "
                            "--mail-base-url https://…"))
    password = read_password(args.smtp_password_file) if args.smtp_user else None
    return checked(host=args.smtp_host, port=args.smtp_port, security=args.smtp_security,
                   user=args.smtp_user, password=password, from_address=args.mail_from,
                   charset=args.mail_charset, rate_per_minute=args.mail_rate,
                   base_url=args.mail_base_url, ca_file=args.smtp_ca_file,
                   timeout_seconds=args.smtp_timeout, max_attempts=args.mail_attempts,
                   retry_base_seconds=args.mail_retry_base, lease_seconds=args.mail_lease)


def _cmd_mail(args: argparse.Namespace) -> int:
    if args.action == "send":
        return _mail_send(args)
    database = _database(args)
    try:
        _require_current_schema(database)
        if args.action == "status":
            _mail_status(database, args.association)
            return 0
        return _mail_bounce(database, args.file)
    finally:
        database.dispose()


def _mail_send(args: argparse.Namespace) -> int:
    import signal
    import threading

    from sync.relay.mail.sender import MailSender

    settings = _mail_settings(args)
    _use_base_url(settings.base_url)
    database = _database(args)
    stop = threading.Event()

    def on_signal(_number: int, _frame: object) -> None:
        # The mail in flight is finished and recorded first; a second Ctrl+C forces the stop.
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {number: signal.signal(number, on_signal)
                for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        _require_current_schema(database)
        sender = MailSender(database, settings, stop=stop)
        if args.once:
            tally = sender.drain()
        else:
            print(_("Sending mail through {host}:{port} ({rate:g} a minute); Ctrl+C stops.")
                  .format(host=settings.host, port=settings.port,
                          rate=settings.rate_per_minute), file=sys.stderr)
            tally = sender.run()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        database.dispose()
    print(_("Mail: {sent} sent, {retrying} to try again later, {failed} failed, {bounced} "
            "bounced, {cancelled} cancelled.").format(
                sent=tally.sent, retrying=tally.retrying, failed=tally.failed,
                bounced=tally.bounced, cancelled=tally.cancelled))
    return 0


def _mail_status(database: Database, association_id: str | None) -> None:
    from sync.relay.mail.status import queue_status

    found = queue_status(database, association_id=association_id)
    if not found:
        print(_("No mail has been queued."))
    for status in found:
        print(f"{status.association_id}  {status.name}")
        print("  " + _("mails: {queued} queued, {sending} sending, {sent} sent, {failed} "
                       "failed, {bounced} bounced, {cancelled} cancelled").format(
                           **status.mails))
        print("  " + _("addresses: {ok} in use, {bounced} bounced, {unsubscribed} "
                       "unsubscribed").format(ok=status.addresses.get("ok", 0),
                                              bounced=status.addresses.get("bounced", 0),
                                              unsubscribed=status.addresses.get(
                                                  "unsubscribed", 0)))
        if status.next_attempt_at is not None:
            print("  " + _("next mail due: {when:%Y-%m-%d %H:%M:%S} UTC").format(
                when=status.next_attempt_at))
        if status.last_error:
            print("  " + _("waiting because: {error}").format(error=status.last_error))


def _mail_bounce(database: Database, file: Path | None) -> int:
    from sync.relay.mail.bounce import record_bounce

    try:
        raw = file.read_bytes() if file is not None else sys.stdin.buffer.read()
    except OSError as error:
        raise KairanError(_("Cannot read {path} ({problem}).").format(
            path=file, problem=error.strerror or error)) from error
    outcome = record_bounce(database, raw)
    if outcome.recorded:
        print(_("Recorded: {address} bounced ({detail}); it will not be mailed again and the "
                "office PCs are told.").format(address=outcome.address, detail=outcome.detail))
    else:
        print(_("Already recorded: {address} bounced.").format(address=outcome.address))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kairan-relay`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang", choices=LANGUAGES, default=None)
    known, _rest = early.parse_known_args(arguments)
    set_language(known.lang or DEFAULT_LANGUAGE)
    args = _parser().parse_args(arguments)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "serve": _cmd_serve, "upgrade": _cmd_upgrade, "selfsigned": _cmd_selfsigned,
        "association": _cmd_association, "pairing-code": _cmd_pairing_code,
        "token": _cmd_token, "epoch": _cmd_epoch, "release": _cmd_release,
        "mail": _cmd_mail,
    }
    try:
        return handlers[args.command](args)
    except KairanError as error:
        print(_("Error: {message}").format(message=error.message), file=sys.stderr)
        return EXIT_PROBLEM
    except (ArgumentError, OperationalError) as error:
        print(_("Error: cannot open the relay database {url} ({problem}). Check --db.")
              .format(url=args.db, problem=str(error).splitlines()[0]), file=sys.stderr)
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())

"""The device token, kept only in the OS keyring (Windows Credential Manager, macOS Keychain,
the Secret Service on Linux) through ``keyring``.

Without a usable keyring there is no sync: the token is never written to a file, the settings
or the association file, not even "for now". A keyring that only pretends (``fail``, ``null``,
an empty chain) or keeps passwords in plain text (``keyrings.alt``) counts as none.
"""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from desktop.domain.errors import KairanError
from desktop.i18n import _

SERVICE = "Kairan relay"


class NoKeyring(KairanError):
    """There is nowhere safe to keep the device token on this PC."""


def token_key(relay_url: str, association_id: str) -> str:
    """The keyring user name of one pairing: the relay and the association on it."""
    return f"{relay_url.rstrip('/')} {association_id}"


def _is_usable(backend: KeyringBackend) -> bool:
    kind = type(backend)
    if kind.__module__.startswith(("keyring.backends.fail", "keyring.backends.null",
                                   "keyrings.alt")) or "plaintext" in kind.__name__.lower():
        return False
    chained = getattr(backend, "backends", None)
    if chained is not None:  # a chain is as good as the keyrings in it
        return any(_is_usable(inner) for inner in chained)
    try:
        priority = float(backend.priority)
    except Exception:  # a backend that cannot even say its priority is not usable
        return False
    return priority > 0


def _no_keyring(detail: str = "") -> NoKeyring:
    text = _("This PC has no usable password store (keyring), so Kairan cannot keep the "
             "relay's access key safely and will not sync. On Windows and macOS the system's "
             "own store is used; on Linux, start a keyring service such as GNOME Keyring or "
             "KWallet, then connect again.")
    if detail:
        text += " (" + detail + ")"
    return NoKeyring(text)


def check_keyring() -> None:
    """Raise :class:`NoKeyring` unless a real keyring is there (before a pairing code is
    used up, so the officer can fix it and try again with the same code)."""
    if not _is_usable(keyring.get_keyring()):
        raise _no_keyring()


def store_token(key: str, token: str) -> None:
    """Keep ``token`` in the keyring under ``key``."""
    check_keyring()
    try:
        keyring.set_password(SERVICE, key, token)
    except KeyringError as error:
        raise _no_keyring(str(error)) from error


def load_token(key: str) -> str:
    """The token kept under ``key``; :class:`KairanError` when the keyring has none (the file
    was paired on another PC, or the key was removed)."""
    check_keyring()
    try:
        token = keyring.get_password(SERVICE, key)
    except KeyringError as error:
        raise _no_keyring(str(error)) from error
    if not token:
        raise KairanError(
            _("The relay's access key for this file is not in this PC's password store (was "
              "the file paired on another PC?). Connect to the relay again with a new pairing "
              "code."))
    return token


def delete_token(key: str) -> None:
    """Forget the token kept under ``key`` (nothing happens when there is none)."""
    try:
        if keyring.get_password(SERVICE, key) is not None:
            keyring.delete_password(SERVICE, key)
    except KeyringError:
        pass  # no keyring: there is nothing kept to forget

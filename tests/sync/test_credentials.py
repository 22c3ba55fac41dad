"""The device token lives in the OS keyring only; without a usable keyring there is no sync
and no plain-text fallback."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import chainer, fail, null

from desktop.domain.errors import KairanError
from sync import credentials
from tests.sync.helpers import MemoryKeyring


def test_the_token_goes_into_the_keyring_and_comes_back(memory_keyring: MemoryKeyring) -> None:
    key = credentials.token_key("https://relay.example.jp/", "assoc-1")
    assert key == "https://relay.example.jp assoc-1"
    credentials.store_token(key, "secret-token")
    assert memory_keyring.passwords == {("Kairan relay", key): "secret-token"}
    assert credentials.load_token(key) == "secret-token"
    credentials.delete_token(key)
    credentials.delete_token(key)  # twice is harmless
    with pytest.raises(KairanError, match="not in this PC's password store"):
        credentials.load_token(key)


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()],
                         ids=["fail", "null"])
def test_no_usable_keyring_is_a_clear_error_and_stores_nothing(
    backend: keyring.backend.KeyringBackend, tmp_path: object
) -> None:
    keyring.set_keyring(backend)
    with pytest.raises(credentials.NoKeyring, match="no usable password store"):
        credentials.check_keyring()
    with pytest.raises(credentials.NoKeyring):
        credentials.store_token("k", "secret-token")
    with pytest.raises(credentials.NoKeyring):
        credentials.load_token("k")


def test_an_empty_chain_of_keyrings_is_no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    keyring.set_keyring(chainer.ChainerBackend())
    with pytest.raises(credentials.NoKeyring):
        credentials.check_keyring()


def test_a_chain_with_a_real_keyring_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    keyring.set_keyring(chainer.ChainerBackend())
    credentials.check_keyring()


def test_a_plaintext_keyring_is_refused() -> None:
    class PlaintextKeyring(MemoryKeyring):
        """Like keyrings.alt's: passwords in a file anyone can read."""

    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(credentials.NoKeyring):
        credentials.store_token("k", "secret-token")


def test_a_keyring_that_fails_to_store_is_reported(memory_keyring: MemoryKeyring,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*_args: object) -> None:
        raise keyring.errors.KeyringLocked("the keyring is locked")

    monkeypatch.setattr(memory_keyring, "set_password", locked)
    with pytest.raises(credentials.NoKeyring, match="the keyring is locked"):
        credentials.store_token("k", "secret-token")

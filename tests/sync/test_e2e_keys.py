"""The association keys and the device key pairs: generations, keeping them in the keyring
(in-memory here, never the real one), wrapping a key for a PC or the recovery sheet, moving
the keys with a transfer code, and the recovery words — with clear messages, in the officer's
language, for a mistyped code or word."""

from __future__ import annotations

import re

import keyring
import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backends import fail

from desktop import i18n
from desktop.domain.errors import ValidationError
from sync.credentials import SERVICE, NoKeyring, token_key
from sync.e2e import keys as keys_module
from sync.e2e.cipher import CipherError, b64_decode, b64_encode
from sync.e2e.keys import (
    CROCKFORD,
    RECOVERY_DEVICE,
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    DeviceIdentity,
    KeyRing,
    canonical_code,
    delete_identity,
    delete_key_ring,
    load_key_ring,
    load_or_create_identity,
    new_key_ring,
    new_recovery_words,
    new_transfer_code,
    recovery_identity,
    store_key_ring,
    unwrap_key,
    unwrap_with_code,
    wrap_key,
    wrap_with_code,
)
from tests.sync.helpers import MemoryKeyring

RELAY = "https://relay.example.jp"
ASSOC = "0f8e4b52-2c1d-4f7a-9b7e-3d2a1c0b9e8f"
# The BIP-39 test vector of 16 zero bytes; its recovery key must never change: printed sheets
# in safes depend on it.
ZERO_WORDS = ["abandon"] * 11 + ["about"]
ZERO_PUBLIC = "2zDSDqFoKZ6xYi5JUl9QVzXRER7M3hTgyH0Ucp0h_kc"


def japanese(monkeypatch: pytest.MonkeyPatch) -> bool:
    """Japanese messages (the language is put back after each test)."""
    i18n.set_language("ja")
    return True


# ------------------------------------------------------------------ key rings


def test_a_new_ring_has_generation_one_and_grows_by_one() -> None:
    ring = new_key_ring()
    assert ring.current == 1 and len(ring.key(1)) == 32 and ring.current_key == ring.key(1)
    second = ring.new_generation()
    assert second.current == 2 and second.key(1) == ring.key(1) and second.key(2) != ring.key(1)
    assert ring.current == 1  # rings never change
    assert new_key_ring().key(1) != ring.key(1)


def test_with_key_adds_a_generation_and_the_highest_is_current() -> None:
    ring = KeyRing({1: b"a" * 32}, 1)
    assert ring.with_key(3, b"c" * 32).current == 3
    assert ring.with_key(3, b"c" * 32).with_key(2, b"b" * 32).current == 3
    assert sorted(ring.with_key(3, b"c" * 32).with_key(2, b"b" * 32).keys) == [1, 2, 3]


@pytest.mark.parametrize(("keys", "current"), [({}, 1), ({1: b"a" * 32}, 2),
                                               ({1: b"a" * 32, 2: b"b" * 32}, 1),
                                               ({1: b"short"}, 1), ({0: b"a" * 32}, 0)])
def test_a_ring_that_makes_no_sense_is_a_programming_error(keys: dict[int, bytes],
                                                          current: int) -> None:
    with pytest.raises(ValueError):
        KeyRing(keys, current)


def test_a_missing_generation_says_so_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    ring = new_key_ring()
    with pytest.raises(CipherError, match="key generation 4"):
        ring.key(4)
    if japanese(monkeypatch):
        with pytest.raises(CipherError, match="第4世代"):
            ring.key(4)


def test_ring_json_round_trip_and_no_keys_in_repr() -> None:
    ring = new_key_ring().new_generation().new_generation()
    again = KeyRing.from_json(ring.to_json())
    assert again == ring and again.current == 3
    assert repr(ring) == "KeyRing(generations=[1, 2, 3], current=3)"
    keys_text = re.findall(r'"[123]":"([^"]+)"', ring.to_json())
    assert len(keys_text) == 3 and not any(text in repr(ring) for text in keys_text)


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"current":1,"keys":{"1":"AAAA"}}',
                                  '{"current":2,"keys":{"1":"' + "A" * 43 + '"}}',
                                  '{"current":1,"keys":{"x":"' + "A" * 43 + '"}}'])
def test_a_damaged_ring_raises_cipher_error(text: str) -> None:
    with pytest.raises(CipherError, match="damaged"):
        KeyRing.from_json(text)


# ------------------------------------------------------------------ keeping them in the keyring


def test_rings_are_kept_per_relay_and_association(memory_keyring: MemoryKeyring) -> None:
    assert load_key_ring(RELAY, ASSOC) is None
    ring = new_key_ring()
    store_key_ring(RELAY, ASSOC, ring)
    assert load_key_ring(RELAY + "/", ASSOC) == ring
    assert load_key_ring(RELAY, "other") is None
    assert load_key_ring("https://other.example.jp", ASSOC) is None
    assert all(service == SERVICE and user.startswith(token_key(RELAY, ASSOC))
               for service, user in memory_keyring.passwords)
    newer = ring.new_generation()
    store_key_ring(RELAY, ASSOC, newer)
    assert load_key_ring(RELAY, ASSOC) == newer
    delete_key_ring(RELAY, ASSOC)
    assert load_key_ring(RELAY, ASSOC) is None and not memory_keyring.passwords
    delete_key_ring(RELAY, ASSOC)  # nothing kept: nothing happens


def test_a_long_ring_is_kept_in_parts_small_enough_for_windows(
        memory_keyring: MemoryKeyring) -> None:
    ring = new_key_ring()
    for _generation in range(40):
        ring = ring.new_generation()
    store_key_ring(RELAY, ASSOC, ring)
    assert len(memory_keyring.passwords) > 2
    assert all(len(value) <= 1000 for value in memory_keyring.passwords.values())
    assert load_key_ring(RELAY, ASSOC) == ring
    store_key_ring(RELAY, ASSOC, new_key_ring())  # the parts left over are removed
    assert len(memory_keyring.passwords) == 1
    store_key_ring(RELAY, ASSOC, ring)
    delete_key_ring(RELAY, ASSOC)
    assert not memory_keyring.passwords


def test_no_keyring_means_no_keys() -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    # put back by the autouse fixture
    with pytest.raises(NoKeyring):
        store_key_ring(RELAY, ASSOC, new_key_ring())
    with pytest.raises(NoKeyring):
        load_key_ring(RELAY, ASSOC)
    with pytest.raises(NoKeyring):
        load_or_create_identity(RELAY, ASSOC)
    delete_key_ring(RELAY, ASSOC)
    delete_identity(RELAY, ASSOC)


def test_the_device_identity_is_made_once_and_kept(memory_keyring: MemoryKeyring) -> None:
    identity = load_or_create_identity(RELAY, ASSOC)
    assert load_or_create_identity(RELAY, ASSOC).public_text == identity.public_text
    assert load_or_create_identity(RELAY, "other").public_text != identity.public_text
    assert len(identity.public_text) == 43 and "=" not in identity.public_text
    assert identity.public_text in repr(identity)
    kept = [value for value in memory_keyring.passwords.values()]
    assert identity.public_text not in kept  # the private half is what is kept
    delete_identity(RELAY, ASSOC)
    assert load_or_create_identity(RELAY, ASSOC).public_text != identity.public_text


def test_a_damaged_identity_is_not_replaced_silently(memory_keyring: MemoryKeyring) -> None:
    load_or_create_identity(RELAY, ASSOC)
    for key in memory_keyring.passwords:
        memory_keyring.passwords[key] = "broken!"
    with pytest.raises(CipherError, match="damaged"):
        load_or_create_identity(RELAY, ASSOC)


def test_identity_private_bytes_round_trip() -> None:
    identity = DeviceIdentity.generate()
    again = DeviceIdentity.from_private_bytes(identity.private_bytes())
    assert again.public_text == identity.public_text and len(identity.private_bytes()) == 32


# ------------------------------------------------------------------ wrapped keys


def test_a_wrapped_key_opens_only_for_its_identity_and_association() -> None:
    pc, other = DeviceIdentity.generate(), DeviceIdentity.generate()
    key = bytes(range(32))
    wrapped = wrap_key(pc.public_text, 5, key, association_id=ASSOC)
    assert unwrap_key(pc, wrapped, association_id=ASSOC) == (5, key)
    assert wrap_key(pc.public_text, 5, key, association_id=ASSOC) != wrapped  # ephemeral key
    with pytest.raises(CipherError, match="made for another PC"):
        unwrap_key(other, wrapped, association_id=ASSOC)
    with pytest.raises(CipherError):
        unwrap_key(pc, wrapped, association_id="another association")


def test_a_changed_wrapped_key_does_not_open() -> None:
    pc = DeviceIdentity.generate()
    wrapped = wrap_key(pc.public_text, 1, bytes(32), association_id=ASSOC)
    raw = bytearray(b64_decode(wrapped))
    raw[4] ^= 1  # the generation: the relay cannot pass a key off as another generation
    with pytest.raises(CipherError):
        unwrap_key(pc, b64_encode(bytes(raw)), association_id=ASSOC)
    for broken in ["", "!!", wrapped[:-4], wrapped[:40], "B" + wrapped[1:]]:
        with pytest.raises(CipherError):
            unwrap_key(pc, broken, association_id=ASSOC)


@pytest.mark.parametrize("public_text", ["", "not a key!", "AAAA", "A" * 43])
def test_wrapping_for_a_broken_public_key_says_so(public_text: str) -> None:
    with pytest.raises(CipherError, match="public key"):
        wrap_key(public_text, 1, bytes(32), association_id=ASSOC)


# ------------------------------------------------------------------ transfer codes


def test_transfer_codes_are_ten_crockford_characters() -> None:
    codes = {new_transfer_code() for _attempt in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert re.fullmatch(f"[{CROCKFORD}]{{5}}-[{CROCKFORD}]{{5}}", code)
        assert canonical_code(code) == code


@pytest.mark.parametrize("typed", ["7kq2m-x9d4r", "7KQ2M X9D4R", " 7kq2mx9d4r ",
                                   "７ＫＱ２Ｍ－Ｘ９Ｄ４Ｒ", "７ｋｑ２ｍ　ｘ９ｄ４ｒ",
                                   "7KQ2MーX9D4R", "7KQ2M—X9D4R", "7-K-Q-2-M-X-9-D-4-R"])
def test_a_code_may_be_typed_loosely(typed: str) -> None:
    assert canonical_code(typed) == "7KQ2M-X9D4R"


def test_look_alike_letters_read_as_digits() -> None:
    assert canonical_code("OoIiL-lABCD") == "00111-1ABCD"


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Type the key code"),
    ("  - ", "Type the key code"),
    ("7KQ2M-X9D4U", "「U」"),
    ("7KQ2M#X9D4R?", "「#」「?」"),
    ("7KQ2M-X9D4", "has 9 letters and digits, but it needs 10"),
    ("7KQ2M-X9D4RR", "has 11 letters and digits"),
])
def test_a_mistyped_code_gets_a_clear_message(typed: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as caught:
        canonical_code(typed)
    assert caught.value.field == "key_code"


def test_code_messages_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    japanese(monkeypatch)
    with pytest.raises(ValidationError, match="9文字"):
        canonical_code("7KQ2M-X9D4")
    with pytest.raises(ValidationError, match="「U」"):
        canonical_code("7KQ2M-X9D4U")


def test_the_ring_moves_with_the_code_typed_on_the_other_pc() -> None:
    ring = new_key_ring().new_generation()
    code = new_transfer_code()
    blob = wrap_with_code(code, ring, association_id=ASSOC)
    assert ring.to_json() not in blob and len(blob) <= 4096
    assert wrap_with_code(code, ring, association_id=ASSOC) != blob  # a fresh salt
    assert unwrap_with_code(" " + code.lower().replace("-", " "), blob,
                            association_id=ASSOC) == ring


def test_a_wrong_code_does_not_match() -> None:
    ring = new_key_ring()
    blob = wrap_with_code("7KQ2M-X9D4R", ring, association_id=ASSOC)
    with pytest.raises(CipherError, match="does not match"):
        unwrap_with_code("7KQ2M-X9D4S", blob, association_id=ASSOC)
    with pytest.raises(CipherError, match="does not match"):
        unwrap_with_code("7KQ2M-X9D4R", blob, association_id="another association")
    for broken in ["", "!!", blob[:30], "B" + blob[1:]]:
        with pytest.raises(CipherError, match="does not match"):
            unwrap_with_code("7KQ2M-X9D4R", broken, association_id=ASSOC)
    with pytest.raises(ValidationError):  # not even a code: said before any work is done
        unwrap_with_code("7KQ2M", blob, association_id=ASSOC)


def test_a_ring_of_many_generations_fits_a_transfer() -> None:
    ring = new_key_ring()
    for _generation in range(50):
        ring = ring.new_generation()
    assert len(wrap_with_code("7KQ2M-X9D4R", ring, association_id=ASSOC)) <= 4096


def test_the_code_is_stretched_with_the_agreed_scrypt_cost(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert (SCRYPT_N, SCRYPT_R, SCRYPT_P) == (2**15, 8, 1)
    made: list[dict[str, object]] = []
    real = Scrypt

    def spy(**kwargs: object) -> object:
        made.append(kwargs)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("sync.e2e.keys.Scrypt", spy)
    wrap_with_code("7KQ2M-X9D4R", new_key_ring(), association_id=ASSOC)
    assert made[0]["n"] == 2**15 and made[0]["r"] == 8 and made[0]["p"] == 1
    assert len(made[0]["salt"]) == 16  # type: ignore[arg-type]


# ------------------------------------------------------------------ recovery words


def test_recovery_words_are_twelve_bip39_words() -> None:
    words = new_recovery_words()
    known, _prefixes = keys_module._word_list()
    assert len(words) == 12 and all(word in known for word in words)
    assert new_recovery_words() != words
    assert recovery_identity(words).public_text == recovery_identity(words).public_text


def test_the_recovery_key_of_a_known_vector_never_changes() -> None:
    assert recovery_identity(ZERO_WORDS).public_text == ZERO_PUBLIC
    assert RECOVERY_DEVICE == "recovery"


@pytest.mark.parametrize("typed", [
    " ".join(ZERO_WORDS).upper(),
    "  abandon\tabandon\nabandon abandon abandon abandon abandon abandon abandon abandon "
    "abandon about ",
    "ａｂａｎｄｏｎ　" * 11 + "ａｂｏｕｔ",
    ", ".join(ZERO_WORDS),
    "、".join(ZERO_WORDS),
    " ".join(f"{number}. {word}" for number, word in enumerate(ZERO_WORDS, start=1)),
    " ".join(f"{number}.{word}" for number, word in enumerate(ZERO_WORDS, start=1)),
    "aban " * 11 + "abou",
    "Aband " * 11 + "about",
])
def test_the_words_may_be_typed_loosely(typed: str) -> None:
    assert recovery_identity(typed).public_text == ZERO_PUBLIC


def test_a_list_of_words_is_fine_too() -> None:
    assert recovery_identity([word.title() for word in ZERO_WORDS]).public_text == ZERO_PUBLIC


@pytest.mark.parametrize(("words", "message"), [
    (ZERO_WORDS[:11], "has 12 words, but 11 were typed"),
    ([*ZERO_WORDS, "about"], "has 12 words, but 13 were typed"),
    ("", "has 12 words, but 0 were typed"),
    ([*ZERO_WORDS[:4], "abandn", *ZERO_WORDS[5:]], "Word 5 (「abandn」)"),
    ([*ZERO_WORDS[:11], "aba"], "Word 12 (「aba」)"),
    (["zzzz", *ZERO_WORDS[1:7], "qqqq", *ZERO_WORDS[8:]], "Words 1, 8 are not"),
    (["abandon"] * 12, "one of the words is wrong"),
    (["about", *ZERO_WORDS[:11]], "one of the words is wrong"),
])
def test_a_mistyped_word_is_named_by_its_number(words: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as caught:
        recovery_identity(words)
    assert caught.value.field == "recovery_words"


def test_word_messages_in_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    japanese(monkeypatch)
    with pytest.raises(ValidationError, match="5番目の単語（「abandn」）"):
        recovery_identity([*ZERO_WORDS[:4], "abandn", *ZERO_WORDS[5:]])
    with pytest.raises(ValidationError, match="どれか1つが違う"):
        recovery_identity(["abandon"] * 12)


def test_the_sheet_opens_every_generation_wrapped_for_it() -> None:
    words = new_recovery_words()
    sheet_public = recovery_identity(words).public_text  # all a PC keeps of the sheet
    ring = new_key_ring().new_generation().new_generation()
    grants = [wrap_key(sheet_public, gen, key, association_id=ASSOC)
              for gen, key in ring.keys.items()]
    typed = recovery_identity(" ".join(words).upper())
    opened = dict(unwrap_key(typed, grant, association_id=ASSOC) for grant in grants)
    assert KeyRing(opened, max(opened)) == ring
    with pytest.raises(CipherError):
        unwrap_key(recovery_identity(new_recovery_words()), grants[0], association_id=ASSOC)

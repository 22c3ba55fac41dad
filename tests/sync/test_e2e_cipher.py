"""Sealing with the association key: what is sealed opens with the same key and additional
data only; anything changed, cut short, made with another key or not base64 at all raises
CipherError in the officer's language; sealed JSON is canonical and compressed."""

from __future__ import annotations

import json
import os
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop import i18n
from desktop.domain.errors import KairanError
from sync.e2e.cipher import (
    NONCE_SIZE,
    CipherError,
    aad_for,
    b64_decode,
    b64_encode,
    open_json,
    open_sealed,
    seal,
    seal_json,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AAD = aad_for("assoc-1", "op", 7)


def japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    """Japanese messages (the language is put back after each test)."""
    i18n.set_language("ja")


def test_sealed_data_opens_with_the_same_key_and_aad() -> None:
    blob = seal(KEY, "回覧板".encode(), aad=AAD)
    assert len(blob) == NONCE_SIZE + len("回覧板".encode()) + 16
    assert open_sealed(KEY, blob, aad=AAD) == "回覧板".encode()
    assert seal(KEY, b"same", aad=AAD) != seal(KEY, b"same", aad=AAD)  # a fresh nonce each time


@pytest.mark.parametrize("case", ["other key", "other aad", "flipped bit", "truncated",
                                  "too short", "empty"])
def test_anything_else_raises_cipher_error(case: str) -> None:
    blob = seal(KEY, b"household 0003", aad=AAD)
    key, aad = KEY, AAD
    if case == "other key":
        key = OTHER_KEY
    elif case == "other aad":
        aad = aad_for("assoc-1", "op", 8)
    elif case == "flipped bit":
        blob = blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]
    elif case == "truncated":
        blob = blob[:-1]
    elif case == "too short":
        blob = blob[:NONCE_SIZE + 3]
    else:
        blob = b""
    with pytest.raises(CipherError, match="could not be opened"):
        open_sealed(key, blob, aad=aad)


def test_cipher_error_is_an_officer_message_in_japanese(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert issubclass(CipherError, KairanError)
    japanese(monkeypatch)
    with pytest.raises(CipherError) as caught:
        open_sealed(KEY, b"x" * 40, aad=AAD)
    assert "開けませんでした" in str(caught.value)


def test_a_key_of_the_wrong_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal(b"short", b"x", aad=AAD)


def test_sealed_json_is_canonical_compressed_url_safe_text() -> None:
    value = {"z": 1, "a": ["桜町", {"y": None, "b": True}], "n": 1.5}
    text = seal_json(KEY, value, aad=AAD)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert open_json(KEY, text, aad=AAD) == value
    packed = open_sealed(KEY, b64_decode(text), aad=AAD)
    assert zlib.decompress(packed).decode() == (
        '{"a":["桜町",{"b":true,"y":null}],"n":1.5,"z":1}')
    reordered = {"n": 1.5, "a": ["桜町", {"b": True, "y": None}], "z": 1}
    again = open_sealed(KEY, b64_decode(seal_json(KEY, reordered, aad=AAD)), aad=AAD)
    assert again == packed


def test_repeated_data_is_compressed() -> None:
    rows = [{"name": "高橋 花子", "group": "1班", "phone": "090-0000-0000"}] * 200
    text = seal_json(KEY, rows, aad=AAD)
    assert len(text) < len(json.dumps(rows, ensure_ascii=False)) / 10


@pytest.mark.parametrize("text", ["", "not base64!", "abcde", "a" * 41 + "=", "ü" * 40])
def test_open_json_rejects_text_that_is_not_a_sealed_blob(text: str) -> None:
    with pytest.raises(CipherError):
        open_json(KEY, text, aad=AAD)


def test_open_json_rejects_blobs_without_compressed_json() -> None:
    not_zlib = b64_encode(seal(KEY, b"plain text", aad=AAD))
    with pytest.raises(CipherError):
        open_json(KEY, not_zlib, aad=AAD)
    not_json = b64_encode(seal(KEY, zlib.compress(b"{not json"), aad=AAD))
    with pytest.raises(CipherError):
        open_json(KEY, not_json, aad=AAD)
    not_utf8 = b64_encode(seal(KEY, zlib.compress(b"\xff\xfe"), aad=AAD))
    with pytest.raises(CipherError):
        open_json(KEY, not_utf8, aad=AAD)
    with pytest.raises(CipherError):
        open_json(OTHER_KEY, seal_json(KEY, [1], aad=AAD), aad=AAD)
    with pytest.raises(CipherError):
        open_json(KEY, seal_json(KEY, [1], aad=AAD), aad=aad_for("assoc-2", "op", 7))


def test_aad_binds_association_and_parts() -> None:
    assert aad_for("a1") == b"kairan-e2e-v1|a1"
    assert aad_for("a1", "op", 12, "x") == b"kairan-e2e-v1|a1|op|12|x"
    assert aad_for("自治会", 1) == "kairan-e2e-v1|自治会|1".encode()
    with pytest.raises(ValueError, match=r"\|"):
        aad_for("a1", "op|12")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=5),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(value=JSON, key=st.binary(min_size=32, max_size=32))
def test_any_json_value_survives_a_round_trip(value: object, key: bytes) -> None:
    assert open_json(key, seal_json(key, value, aad=AAD), aad=AAD) == value


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=64))
def test_base64_round_trip(data: bytes) -> None:
    text = b64_encode(data)
    assert "=" not in text
    assert b64_decode(text) == data


def test_random_bytes_never_open() -> None:
    for _attempt in range(20):
        with pytest.raises(CipherError):
            open_json(KEY, b64_encode(os.urandom(60)), aad=AAD)

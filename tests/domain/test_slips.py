"""Reply slip codes: what the QR code carries, and reading back a scan or a typed number."""

from __future__ import annotations

import uuid

import pytest

from desktop.domain.errors import ValidationError
from desktop.domain.slips import SlipCode, circular_tag, parse_slip_code, slip_code

CIRCULAR = uuid.UUID("01a20a53-dfcc-7ffd-999e-3b35ef08c22c")


def test_the_code_names_the_circular_and_the_household() -> None:
    assert circular_tag(CIRCULAR) == "ef08c22c"
    assert slip_code(CIRCULAR, "0012") == "KRN1:ef08c22c:0012"
    assert parse_slip_code(slip_code(CIRCULAR, "0012")) == SlipCode("ef08c22c", "0012")


def test_numbers_with_any_character_survive_the_round_trip() -> None:
    for number in ("A-12", "3:4", "東12", "12 3"):
        assert parse_slip_code(slip_code(CIRCULAR, number)).household_number == number


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("0012", SlipCode(None, "0012")),
        ("  ００１２\n", SlipCode(None, "0012")),  # full-width digits from an input method
        ("ＫＲＮ１：ＥＦ０８Ｃ２２Ｃ：００１２", SlipCode("ef08c22c", "0012")),
        ("krn1:EF08C22C:0012", SlipCode("ef08c22c", "0012")),
        ("KRN1:ef08c22c: 0012 ", SlipCode("ef08c22c", "0012")),
        ("12:30", SlipCode(None, "12:30")),  # a colon alone does not make a slip code
    ],
)
def test_scans_and_typed_numbers_are_folded(entry: str, expected: SlipCode) -> None:
    assert parse_slip_code(entry) == expected


@pytest.mark.parametrize("entry", ["KRN1:ef08c2:0012", "KRN1:ef08c22c:", "KRN1:zzzzzzzz:1",
                                   "KRN1:"])
def test_a_damaged_code_says_so(entry: str) -> None:
    with pytest.raises(ValidationError, match="could not be read") as caught:
        parse_slip_code(entry)
    assert caught.value.field == "entry"


def test_nothing_entered() -> None:
    with pytest.raises(ValidationError, match="Nothing was entered"):
        parse_slip_code(" \u3000 ")

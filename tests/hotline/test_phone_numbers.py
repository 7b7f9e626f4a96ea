"""Phone numbers: E.164 normalisation and log-safe masking."""
from __future__ import annotations

import re

import pytest

from hotline.phone_numbers import mask, normalise

KEY = "test-secret"


@pytest.mark.parametrize("raw, e164", [
    ("0888123456", "+359888123456"),
    ("0888 123 456", "+359888123456"),
    ("088-812-3456", "+359888123456"),
    ("02 987 6543", "+35929876543"),  # Sofia fixed line
    ("(02) 987-6543", "+35929876543"),
    ("+359888123456", "+359888123456"),
    ("+359 88 812 3456", "+359888123456"),
    ("00359888123456", "+359888123456"),
    ("  +359888123456  ", "+359888123456"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+1 202 555 0143", "+12025550143"),
    ("0049 30 901820", "+4930901820"),
])
def test_normalise_valid_numbers(raw, e164):
    assert normalise(raw) == e164


@pytest.mark.parametrize("raw", [
    None, "", "   ", "anonymous", "Anonymous", "unknown", "UNKNOWN", "restricted", "private", "+anonymous",
    "+266696687",  # how some networks spell a withheld number ("ANONYMOUS" on the keypad)
    "garbage", "0", "+", "++359", "client:alice", "sip:alice@example.org",
    "112", "+359112", "0888", "+3598881234567890",
])
def test_normalise_withheld_invalid_and_garbage_give_none(raw):
    assert normalise(raw) is None


def test_normalise_with_another_region():
    assert normalise("020 7946 0958", region="GB") == "+442079460958"
    assert normalise("020 7946 0958") is None  # not a Bulgarian number


@pytest.mark.parametrize("number, country", [
    ("+359888123456", "+359"), ("+35929876543", "+359"), ("+442079460958", "+44"), ("+12025550143", "+1"),
])
def test_mask_keeps_the_country_code_and_never_the_number(number, country):
    masked = mask(number, KEY)
    assert masked.startswith(country + "…#")
    subscriber = number.removeprefix(country)
    assert subscriber not in masked
    # No run of four digits of the subscriber number survives anywhere in the mask.
    assert not any(subscriber[i:i + 4] in masked for i in range(len(subscriber) - 3))


def test_mask_depends_on_the_secret_key():
    assert mask("+359888123456", KEY) != mask("+359888123456", "another-secret")


def test_mask_is_stable_and_tells_numbers_apart():
    assert mask("+359888123456", KEY) == mask("+359888123456", KEY)
    assert mask("+359888123456", KEY) != mask("+359888123457", KEY)
    assert re.fullmatch(r"\+359…#[0-9a-f]{8}", mask("+359888123456", KEY))


@pytest.mark.parametrize("number", [None, ""])
def test_mask_of_a_withheld_number(number):
    assert mask(number, KEY) == "withheld"


def test_mask_of_something_that_is_not_e164():
    masked = mask("0888123456", KEY)
    assert masked.startswith("?…#") and "888123456" not in masked and "0888" not in masked

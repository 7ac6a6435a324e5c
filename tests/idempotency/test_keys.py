"""The `Idempotency-Key` header: what is a key, and whose it is."""

from __future__ import annotations

import re

import pytest

from sinpluma_async.errors import APIError
from sinpluma_async.idempotency.keys import idempotency_key, key_slot
from sinpluma_async.openapi import IDEMPOTENCY_KEY_PARAMETER

VALID = [
    ("abc", "abc"),
    ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ("!", "!"),
    ("~" * 255, "~" * 255),
    ('"abc"', "abc"),
    ('"with space"', "with space"),
    (r'"a\"b\\c"', 'a"b\\c'),
    ('"' + "x" * 255 + '"', "x" * 255),
    ("a'b", "a'b"),
    ('a"b"', 'a"b"'),
]
INVALID = ["", "x" * 256, "a b", "\tabc\x01", '"abc', '""', '"' + "x" * 256 + '"', "é", '"a"b"', r'"a\b"']


@pytest.mark.parametrize(("header", "key"), VALID)
def test_valid_keys(header, key):
    assert idempotency_key([header]) == key


@pytest.mark.parametrize("header", INVALID)
def test_invalid_keys_are_400_naming_the_header(header):
    with pytest.raises(APIError) as refused:
        idempotency_key([header])
    assert refused.value.status == 400 and refused.value.code == "validation_error"
    assert refused.value.errors is not None and refused.value.errors[0]["loc"] == [
        "header",
        "Idempotency-Key",
    ]


def test_no_header_is_no_key():
    assert idempotency_key([]) is None


def test_two_headers_are_400():
    with pytest.raises(APIError):
        idempotency_key(["a", "b"])


@pytest.mark.parametrize("header", [header for header, _ in VALID] + INVALID)
def test_the_documented_pattern_agrees_with_the_parser(header):
    pattern = re.compile(IDEMPOTENCY_KEY_PARAMETER["schema"]["pattern"])  # type: ignore[index]
    try:
        idempotency_key([header])
        accepted = True
    except APIError:
        accepted = False
    assert (pattern.fullmatch(header) is not None) == accepted


def test_a_bare_and_a_quoted_key_are_the_same_key():
    assert key_slot("user:1", idempotency_key(["abc"]) or "") == key_slot(
        "user:1", idempotency_key(['"abc"']) or ""
    )


def test_callers_have_separate_slots():
    assert key_slot("user:1", "abc") != key_slot("user:2", "abc")
    assert key_slot("user:1", "abc") != key_slot("client:127.0.0.1", "abc")

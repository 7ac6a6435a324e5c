"""The `Idempotency-Key` header, and where a caller's key is kept.

The draft (draft-ietf-httpapi-idempotency-key-header) makes the header a structured-field string,
`"abc"`; API.md also accepts the bare form, `abc`. Either names the same key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from sinpluma_async.errors import APIError, invalid

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_CHARACTERS = 255
_BARE = re.compile(r"[\x21-\x7e]{1,255}")
# RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped by a backslash.
_QUOTED = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
_ESCAPE = re.compile(r'\\(["\\])')


def malformed_key() -> APIError:
    return invalid([HEADER], "must be 1-255 visible ASCII characters, or a quoted string", location="header")


def idempotency_key(values: Sequence[str]) -> str | None:
    """The key the request's `Idempotency-Key` header names, None without one; 400 when malformed."""
    if not values:
        return None
    if len(values) > 1:
        raise invalid([HEADER], "send one key, not several", location="header")
    value = values[0].strip()
    quoted = _QUOTED.fullmatch(value)
    if quoted is not None:
        key = _ESCAPE.sub(r"\1", quoted.group(1))
        if not 1 <= len(key) <= MAX_KEY_CHARACTERS:
            raise malformed_key()
        return key
    if value.startswith('"') or _BARE.fullmatch(value) is None:
        raise malformed_key()
    return value


def key_slot(caller: str, key: str) -> str:
    """Where a caller's key is kept: keys of different callers never meet.

    The key is hashed so that a slot's length and characters do not depend on what a client sends.
    """
    return f"{caller}:{hashlib.sha256(key.encode()).hexdigest()}"

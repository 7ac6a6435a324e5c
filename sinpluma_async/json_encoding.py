"""JSON the service writes: by orjson, with the bytes the standard library would write.

Answers, problem documents, socket messages, stored Slate documents and log lines are compact
UTF-8 JSON with keys in their order. orjson writes them several times faster than the standard
library; what it cannot encode (an integer beyond 64 bits, which a client's number may be, or a
key that is not a string) goes to the standard library, which writes the same text for everything
else (`compact_json`). A lone surrogate, which UTF-8 cannot hold, is written escaped, as the
standard library's default (`ensure_ascii`) writes it.

A route that returns a model, a dict or a list has its body written by the app's JSON provider,
`OrjsonResponses`. Quart's own (Flask's) encodes with the standard library: 37-46 us for a listing
of 20 notebooks against 7-9 us by orjson, and 8 against 4 us for a save's answer
(docs/benchmarks.md, "JSON answers by orjson"). Its bytes are those Quart's wrote with the app's
settings, a final newline included; an indented body (`compact` off, or debug mode) is still
Quart's. Dates go to the provider's `default` (HTTP dates); a dataclass is written as its fields,
as the default's `asdict` wrote it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

Default = Callable[[Any], Any]


def compact_json(value: Any, *, default: Default | None = None, dates_by_default: bool = False) -> bytes:
    """`value` as compact UTF-8 JSON; `default` turns what JSON has no type for into what it has.

    orjson writes a date in ISO 8601 itself unless `dates_by_default`; the standard library
    always hands dates to `default`."""
    # Keys other than strings (a log line's counts by id, say) go to the standard library, which
    # writes them as orjson's OPT_NON_STR_KEYS would: that option doubles orjson's time on a
    # document (7-9 against 13-18 us for 20 KB), and no save, message or answer needs it.
    option = orjson.OPT_PASSTHROUGH_DATETIME if dates_by_default else 0
    try:
        return orjson.dumps(value, default=default, option=option)
    except orjson.JSONEncodeError:
        text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode()
        except UnicodeEncodeError:  # a lone surrogate (from bytes decoded with surrogateescape, say)
            return json.dumps(value, default=default, separators=(",", ":")).encode()  # as \u escapes


class OrjsonResponses(DefaultJSONProvider):
    """Quart's provider, with keys unsorted and text unescaped, whose compact responses orjson writes."""

    sort_keys = False
    ensure_ascii = False

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        body = compact_json(_one_value(args, kwargs), default=self.default, dates_by_default=True) + b"\n"
        # Flask types `response_class` as werkzeug's body-less Response; Quart's takes the body first.
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]


def _one_value(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What `jsonify` serializes: one argument as it is, several as a list, keywords as a dict."""
    if args and kwargs:
        raise TypeError("jsonify takes positional or keyword arguments, not both")
    if len(args) == 1:
        return args[0]
    return list(args) if args else (kwargs or None)

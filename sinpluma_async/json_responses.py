"""JSON response bodies encoded by orjson, with the bytes Quart's own provider writes.

A route that returns a model, a dict or a list has its body written by the app's JSON provider.
Quart's (Flask's) encodes with the standard library: 37-46 us for a listing of 20 notebooks
against 7-9 us by orjson, and 8 against 4 us for a save's answer (docs/benchmarks.md, "JSON
answers by orjson"). The bytes stay those the standard library wrote with the app's settings:
keys in their order, UTF-8 as it is, compact, a final newline. What orjson cannot encode (an
integer beyond 64 bits) goes to the standard library, as does an indented body (`compact` off,
or debug mode). Dates still go to the provider's `default` (HTTP dates); a dataclass is written
as its fields, as the default's `asdict` wrote it.
"""

from __future__ import annotations

from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response

_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class OrjsonResponses(DefaultJSONProvider):
    """Quart's provider, with keys unsorted and text unescaped, whose compact responses orjson writes."""

    sort_keys = False
    ensure_ascii = False

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.compact is False or (self.compact is None and self._app.debug):
            return super().response(*args, **kwargs)
        value = _one_value(args, kwargs)
        try:
            body = orjson.dumps(value, default=self.default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().response(*args, **kwargs)
        # Flask types `response_class` as werkzeug's body-less Response; Quart's takes the body first.
        return self._app.response_class(body, mimetype=self.mimetype)  # type: ignore[arg-type]


def _one_value(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What `jsonify` serializes: one argument as it is, several as a list, keywords as a dict."""
    if args and kwargs:
        raise TypeError("jsonify takes positional or keyword arguments, not both")
    if len(args) == 1:
        return args[0]
    return list(args) if args else (kwargs or None)

"""The request class: JSON bodies are parsed strictly and fail as problem+json, never as a 500."""

from __future__ import annotations

import json
from typing import Any

from quart import Request

from sinpluma_async.errors import APIError


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class ApiRequest(Request):
    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The JSON body: 415 unless sent as JSON, 400 unless UTF-8 JSON, 413 when too large."""
        if not (force or self.is_json):
            if silent:
                return None
            raise APIError(415, "unsupported_media_type", "Send the body as application/json")
        raw = await self.get_data(cache=cache, as_text=False)
        assert isinstance(raw, bytes)
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            if silent:
                return None
            raise APIError(400, "validation_error", "The body is not valid UTF-8") from None
        except (ValueError, RecursionError):
            if silent:
                return None
            raise APIError(400, "validation_error", "The body is not valid JSON") from None

"""quart-schema's validation with pydantic's adapters built once per model, not once per request.

quart-schema builds a new pydantic `TypeAdapter` for the model each time it validates a request,
a query string or a response (`quart_schema.conversion.model_load`, and `model_dump` for lists
and dataclasses). Building one walks the model's schema: 5 % of a 20 KB save's samples in the
server, 1.5 % of a read's (docs/benchmarks.md, "The floor under the targets; adapters built
once, the log line by orjson"). An adapter depends only on its model, so the name `TypeAdapter`
in that module is given one that keeps them, one per model. tests/test_seams.py fails if
quart-schema stops looking the name up there.
"""

from __future__ import annotations

import functools
from typing import Any

import quart_schema.conversion
from pydantic import TypeAdapter

# The service has a few dozen models; the bound only keeps a mistake from growing without end.
_MODELS_KEPT = 512


@functools.lru_cache(maxsize=_MODELS_KEPT)
def _kept_adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def adapter_for(model: Any, *args: Any, **kwargs: Any) -> TypeAdapter[Any]:
    """The model's kept adapter; one with options, or for a model that cannot be a key, built anew."""
    if args or kwargs:
        return TypeAdapter(model, *args, **kwargs)
    try:
        return _kept_adapter(model)
    except TypeError:  # unhashable
        return TypeAdapter(model)


def build_schema_adapters_once() -> None:
    """From now on quart-schema validates with kept adapters."""
    quart_schema.conversion.TypeAdapter = adapter_for  # type: ignore[attr-defined,assignment]

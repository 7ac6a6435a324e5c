"""Slate documents: validation, storage form, the plain text that search indexes."""

from __future__ import annotations

import json
from typing import Any

from sinpluma_async.json_encoding import compact_json

MAX_CONTENT_BYTES = 1024 * 1024
MAX_DEPTH = 64
DEFAULT_CONTENT: list[Any] = [{"type": "paragraph", "children": [{"text": ""}]}]
DEFAULT_CONTENT_JSON = json.dumps(DEFAULT_CONTENT, separators=(",", ":"))
BLOCK_SEPARATOR = "\n"


class SlateError(ValueError):
    """The value is not a Slate document this service stores."""


def validate(document: Any) -> list[Any]:
    """Check the shape (nodes with `text` or `children`) and the depth, without recursion."""
    if not isinstance(document, list):
        raise SlateError("content must be an array of Slate nodes")
    pending: list[tuple[list[Any], int]] = [(document, 1)]
    while pending:
        nodes, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise SlateError(f"content is nested deeper than {MAX_DEPTH} levels")
        for node in nodes:
            if not isinstance(node, dict):
                raise SlateError("every Slate node must be an object")
            has_text, has_children = "text" in node, "children" in node
            if has_text == has_children:
                raise SlateError("a Slate node has either `text` or `children`, not both or neither")
            if has_text and not isinstance(node["text"], str):
                raise SlateError("`text` must be a string")
            if has_children:
                if not isinstance(node["children"], list):
                    raise SlateError("`children` must be an array of Slate nodes")
                pending.append((node["children"], depth + 1))
    return document


def serialize(document: list[Any]) -> str:
    """The stored form, compact UTF-8 JSON; 1 MiB at most."""
    serialized = compact_json(document)
    if len(serialized) > MAX_CONTENT_BYTES:
        raise SlateError(f"content is larger than {MAX_CONTENT_BYTES} bytes serialized")
    return serialized.decode()


def plain_text(document: list[Any]) -> str:
    """The words of a document, one line per block, for search and snippets."""
    lines: list[str] = []
    for block in document:
        texts: list[str] = []
        pending = [block]
        while pending:
            node = pending.pop()
            if "text" in node:
                texts.append(node["text"])
            else:
                pending.extend(reversed(node["children"]))
        line = "".join(texts).strip()
        if line:
            lines.append(line)
    return BLOCK_SEPARATOR.join(lines)

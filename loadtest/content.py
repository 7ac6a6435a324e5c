"""Slate documents as the editor produces them: headings, paragraphs with marks, quotes and lists,
5-20 KB serialized, and a draft that changes a little on every save, as typing does."""

from __future__ import annotations

import json
import random
from typing import Any

MIN_BYTES = 5 * 1024
MAX_BYTES = 20 * 1024
WORDS = [
    "la",
    "casa",
    "del",
    "río",
    "amanecía",
    "entre",
    "nieblas",
    "y",
    "nadie",
    "sabía",
    "todavía",
    "que",
    "aquella",
    "tarde",
    "el",
    "viejo",
    "cartógrafo",
    "volvería",
    "con",
    "un",
    "cuaderno",
    "lleno",
    "de",
    "mapas",
    "de",
    "ciudades",
    "que",
    "no",
    "existían",
    "pero",
    "que",
    "todos",
    "reconocían",
    "como",
    "propias",
    "porque",
    "en",
    "cada",
    "calle",
    "había",
    "una",
    "esquina",
    "donde",
    "alguien",
    "había",
    "esperado",
    "alguna",
    "vez",
    "una",
    "carta",
    "una",
    "voz",
    "un",
    "tren",
    "que",
    "nunca",
    "llegó",
    "memoria",
    "silencio",
    "ventana",
    "tinta",
    "página",
    "borrador",
    "capítulo",
    "personaje",
    "diálogo",
    "verano",
    "invierno",
    "puerto",
    "faro",
    "isla",
]


# What readers type into search: words a page is about. Short words and InnoDB's stopwords ("la",
# "que") are matched with LIKE over every body on MariaDB (docs/search.md), which no reader asks for.
SEARCH_TERMS = tuple(sorted({word for word in WORDS if len(word) >= 5}))


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 24))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", "?", "!", "…"))


def paragraph(rng: random.Random) -> dict[str, Any]:
    """A paragraph of a few sentences, some of its runs bold or italic."""
    children: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 6)):
        run: dict[str, Any] = {"text": sentence(rng) + " "}
        mark = rng.random()
        if mark < 0.1:
            run["bold"] = True
        elif mark < 0.2:
            run["italic"] = True
        children.append(run)
    return {"type": "paragraph", "children": children}


def block(rng: random.Random) -> dict[str, Any]:
    """A block of a novel's draft: mostly paragraphs, now and then a heading, quote or list."""
    kind = rng.random()
    if kind < 0.06:
        return {"type": "heading-two", "children": [{"text": sentence(rng).rstrip(".!?…")}]}
    if kind < 0.1:
        return {"type": "block-quote", "children": [{"text": sentence(rng), "italic": True}]}
    if kind < 0.13:
        items = [{"type": "list-item", "children": [{"text": sentence(rng)}]} for _ in range(3)]
        return {"type": "bulleted-list", "children": items}
    return paragraph(rng)


def size_of(document: list[dict[str, Any]]) -> int:
    return len(json.dumps(document, ensure_ascii=False).encode())


def document(rng: random.Random, target_bytes: int) -> list[dict[str, Any]]:
    """A document of about `target_bytes` serialized (never below MIN_BYTES)."""
    blocks = [{"type": "heading-one", "children": [{"text": sentence(rng).rstrip(".!?…")}]}]
    while size_of(blocks) < max(MIN_BYTES, target_bytes):
        blocks.append(block(rng))
    return blocks


class Draft:
    """One page being written: each `next()` is the document after a few more seconds of typing,
    different from every earlier one, always between MIN_BYTES and MAX_BYTES."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._blocks = document(self._rng, self._rng.randint(MIN_BYTES, MAX_BYTES - 2048))
        self._saves = 0

    def next(self) -> list[dict[str, Any]]:
        self._saves += 1
        last = self._blocks[-1]
        if last.get("type") != "paragraph" or self._rng.random() < 0.2:
            self._blocks.append({"type": "paragraph", "children": [{"text": ""}]})
            last = self._blocks[-1]
        last["children"][-1]["text"] += f"{sentence(self._rng)} ({self._saves}) "
        # The writer trims an earlier passage once the page grows past what one page holds.
        while size_of(self._blocks) > MAX_BYTES and len(self._blocks) > 2:
            del self._blocks[1]
        return self._blocks

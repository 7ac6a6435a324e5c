"""The JSON the service writes: orjson writes the bytes the standard library wrote, and hands it the rest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sinpluma_async.json_encoding import compact_json
from sinpluma_async.notebooks.schemas import NotebookRead
from tests.support import create_notebook


def standard_library_bytes(value: object) -> bytes:
    """What Quart's own provider wrote with the app's settings (keys unsorted, text unescaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


async def test_a_model_answer_is_compact_utf8_in_the_models_field_order(client, writer):
    title = "Acción y aventura ✍️📚 詩"
    response = await client.post(
        "/notebooks/", headers=writer.headers, json={"title": title, "genre_id": 3, "resume": "Sobre…"}
    )
    raw = await response.get_data()
    body = json.loads(raw)
    assert response.status_code == 201 and response.headers["Content-Type"] == "application/json"
    assert raw == standard_library_bytes(body)
    assert title.encode() in raw and b"\\u" not in raw
    assert list(body) == list(NotebookRead.model_fields)


async def test_a_listing_is_the_same_bytes_as_before(client, writer):
    for number in range(3):
        await create_notebook(client, writer, title=f"Cuaderno número {number}")
    response = await client.get("/notebooks/", headers=writer.headers)
    raw = await response.get_data()
    body = json.loads(raw)
    assert response.status_code == 200 and len(body["items"]) == 3
    assert raw == standard_library_bytes(body)


async def test_an_integer_beyond_64_bits_is_written_by_the_standard_library(app):
    async with app.app_context():
        response = app.json.response({"big": 2**70, "text": "ñ"})
    assert await response.get_data() == b'{"big":1180591620717411303424,"text":"\xc3\xb1"}\n'
    assert response.mimetype == "application/json"


@dataclass
class Signed:
    at: datetime
    by: str


async def test_dates_and_dataclasses_are_written_as_before(app):
    at = datetime(2026, 12, 3, 20, 15, tzinfo=UTC)
    async with app.app_context():
        response = app.json.response({"signed": Signed(at=at, by="ana"), "at": at})
    http_date = "Thu, 03 Dec 2026 20:15:00 GMT"
    expected = {"signed": {"at": http_date, "by": "ana"}, "at": http_date}
    assert await response.get_data() == standard_library_bytes(expected)


async def test_several_values_are_a_list_and_keywords_an_object(app):
    async with app.app_context():
        listed = app.json.response(1, "dos")
        named = app.json.response(uno=1, dos="dos")
        nothing = app.json.response()
    assert await listed.get_data() == b'[1,"dos"]\n'
    assert await named.get_data() == b'{"uno":1,"dos":"dos"}\n'
    assert await nothing.get_data() == b"null\n"


async def test_debug_mode_indents_as_quart_does(app):
    app.debug = True
    try:
        async with app.app_context():
            response = app.json.response({"a": [1]})
    finally:
        app.debug = False
    assert await response.get_data() == b'{\n  "a": [\n    1\n  ]\n}\n'


def test_a_lone_surrogate_is_written_as_its_escape():
    assert compact_json({"name": "caf\udce9"}) == b'{"name":"caf\\udce9"}'
    assert json.loads(compact_json(["caf\udce9", "año"])) == ["caf\udce9", "año"]
    assert compact_json({"word": "año"}) == '{"word":"año"}'.encode()

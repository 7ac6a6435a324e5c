"""The private parts and quirks of libraries that the code relies on, checked on what is installed.

Each test probes the library itself (never the project's code) and says what breaks without it.
They pin down why quart, quart-schema, sqlalchemy, aiomysql, pymysql, hypercorn, wsproto,
miniopy-async and redis are pinned with `==` in pyproject.toml: after `make lock` moves one, this file
tells whether the code still stands on it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiomysql
import h11
import hypercorn.protocol
import pymysql
import pytest
import quart_schema.conversion
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.events import RawData
from hypercorn.protocol import ws_stream
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.typing import ConnectionState
from miniopy_async.api import Minio
from miniopy_async.error import MinioException
from pydantic import BaseModel, TypeAdapter, ValidationError
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_NO_BACKSLASH_ESCAPES
from python_multipart.multipart import MultipartParser, MultipartState
from quart import Quart, Response, request
from quart.asgi import ASGIHTTPConnection
from quart.json.provider import DefaultJSONProvider
from quart.wrappers.request import Body, Request
from quart_schema import (
    OpenAPIProvider,
    QuartSchema,
    RequestSchemaValidationError,
    validate_querystring,
    validate_request,
)
from quart_schema.conversion import model_load
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
    QuerystringValidationError,
)
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.sentinel import SentinelConnectionPool, SentinelManagedConnection
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, event, exc, update
from sqlalchemy.dialects.mysql.aiomysql import AsyncAdapt_aiomysql_connection
from sqlalchemy.engine import AdaptedConnection, Dialect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import greenlet_spawn
from werkzeug.exceptions import HTTPException
from werkzeug.routing.rules import Rule
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

# --- Quart (with Werkzeug and Flask's JSON provider underneath) --------------------------------


async def test_quart_builds_connections_and_bodies_from_the_classes_the_app_names():
    """Without it, requests.py's body backpressure never runs: StreamingHTTPConnection and
    StreamingBody take effect only through `app.asgi_http_class` and `Request.body_class`."""
    seen: list[type[Body]] = []

    class RecordingBody(Body):
        pass

    class RecordingRequest(Request):
        body_class = RecordingBody

    class RecordingConnection(ASGIHTTPConnection):
        async def handle_messages(self, request: Request, receive: Any) -> None:
            seen.append(type(request.body))
            await super().handle_messages(request, receive)

    app = Quart(__name__)
    app.request_class = RecordingRequest
    app.asgi_http_class = RecordingConnection

    @app.post("/")
    async def echo() -> bytes:
        return await request.get_data(as_text=False)

    response = await app.test_client().post("/", data=b"chunk")
    assert await response.get_data() == b"chunk"
    assert seen == [RecordingBody]


async def test_quart_body_holds_unread_chunks_in_data_until_iterated():
    """Without it, StreamingBody cannot see its backlog (`len(self._data)`) nor free room when
    `__anext__` hands the backlog over, and a streamed upload piles up in memory again."""
    body = Body(None, None)
    body.append(b"ab")
    body.append(b"cd")
    assert bytes(body._data) == b"abcd"
    assert await anext(body) == b"abcd"
    assert len(body._data) == 0

    whole = Body(None, None)
    whole.append(b"ab")
    whole.set_complete()
    assert await whole == b"ab"


def test_quart_json_provider_honours_sort_keys_and_ensure_ascii():
    """Without it, json_encoding's `sort_keys = False` and `ensure_ascii = False` do nothing
    where the standard library writes a body (an integer beyond 64 bits, an indented body): its
    keys get re-sorted and every accent escaped."""
    app = Quart(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    assert app.json.dumps({"b": 1, "a": "ñ"}) == '{"b": 1, "a": "ñ"}'


def test_flask_json_provider_keeps_its_app_as_underscore_app():
    """Without it, json_encoding.OrjsonResponses cannot tell debug mode or make its response:
    Flask's JSONProvider documents `_app` as where it keeps the app, for its subclasses."""
    app = Quart(__name__)
    provider = DefaultJSONProvider(app)
    app.debug = True
    assert provider._app.debug is True and provider._app.response_class is app.response_class


async def test_quart_405_carries_the_valid_methods():
    """Without it, errors.py's handler of HTTPException cannot write the 405's Allow header."""
    seen: list[Any] = []
    app = Quart(__name__)

    @app.get("/")
    async def only_get() -> str:
        return ""

    @app.errorhandler(HTTPException)
    async def record(error: HTTPException) -> Response:
        seen.append(getattr(error, "valid_methods", None))
        return Response("", status=error.code or 500)

    response = await app.test_client().post("/")
    assert response.status_code == 405
    assert seen and {"GET"} <= set(seen[0])


def test_http_status_value_map_lists_the_known_statuses():
    """Without it, errors.py's problem_body cannot tell a known status (its phrase is the title)
    from an unknown one; HTTPStatus(599) would raise instead."""
    assert HTTPStatus._value2member_map_[404] is HTTPStatus.NOT_FOUND
    assert 599 not in HTTPStatus._value2member_map_


# --- quart-schema -------------------------------------------------------------------------------


class Thing(BaseModel):
    count: int


def _schema_app(provider: type[OpenAPIProvider]) -> Quart:
    app = Quart(__name__)
    QuartSchema(app, openapi_provider_class=provider)

    @app.post("/things")
    @validate_querystring(Thing)
    @validate_request(Thing)
    async def create_thing(query_args: Thing, data: Thing) -> str:
        return ""

    return app


def test_quart_schema_keeps_its_openapi_provider_under_QUART_SCHEMA():
    """Without it, operations/routes.py's /openapi.json cannot reach the provider through
    `current_app.extensions["QUART_SCHEMA"].openapi_provider`."""

    class Provider(OpenAPIProvider):
        pass

    app = _schema_app(Provider)
    assert isinstance(app.extensions["QUART_SCHEMA"].openapi_provider, Provider)


def test_openapi_provider_builds_each_path_through_build_paths_with_the_app_at_hand():
    """Without it, openapi.py's ProblemAwareProvider adds no problem+json responses: it overrides
    `build_paths(rule)`, reads the view from `self._app.view_functions`, and adds to the
    document's `components.schemas` in `schema()`."""
    views: list[Any] = []

    class Provider(OpenAPIProvider):
        def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
            paths, components = super().build_paths(rule)
            views.append(self._app.view_functions[rule.endpoint])
            for operations in paths.values():
                for operation in operations.values():
                    operation["responses"]["418"] = {"description": "probe"}
            return paths, components

    app = _schema_app(Provider)
    document = app.extensions["QUART_SCHEMA"].openapi_provider.schema()
    assert views == [app.view_functions["create_thing"]]
    assert document["paths"]["/things"]["post"]["responses"]["418"] == {"description": "probe"}
    assert isinstance(document["components"]["schemas"], dict)


def test_validation_decorators_mark_the_view_with_the_attributes_openapi_reads():
    """Without it, openapi.py cannot tell which routes validate a query string or a body, and
    their 400, 413 and 415 responses go undocumented."""
    app = _schema_app(OpenAPIProvider)
    view = app.view_functions["create_thing"]
    assert getattr(view, QUART_SCHEMA_QUERYSTRING_ATTRIBUTE, None) is not None
    assert getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None


async def test_query_string_errors_are_request_schema_errors_that_carry_pydantics_error():
    """Without it, errors.py answers a bad query string as a bad body, or without the
    `errors` list it builds from `error.validation_error`."""
    seen: list[RequestSchemaValidationError] = []

    class Provider(OpenAPIProvider):
        pass

    app = _schema_app(Provider)

    @app.errorhandler(RequestSchemaValidationError)
    async def record(error: RequestSchemaValidationError) -> Response:
        seen.append(error)
        return Response("", status=400)

    await app.test_client().post("/things?count=many", json={"count": 1})
    await app.test_client().post("/things?count=1", json={"count": "many"})
    query_error, body_error = seen
    assert isinstance(query_error, QuerystringValidationError)
    assert not isinstance(body_error, QuerystringValidationError)
    assert isinstance(query_error.validation_error, ValidationError)
    assert isinstance(body_error.validation_error, ValidationError)


def test_model_load_wraps_pydantics_error_in_the_given_exception():
    """Without it, readings/routes.py's DELETE with a JSON body answers a bad body with a 500."""
    assert model_load({"count": 2}, Thing, RequestSchemaValidationError) == Thing(count=2)
    with pytest.raises(RequestSchemaValidationError) as raised:
        model_load({"count": "many"}, Thing, RequestSchemaValidationError)
    assert isinstance(raised.value.validation_error, ValidationError)


async def test_quart_schema_builds_each_validations_adapter_through_its_modules_name(monkeypatch):
    """Without it, schema_adapters_once.py keeps nothing: every request's query string, body and
    response get a pydantic adapter built anew (about 5 % of a save's CPU)."""
    built: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def recording(model: Any, *args: Any, **kwargs: Any) -> TypeAdapter[Any]:
        built.append((model, args, kwargs))
        return TypeAdapter(model, *args, **kwargs)

    monkeypatch.setattr(quart_schema.conversion, "TypeAdapter", recording)
    response = await _schema_app(OpenAPIProvider).test_client().post("/things?count=1", json={"count": 2})
    assert response.status_code == 200
    assert [model for model, _, _ in built].count(Thing) == 2  # the query string's and the body's
    assert all(not args and not kwargs for _, args, kwargs in built)  # the model alone: a key


# --- Hypercorn and wsproto ----------------------------------------------------------------------

DEFLATE_OFFER = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"


class NoContextTakeover(PerMessageDeflate):
    def __init__(self, **options: Any) -> None:
        super().__init__(client_no_context_takeover=True, server_no_context_takeover=True, **options)


def test_hypercorn_builds_the_deflate_extension_from_its_module_global(monkeypatch):
    """Without it, realtime/compression.py's swap of `ws_stream.PerMessageDeflate` is ignored
    and every idle socket keeps about 100 KB of zlib state."""
    assert issubclass(ws_stream.PerMessageDeflate, PerMessageDeflate)
    monkeypatch.setattr(ws_stream, "PerMessageDeflate", NoContextTakeover)
    headers = [
        (b"connection", b"Upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-extensions", b"permessage-deflate"),
    ]
    _, response_headers, _ = ws_stream.Handshake(headers, "1.1").accept(None, [])
    accepted = dict(response_headers)[b"sec-websocket-extensions"].decode()
    assert "client_no_context_takeover" in accepted and "server_no_context_takeover" in accepted


def _server_and_client(server_extension: PerMessageDeflate) -> tuple[FrameProtocol, FrameProtocol]:
    server_extension.accept(DEFLATE_OFFER)
    client_extension = PerMessageDeflate()
    client_extension.finalize(DEFLATE_OFFER)
    return FrameProtocol(False, [server_extension]), FrameProtocol(True, [client_extension])


def _received(protocol: FrameProtocol, data: bytes) -> list[Any]:
    protocol.receive_bytes(data)
    return [frame.payload for frame in protocol.received_frames()]


def test_wsproto_drops_its_zlib_state_after_each_message_without_context_takeover():
    """Without it, negotiating no context takeover saves nothing: the compressor and the
    decompressor of each socket live as long as the socket."""
    extension = PerMessageDeflate(client_no_context_takeover=True, server_no_context_takeover=True)
    server, client = _server_and_client(extension)
    assert _received(client, server.send_data("palabra " * 200)) == ["palabra " * 200]
    assert extension._compressor is None
    assert _received(server, client.send_data("pluma " * 200)) == ["pluma " * 200]
    assert extension._decompressor is None

    keeping = PerMessageDeflate()  # the default, context takeover: the state stays
    keeping.accept("permessage-deflate")
    FrameProtocol(False, [keeping]).send_data("palabra " * 200)
    assert keeping._compressor is not None


def test_wsproto_sends_a_message_uncompressed_when_the_extension_leaves_rsv1_clear():
    """Without it, realtime/compression.py's small acks and events go out broken or compressed:
    it returns `(rsv, data)` unchanged from `frame_outbound` to send a message as it is."""

    class SmallAsTheyAre(NoContextTakeover):
        def frame_outbound(
            self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
        ) -> tuple[RsvBits, bytes]:
            if fin and len(data) < 64:
                return rsv, data
            return super().frame_outbound(proto, opcode, rsv, data, fin)

    expected = ["self", "proto", "opcode", "rsv", "data", "fin"]
    assert list(inspect.signature(PerMessageDeflate.frame_outbound).parameters) == expected
    server, client = _server_and_client(SmallAsTheyAre())
    small = server.send_data('{"type":"ack"}')
    assert small[0] == 0x80 | Opcode.TEXT  # FIN, no RSV1: not compressed
    assert _received(client, small) == ['{"type":"ack"}']
    large = server.send_data("palabra " * 200)
    assert large[0] & 0x40  # RSV1: compressed
    assert _received(client, large) == ["palabra " * 200]


class _RecordingTaskGroup:
    """Spawns nothing: records the scope an app would be started with."""

    scope: dict[str, Any]

    async def spawn_app(self, app: Any, config: Any, scope: dict[str, Any], send: Any) -> Any:
        self.scope = scope

        async def put(message: Any) -> None:
            pass

        return put

    def spawn(self, *arguments: Any) -> None:
        pass


class _NeverWaiting(h11.Connection):
    @property
    def they_are_waiting_for_100_continue(self) -> bool:
        return False


async def _serve_expect_continue_head(protocol_class: type[H11Protocol]) -> tuple[bytes, H11Protocol, Any]:
    sent: list[bytes] = []

    async def send(event: Any) -> None:
        if isinstance(event, RawData):
            sent.append(event.data)

    task_group = _RecordingTaskGroup()
    protocol = protocol_class(
        None,
        Config(),
        WorkerContext(None),
        task_group,
        ConnectionState({}),
        False,
        None,
        None,
        send,  # type: ignore[arg-type]
    )
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    await protocol.handle(RawData(head))
    return b"".join(sent), protocol, task_group


async def test_hypercorn_sends_100_continue_as_soon_as_h11_says_the_client_waits():
    """Without it, http11.py's connection cannot hold back the 100 Continue that Hypercorn
    sends right after a request's head, before the app has seen the request."""
    sent, _, _ = await _serve_expect_continue_head(H11Protocol)
    assert sent.startswith(b"HTTP/1.1 100 ")

    class HoldingBack(H11Protocol):
        def __init__(self, *arguments: Any) -> None:
            super().__init__(*arguments)
            self.connection = _NeverWaiting(h11.SERVER)

    sent, protocol, _ = await _serve_expect_continue_head(HoldingBack)
    assert sent == b""
    assert callable(protocol._send_h11_event)


async def test_hypercorn_spawns_the_app_with_the_streams_own_scope():
    """Without it, the extension that http11.py adds to `stream.scope` after the stream is
    created never reaches the app, and no request body is ever invited."""
    _, protocol, task_group = await _serve_expect_continue_head(H11Protocol)
    assert protocol.stream is not None and task_group.scope is protocol.stream.scope
    assert task_group.scope["extensions"] == {}


def test_hypercorn_builds_its_http11_protocol_from_the_module_global(monkeypatch):
    """Without it, http11.py's swap of `hypercorn.protocol.H11Protocol` is ignored and a
    body over its limit is invited with 100 Continue before it is refused."""

    class Swapped(H11Protocol):
        pass

    monkeypatch.setattr(hypercorn.protocol, "H11Protocol", Swapped)
    wrapper = hypercorn.protocol.ProtocolWrapper(
        None,
        Config(),
        WorkerContext(None),
        None,
        ConnectionState({}),
        False,
        None,
        None,
        None,  # type: ignore[arg-type]
    )
    assert type(wrapper.protocol) is Swapped


# --- SQLAlchemy, aiomysql and PyMySQL -----------------------------------------------------------


class AwareStamp(TypeDecorator[Any]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else f"bound {value}"


def _mysql_dialect() -> Dialect:
    # Creating the engine loads the dialect and its DBAPI; nothing connects.
    return create_async_engine("mysql+aiomysql://probe@127.0.0.1/probe").dialect


def test_mysql_statements_compile_to_positional_sql_with_their_bind_processors():
    """Without it, db.py's driver statements send their parameters in the wrong order or
    unconverted: it reads `positiontup`, `binds[name].type` and each type's bind processor."""
    dialect = _mysql_dialect()
    table = Table(
        "probe", MetaData(), Column("id", Integer), Column("name", String(9)), Column("at", AwareStamp)
    )
    statement = (
        update(table)
        .where(table.c.id == bindparam("the_id"))
        .values(name=bindparam("new_name"), at=bindparam("now", type_=table.c.at.type))
    )
    compiled = statement.compile(dialect=dialect)
    assert list(compiled.positiontup or ()) == ["new_name", "now", "the_id"]
    assert compiled.string.count("%s") == 3
    processors = {
        name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        for name in ("the_id", "now")
    }
    now = processors["now"]
    assert now is not None and now("noon") == "bound noon"


def test_the_aiomysql_dialect_names_pymysql_errors_and_wraps_them_as_sqlalchemys():
    """Without it, db.py's driver statements raise PyMySQL's errors where the app expects
    SQLAlchemy's (errors.py turns OperationalError into a 503) and keep dead connections."""
    dialect = _mysql_dialect()
    lost = pymysql.err.OperationalError(2013, "Lost connection to server during query")
    duplicate = pymysql.err.IntegrityError(1062, "Duplicate entry")
    assert isinstance(lost, dialect.loaded_dbapi.Error)
    assert dialect.is_disconnect(lost, None, None)
    assert not dialect.is_disconnect(duplicate, None, None)
    wrapped = exc.DBAPIError.instance(
        "UPDATE probe", None, lost, dialect.loaded_dbapi.Error, connection_invalidated=True, dialect=dialect
    )
    assert isinstance(wrapped, exc.OperationalError) and wrapped.connection_invalidated
    wrapped = exc.DBAPIError.instance("INSERT", None, duplicate, dialect.loaded_dbapi.Error, dialect=dialect)
    assert isinstance(wrapped, exc.IntegrityError)


def test_aiomysql_writes_every_request_through_write_bytes_on_its_stream_writer():
    """Without it, db/lost_connections.py's replacement of `_write_bytes` misses some writes, and a
    connection reset under uvloop is a 500 that leaves a dead connection in the pool. (The only
    other write is the farewell COM_QUIT of `ensure_closed`, whose failure SQLAlchemy ignores.)"""
    source = inspect.getsource(aiomysql.connection)
    assert "    def _write_bytes(self, data):\n        return self._writer.write(data)\n" in source
    assert source.count("self._writer.write(") == 2 and source.count("self._write_bytes(") >= 2
    dialect = _mysql_dialect()
    assert dialect.is_disconnect(pymysql.err.OperationalError(2006, "MySQL server has gone away"), None, None)


def test_aiomysql_lets_a_transport_closed_during_connect_through_as_a_runtime_error():
    """Without it, db/lost_connections.py's wrapper of `_connect` has nothing to turn into a
    failed connection (or aiomysql now does it itself, and the wrapper can go)."""
    source = inspect.getsource(aiomysql.connection)  # the module's: the method may be replaced
    assert "    async def _connect(self):\n" in source
    assert "                self._set_keep_alive()\n" in source
    assert "            if isinstance(e, (IOError, OSError, asyncio.TimeoutError)):\n" in source
    assert '            raise RuntimeError("Transport does not expose socket instance")\n' in source


async def test_async_connections_expose_the_drivers_connection():
    """Without it, db.py cannot reach aiomysql's connection: in the connect event (to swap its
    escaping) and from `get_raw_connection()` (for driver statements)."""
    assert issubclass(AsyncAdapt_aiomysql_connection, AdaptedConnection)
    engine = create_async_engine("sqlite+aiosqlite://")
    on_connect: list[Any] = []
    event.listen(engine.sync_engine, "connect", lambda dbapi, _: on_connect.append(dbapi.driver_connection))
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert on_connect == [raw.driver_connection]
            assert type(raw.driver_connection).__module__.startswith("aiosqlite")
    finally:
        await engine.dispose()


def test_pymysql_names_the_no_backslash_escapes_status_bit():
    """Without it, db.py's faster escaping cannot tell when the server takes backslashes as text."""
    assert SERVER_STATUS_NO_BACKSLASH_ESCAPES == 512


async def test_aiomysql_cursors_escape_every_string_through_the_connections_escape_string():
    """Without it, db.py's escape_string, set on each connection, is never used: cursors must
    escape str parameters through that instance attribute (execute on MariaDB: below)."""
    connection = aiomysql.Connection()
    connection.escape_string = lambda value: f"escaped {value}"
    cursor = aiomysql.Cursor(connection)
    assert cursor.mogrify("SELECT %s", ("text",)) == "SELECT 'escaped text'"


async def test_aiomysql_escape_string_follows_the_server_status():
    """Without it, db.py's escaping is wrong under NO_BACKSLASH_ESCAPES: it hands those strings
    to the driver's own escape_string, which must then double quotes and leave backslashes."""
    connection = aiomysql.Connection()
    connection.server_status = SERVER_STATUS_NO_BACKSLASH_ESCAPES
    assert connection.escape_string("a'b\\c") == "a''b\\c"
    connection.server_status = 0
    assert connection.escape_string("a'b\\c") == "a\\'b\\\\c"


@pytest.mark.services
async def test_mariadb_sessions_report_no_backslash_escapes_in_the_server_status(mariadb_url):
    """Without it, db.py's escaping misses a session that turns NO_BACKSLASH_ESCAPES on: it
    decides per string from `server_status`, which must follow the session's sql_mode."""
    engine = create_async_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert isinstance(driver, aiomysql.Connection)
            assert not driver.server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES
            await connection.exec_driver_sql("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
            assert driver.server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES
            await connection.invalidate()
    finally:
        await engine.dispose()


@pytest.mark.services
async def test_aiomysql_execute_sends_strings_escaped_by_the_connections_escape_string(mariadb_url):
    """Without it, db.py's faster escaping never reaches the server (see the test above)."""
    engine = create_async_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            driver.escape_string = lambda value: value.upper()
            cursor = await driver.cursor()
            await cursor.execute("SELECT %s", ("pluma",))
            assert await cursor.fetchone() == ("PLUMA",)
            await cursor.close()
            await connection.invalidate()
    finally:
        await engine.dispose()


@pytest.mark.services
async def test_aiomysql_execute_returns_rows_matched_on_sqlalchemys_connections(mariadb_url):
    """Without it, db.py's driver statements miscount: their row count is what `cursor.execute`
    returns, and a touch that changes nothing (same values) must still count its row, as
    SQLAlchemy's connections do with CLIENT.FOUND_ROWS."""
    engine = create_async_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            cursor = await driver.cursor()
            await cursor.execute("CREATE TEMPORARY TABLE seam_probe (id INT PRIMARY KEY, value INT)")
            await cursor.execute("INSERT INTO seam_probe VALUES (1, 7), (2, 7)")
            assert await cursor.execute("UPDATE seam_probe SET value = %s WHERE id = %s", (7, 1)) == 1
            assert await cursor.execute("UPDATE seam_probe SET value = %s", (8,)) == 2
            assert await cursor.execute("UPDATE seam_probe SET value = %s WHERE id = %s", (8, 3)) == 0
            await cursor.close()
            await connection.invalidate()
    finally:
        await engine.dispose()


# --- miniopy-async ------------------------------------------------------------------------------


class AsyncReader:
    def __init__(self, data: bytes) -> None:
        self._data = data

    async def read(self, size: int = -1) -> bytes:
        chunk, self._data = (self._data, b"") if size < 0 else (self._data[:size], self._data[size:])
        return chunk


@pytest.fixture
async def s3_bucket(s3_endpoint: str) -> AsyncIterator[tuple[Minio, str]]:
    async with aiohttp.ClientSession() as session:
        client = Minio(
            s3_endpoint, access_key="seam-key", secret_key="seam-secret", secure=False, session=session
        )
        bucket = f"seams-{uuid.uuid4().hex[:12]}"
        await client.make_bucket(bucket)
        yield client, bucket


@pytest.mark.services
async def test_minio_put_object_awaits_an_async_read_and_get_object_streams(s3_bucket):
    """Without it, storage/s3.py cannot stream uploads: it gives put_object a reader whose read()
    is a coroutine, with length -1, and reads objects back through aiohttp's response."""
    client, bucket = s3_bucket
    data = b"pluma" * 1000
    await client.put_object(
        bucket,
        "probe",
        AsyncReader(data),
        length=-1,
        content_type="image/png",
        part_size=5 * 1024 * 1024,
        num_parallel_uploads=1,
    )
    response = await client.get_object(bucket, "probe")
    try:
        assert b"".join([chunk async for chunk in response.content.iter_chunked(1024)]) == data
    finally:
        response.release()


@pytest.mark.services
async def test_minio_lists_and_aborts_unfinished_multipart_uploads(s3_bucket):
    """Without it, storage/s3.py cannot abort an upload cancelled midway (the client aborts only on
    an Exception), and the parts already sent stay in the bucket."""
    client, bucket = s3_bucket
    upload_id = await client._create_multipart_upload(bucket, "probe", {})
    listing = await client._list_multipart_uploads(bucket, prefix="probe")
    assert [(upload.object_name, upload.upload_id) for upload in listing.uploads] == [("probe", upload_id)]
    await client._abort_multipart_upload(bucket, "probe", upload_id)
    assert (await client._list_multipart_uploads(bucket, prefix="probe")).uploads == []


@pytest.mark.services
async def test_minio_reports_a_missing_object_with_the_code_no_such_key(s3_bucket):
    """Without it, storage/s3.py answers a missing image with a 503 instead of a 404."""
    client, bucket = s3_bucket
    with pytest.raises(MinioException) as raised:
        await client.get_object(bucket, "missing")
    assert getattr(raised.value, "code", None) == "NoSuchKey"


# --- python-multipart ---------------------------------------------------------------------------


def test_multipart_parser_state_ends_only_at_the_closing_boundary():
    """Without it, images/uploads.py takes a body cut before its closing boundary for a whole
    one (finalize() does not check), and stores a truncated image."""
    part = b'--b\r\nContent-Disposition: form-data; name="image"\r\n\r\nbytes'
    for body, complete in ((part, False), (part + b"\r\n--b--\r\n", True)):
        parser = MultipartParser(b"b", callbacks={}, max_size=1024)
        parser.write(body)
        assert (parser.state == MultipartState.END) is complete


# --- redis-py (Sentinel) ------------------------------------------------------------------------


class _FixedSentinels:
    """A sentinel manager that always names the same master."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        return "127.0.0.1", self.port


@pytest.mark.services
async def test_a_sentinel_pool_mixed_with_the_blocking_pool_makes_callers_wait(redis_url):
    """Without it, redis_client/connections.py's BlockingSentinelConnectionPool is redis-py's
    SentinelConnectionPool alone: a burst of callers beyond the pool's size fails at once
    (MaxConnectionsError) instead of waiting for a free connection."""

    class Mixed(SentinelConnectionPool, BlockingConnectionPool):
        pass

    assert not {"get_connection", "release"} & vars(SentinelConnectionPool).keys()
    manager = _FixedSentinels(urlsplit(redis_url).port or 6379)
    pool = Mixed("probe", manager, max_connections=1, timeout=5, connection_class=SentinelManagedConnection)
    first = await pool.get_connection()
    waiting = asyncio.ensure_future(pool.get_connection())
    await asyncio.sleep(0)
    assert not waiting.done()
    await pool.release(first)
    assert await asyncio.wait_for(waiting, 5) is first
    await pool.release(first)
    await pool.disconnect()


def test_a_sentinel_managed_connection_leaves_sending_to_its_base_class():
    """Without it, redis_client/connections.py's ResetSafeSentinelConnection, which puts
    ResetSafeConnection after SentinelManagedConnection, would not turn a reset under uvloop into a
    ConnectionError: the sentinel-managed class's own send would run instead."""
    assert "send_packed_command" not in vars(SentinelManagedConnection)


@pytest.mark.services
async def test_aiomysql_parses_each_column_description_through_its_modules_name(mariadb_url, monkeypatch):
    """Without it, db/column_descriptions_once.py keeps nothing: aiomysql must build each column's
    description by calling the name `FieldDescriptorPacket` of its module with the packet's bytes
    and the connection's encoding, and keep what it returns."""
    calls: list[tuple[type, type]] = []

    def recording(data: bytes, encoding: str) -> pymysql.protocol.FieldDescriptorPacket:
        calls.append((type(data), type(encoding)))
        return pymysql.protocol.FieldDescriptorPacket(data, encoding)

    engine = create_async_engine(mariadb_url)
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            cursor = await driver.cursor()
            monkeypatch.setattr(aiomysql.connection, "FieldDescriptorPacket", recording)
            await cursor.execute("SELECT 1 AS uno, 'dos' AS dos")
            assert await cursor.fetchone() == (1, "dos")
            assert [column[0] for column in cursor.description] == ["uno", "dos"]
            await cursor.close()
    finally:
        await engine.dispose()
    assert calls == [(bytes, str), (bytes, str)]


@pytest.mark.services
async def test_raw_pooled_connections_go_back_to_the_pool_through_greenlet_spawn(mariadb_url, caplog):
    """Without it, db/pooled_drivers.py's connections never go back: `AsyncEngine.raw_connection`
    gives the pool's connection with the driver's under it, and closing it returns it to the pool,
    which must run inside `greenlet_spawn` because an overflow connection is closed by awaiting
    the driver."""
    engine = create_async_engine(mariadb_url, pool_size=1, max_overflow=1)
    pool: Any = engine.sync_engine.pool
    try:
        kept, overflow = await engine.raw_connection(), await engine.raw_connection()
        assert isinstance(kept.driver_connection, aiomysql.Connection)
        assert pool.checkedout() == 2
        await greenlet_spawn(kept.close)
        await greenlet_spawn(overflow.close)
        assert pool.checkedout() == 0 and not overflow.is_valid
        again, overflow = await engine.raw_connection(), await engine.raw_connection()
        with caplog.at_level(logging.ERROR, logger="sqlalchemy.pool"):
            overflow.close()  # outside a greenlet: the driver's close cannot be awaited
        failures = [record.exc_info[1] for record in caplog.records if record.exc_info]
        assert any(isinstance(failure, exc.MissingGreenlet) for failure in failures)
        await greenlet_spawn(again.close)
    finally:
        await engine.dispose()

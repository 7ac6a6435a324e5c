"""A TCP proxy that the tests put between live servers and a dependency, and break on purpose.

It runs its own event loop in a thread, so that sync tests and the servers' own processes alike go
through it. Modes, switched while traffic flows:

- `pass`: bytes go through (after `latency` seconds each way, when set);
- `blackhole`: connections stay open and nothing goes through, either way, until the mode changes
  (a network that drops packets; TCP delivers what was held once it heals);
- `reset`: every open connection is reset (RST), and so is each new one as soon as it is accepted;
- `refuse`: nothing listens on the port (connection refused), and open connections are reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, Literal, Self

Mode = Literal["pass", "blackhole", "reset", "refuse"]
HOST = "127.0.0.1"
CHUNK = 65536
SWITCH_SECONDS = 5


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST rather than a FIN, as a peer that crashed or a firewall would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """Listens on `port` (a free loopback port) and forwards to `target_host:target_port`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self.latency = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._healed: asyncio.Event | None = None
        self._thread.start()
        self.port: int = self._call(self._listen(0))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def set(self, mode: Mode, *, latency: float = 0.0) -> None:
        """Switch the mode; returns once the proxy behaves so."""
        self._call(self._switch(mode, latency))

    @contextlib.contextmanager
    def fault(self, mode: Mode, *, latency: float = 0.0) -> Iterator[None]:
        """The mode for the block, then `pass` again."""
        self.set(mode, latency=latency)
        try:
            yield
        finally:
            self.set("pass")

    def close(self) -> None:
        if self._thread.is_alive():
            self._call(self._shut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(SWITCH_SECONDS)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(SWITCH_SECONDS)

    async def _listen(self, port: int) -> int:
        self._healed = self._healed or asyncio.Event()
        self._healed.set()
        self._server = await asyncio.start_server(self._accept, HOST, port, reuse_address=True)
        return int(self._server.sockets[0].getsockname()[1])

    async def _switch(self, mode: Mode, latency: float) -> None:
        assert self._healed is not None
        previous, self.mode, self.latency = self.mode, mode, latency
        if mode in ("reset", "refuse"):
            for writer in list(self._connections):
                reset(writer)
            self._connections.clear()
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
        if mode != "refuse" and previous == "refuse":
            await self._listen(self.port)
        if mode == "blackhole":
            self._healed.clear()
        else:
            self._healed.set()

    async def _shut(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._connections):
            reset(writer)

    async def _accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        if self.mode != "pass" and self.mode != "blackhole":
            reset(client)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            reset(client)
            return
        self._connections |= {client, upstream}
        try:
            await asyncio.gather(self._pump(client_reader, upstream), self._pump(upstream_reader, client))
        finally:
            for writer in (client, upstream):
                self._connections.discard(writer)
                writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._healed is not None
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                await self._healed.wait()
                if self.latency:
                    await asyncio.sleep(self.latency)
                if writer.transport.is_closing():
                    return
                writer.write(data)
                await writer.drain()
        # One side ended: end the other, so the pair closes together.
        if not writer.transport.is_closing():
            with contextlib.suppress(OSError):
                writer.write_eof()

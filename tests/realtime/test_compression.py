"""Which messages the server compresses once permessage-deflate is negotiated."""

from __future__ import annotations

import json
import zlib

from wsproto.frame_protocol import FrameProtocol, Opcode, RsvBits

from sinpluma_async.realtime.compression import SMALLEST_COMPRESSED_BYTES, ContextFreeDeflate

NO_RSV = RsvBits(False, False, False)


def outbound(data: bytes) -> tuple[RsvBits, bytes]:
    extension = ContextFreeDeflate()
    server = FrameProtocol(client=False, extensions=[extension])
    return extension.frame_outbound(server, Opcode.TEXT, NO_RSV, data, True)


def test_small_messages_go_out_uncompressed():
    ack = json.dumps({"type": "ack", "page_id": 1, "client_seq": 2, "version": 3}).encode()
    assert outbound(ack) == (NO_RSV, ack)


def test_large_messages_are_compressed_and_inflate_back():
    large = json.dumps({"type": "page.updated", "title": "palabra " * SMALLEST_COMPRESSED_BYTES}).encode()
    rsv, data = outbound(large)
    assert rsv.rsv1 and len(data) < len(large)
    assert zlib.decompressobj(-15).decompress(data + b"\x00\x00\xff\xff") == large

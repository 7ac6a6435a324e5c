"""permessage-deflate without context takeover, so an idle socket keeps no zlib state.

Hypercorn negotiates permessage-deflate with a plain `PerMessageDeflate()`: each socket then keeps
a compressor and a decompressor for its whole life, about 100 KB of an idle socket's 145 KB.
RFC 7692 lets the server ask for no context takeover in both directions, and wsproto then drops
both after every message. Hypercorn offers no setting for this, so the class it builds is swapped
here; tests/realtime/test_live_autosave.py fails if a Hypercorn release stops honouring the swap.

Without context takeover every compressed message starts a fresh 256 KB zlib state, about 55 us:
more than an ack's 100 bytes are worth. The RFC lets each message choose, so small ones go out
as they are.
"""

from __future__ import annotations

from typing import Any

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

SMALLEST_COMPRESSED_BYTES = 512


class ContextFreeDeflate(PerMessageDeflate):
    def __init__(self, **options: Any) -> None:
        options.setdefault("client_no_context_takeover", True)
        options.setdefault("server_no_context_takeover", True)
        super().__init__(**options)

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        whole_message = fin and opcode in (Opcode.TEXT, Opcode.BINARY)
        if whole_message and len(data) < SMALLEST_COMPRESSED_BYTES:
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def forget_compression_between_messages() -> None:
    """Make Hypercorn's websockets negotiate deflate without context takeover."""
    setattr(ws_stream, "PerMessageDeflate", ContextFreeDeflate)  # noqa: B010 - a module attribute, not ours

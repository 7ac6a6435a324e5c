"""The ASGI application Hypercorn serves: `hypercorn sinpluma_async.asgi:app`."""

import gc

from sinpluma_async import create_app
from sinpluma_async.config import Settings
from sinpluma_async.http11 import serve_http11_as_the_service_needs
from sinpluma_async.observability.logs import configure_logging
from sinpluma_async.realtime.compression import forget_compression_between_messages

forget_compression_between_messages()
serve_http11_as_the_service_needs()
settings = Settings.from_env()
configure_logging(settings)
app = create_app(settings)

# A full collection of a worker holding hundreds of sockets paused it for 0.2-0.3 s, several
# times a minute under autosave load (almost everything a save allocates is freed by reference
# counting anyway). What exists at start-up leaves the collector's view, and the young
# generation is collected after 10,000 net allocations instead of 700, which makes full
# collections rare. Measured in docs/benchmarks.md.
gc.freeze()
gc.set_threshold(10_000, 20, 20)

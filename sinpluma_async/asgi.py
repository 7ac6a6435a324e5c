"""The ASGI application Hypercorn serves: `hypercorn sinpluma_async.asgi:app`."""

from sinpluma_async import create_app
from sinpluma_async.realtime.compression import forget_compression_between_messages

forget_compression_between_messages()
app = create_app()

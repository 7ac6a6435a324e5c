"""The ASGI application Hypercorn serves: `hypercorn sinpluma_async.asgi:app`."""

from sinpluma_async import create_app

app = create_app()

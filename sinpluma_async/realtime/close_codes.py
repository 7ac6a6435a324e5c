"""Every code the server closes the autosave socket with (1009, a message too large, is Hypercorn's)."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    # API.md: a bad, expired or revoked token, or a session logged out.
    UNAUTHORIZED = 4401
    # API.md: no `auth` message within the deadline.
    AUTH_TIMEOUT = 4408
    # The token store cannot be reached: the token may be fine, so not 4401.
    TRY_AGAIN_LATER = 1013
    # The client reads so slowly that a thousand messages wait for it.
    TOO_SLOW = 1008
    # The user already holds SINPLUMA_MAX_SOCKETS_PER_USER sockets (HTTP's 429, as 4401 is 401).
    TOO_MANY_SOCKETS = 4429

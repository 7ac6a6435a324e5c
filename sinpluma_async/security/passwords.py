"""bcrypt hashing in a bounded thread pool, so that hashing never blocks the event loop."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

import bcrypt

from sinpluma_async.observability.metrics import PASSWORD_HASHES_QUEUED

MAX_PASSWORD_BYTES = 72


class PasswordHasher:
    """Hashes and checks passwords on worker threads (bcrypt releases the GIL)."""

    def __init__(self, *, rounds: int, workers: int) -> None:
        self._rounds = rounds
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        # Unknown users are checked against this hash so that a login takes as long for
        # an unknown username as for a wrong password.
        self._dummy_hash = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds))

    async def hash(self, password: str) -> str:
        encoded = password.encode()
        if len(encoded) > MAX_PASSWORD_BYTES:
            raise ValueError("password is longer than 72 bytes")
        with PASSWORD_HASHES_QUEUED.track_inprogress():
            digest = await asyncio.get_running_loop().run_in_executor(
                self._executor, bcrypt.hashpw, encoded, bcrypt.gensalt(self._rounds)
            )
        return digest.decode()

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True when the password matches; an unknown user (None) costs the same and fails."""
        encoded = password.encode()
        too_long = len(encoded) > MAX_PASSWORD_BYTES
        stored = self._dummy_hash if password_hash is None or too_long else password_hash.encode()
        with PASSWORD_HASHES_QUEUED.track_inprogress():
            matches = await asyncio.get_running_loop().run_in_executor(
                self._executor, bcrypt.checkpw, encoded[:MAX_PASSWORD_BYTES], stored
            )
        return matches and password_hash is not None and not too_long

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

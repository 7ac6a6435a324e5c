"""The process-wide resources the routes hand to services, opened and closed with the app."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from quart import Quart, current_app
from redis.asyncio import Redis
from redis.exceptions import RedisError

from sinpluma_async.config import Settings
from sinpluma_async.db.engines import Database
from sinpluma_async.errors import ServiceUnavailableError
from sinpluma_async.freshness.recent import MemoryRecentWrites, RecentWrites, RedisRecentWrites
from sinpluma_async.genres.catalog import GenreCatalog
from sinpluma_async.idempotency.stores import IdempotencyStore, MemoryIdempotencyStore, RedisIdempotencyStore
from sinpluma_async.observability.exposition import forget_dead_workers
from sinpluma_async.pages.announcements import SaveAnnouncer
from sinpluma_async.pages.reading import PAGE_READS
from sinpluma_async.pages.saves import AUTOSAVE_STATEMENTS
from sinpluma_async.ratelimits.limiter import RateLimits, open_rate_limits
from sinpluma_async.reader_copies.copies import ReaderCopies
from sinpluma_async.reader_copies.generations import MemoryGenerations, RedisGenerations
from sinpluma_async.realtime.events import EventBus, LocalEventBus, RedisEventBus
from sinpluma_async.realtime.hub import Hub
from sinpluma_async.realtime.protocol import encode, session_ended_event
from sinpluma_async.realtime.saves import SaveAnnouncements
from sinpluma_async.realtime.socket_quota import MemorySocketQuota, RedisSocketQuota, SocketQuota
from sinpluma_async.redis_client.connections import REDIS_TIMEOUT_SECONDS, close_redis, connect_redis
from sinpluma_async.redis_client.sentinel_url import is_sentinel_url
from sinpluma_async.security.passwords import PasswordHasher
from sinpluma_async.security.revocation import MemoryRevocationStore, RedisRevocationStore, RevocationStore
from sinpluma_async.security.tokens import TokenCodec
from sinpluma_async.storage.local import LocalObjectStore
from sinpluma_async.storage.objects import ObjectStore
from sinpluma_async.storage.s3 import S3ObjectStore

EXTENSION_KEY = "sinpluma"
LISTENER_STOP_SECONDS = 3.0
log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Runtime:
    settings: Settings
    database: Database
    redis: Redis | None
    revocations: RevocationStore
    # None when SINPLUMA_RATE_LIMITS is off.
    rate_limits: RateLimits | None
    tokens: TokenCodec
    passwords: PasswordHasher
    genres: GenreCatalog
    objects: ObjectStore
    events: EventBus
    announcer: SaveAnnouncer
    hub: Hub
    idempotency: IdempotencyStore
    sockets: SocketQuota
    recent_writes: RecentWrites
    reader_copies: ReaderCopies
    listener: asyncio.Task[None] | None = None

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        redis = connect_redis(settings.redis_url) if settings.redis_url else None
        database = Database(
            settings.database_url,
            settings.database_read_url,
            pool_size=settings.database_pool_size,
            prepared=(*AUTOSAVE_STATEMENTS, *PAGE_READS),
        )
        events, hub, revocations, recent_writes = open_events(
            settings, redis, replicated=database.has_replica
        )
        return cls(
            settings=settings,
            database=database,
            redis=redis,
            revocations=revocations,
            rate_limits=open_rate_limits(settings, redis, revocations),
            tokens=TokenCodec(
                secret=settings.jwt_secret,
                access_seconds=settings.access_token_seconds,
                refresh_seconds=settings.refresh_token_seconds,
            ),
            passwords=PasswordHasher(rounds=settings.bcrypt_rounds, workers=settings.bcrypt_workers),
            genres=GenreCatalog(),
            objects=open_object_store(settings),
            events=events,
            announcer=SaveAnnouncements(events),
            hub=hub,
            idempotency=RedisIdempotencyStore(redis, settings.redis_key_prefix)
            if redis
            else MemoryIdempotencyStore(),
            sockets=open_socket_quota(settings, redis),
            recent_writes=recent_writes,
            reader_copies=open_reader_copies(settings, redis, replicated=database.has_replica),
        )

    async def close(self) -> None:
        if self.listener is not None:
            await self.events.stop()
            try:
                await asyncio.wait_for(self.listener, LISTENER_STOP_SECONDS)
            except TimeoutError:
                log.warning("The event listener did not stop in time")
            except Exception:
                log.exception("The event listener failed while stopping")
        self.passwords.close()
        await self.sockets.close()
        await self.objects.close()
        if self.redis is not None:
            await close_redis(self.redis)
        await self.database.dispose()

    async def check_redis(self) -> None:
        """Raise ServiceUnavailableError unless the configured Redis answers a PING."""
        if self.redis is None:
            return
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 2):
                await self.redis.ping()
        except (RedisError, TimeoutError):
            raise ServiceUnavailableError("redis") from None


def open_events(
    settings: Settings, redis: Redis | None, *, replicated: bool
) -> tuple[EventBus, Hub, RevocationStore, RecentWrites]:
    """The event bus; the hub of this process's sockets, which listens to it; a revocation store
    that closes the sockets of the sessions it ends; and who wrote recently, which the store reads
    with each token's revocations.

    With Redis, the store publishes ended sessions on the bus's channel, in the pipeline that writes
    the revocations; without, it hands them to this process's hub. Without a read replica nobody is
    recorded as a recent writer: every read goes to the writer anyway.
    """
    seconds = settings.read_your_writes_seconds if replicated else 0
    if redis is None:
        memory = MemoryRecentWrites(seconds=seconds)
        local = LocalEventBus()
        hub = Hub(local)
        revocations = MemoryRevocationStore(
            on_sessions_ended=hub.end_sessions, wrote_recently=memory.wrote_recently
        )
        return local, hub, revocations, memory
    channel = f"{settings.redis_key_prefix}events"
    bus = RedisEventBus(redis, channel)
    recent_writes = RedisRecentWrites(redis, settings.redis_key_prefix, seconds=seconds)
    shared = RedisRevocationStore(
        redis,
        settings.redis_key_prefix,
        events_channel=channel,
        sessions_ended_message=lambda session_ids: encode(session_ended_event(session_ids)),
        recent_write_key=recent_writes.key_of,
        # Behind Sentinel a replica may be promoted: a revocation waits until one holds it.
        replicas=1 if is_sentinel_url(settings.redis_url or "") else 0,
    )
    return bus, Hub(bus), shared, recent_writes


def open_reader_copies(settings: Settings, redis: Redis | None, *, replicated: bool) -> ReaderCopies:
    """None are kept when pages are read from a replica: a copy read from a replica that lags the
    write which started its generation would outlive the replica's delay."""
    generations = RedisGenerations(redis, settings.redis_key_prefix) if redis else MemoryGenerations()
    return ReaderCopies(generations, max_bytes=0 if replicated else settings.reader_copies_mb * 2**20)


def open_socket_quota(settings: Settings, redis: Redis | None) -> SocketQuota:
    """Each user's sockets, counted across processes in Redis, or by this process without it."""
    if redis is None:
        return MemorySocketQuota(settings.max_sockets_per_user)
    return RedisSocketQuota(redis, settings.redis_key_prefix, settings.max_sockets_per_user)


def open_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_endpoint and settings.s3_access_key and settings.s3_secret_key:
        return S3ObjectStore(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            secure=settings.s3_secure,
            bucket=settings.s3_bucket,
        )
    return LocalObjectStore(settings.object_dir)


def current_runtime() -> Runtime:
    runtime: Runtime = current_app.extensions[EXTENSION_KEY]
    return runtime


def install_runtime(app: Quart, settings: Settings) -> None:
    """Open the runtime before serving and close it after."""

    @app.before_serving
    async def open_runtime() -> None:
        if settings.metrics_dir is not None:
            forget_dead_workers(settings.metrics_dir)
        runtime = Runtime.open(settings)
        await runtime.objects.start()
        app.extensions[EXTENSION_KEY] = runtime
        runtime.listener = asyncio.create_task(
            runtime.events.run(runtime.hub.deliver, lambda: runtime.hub.resync(runtime.revocations))
        )

    @app.after_serving
    async def close_runtime() -> None:
        runtime: Runtime | None = app.extensions.pop(EXTENSION_KEY, None)
        if runtime is not None:
            await runtime.close()

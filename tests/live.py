"""The live servers the tests start: their environment, and two processes of one service.

Starting, readiness and stopping live in bench/servers.py, which the benchmarks share.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bench.servers import LiveServer, free_port, still_running
from tests.support import PASSWORD, RELAXED_RATE_LIMITS, redis_key_prefix

__all__ = [
    "LiveServer",
    "free_port",
    "s3_environment",
    "server_pair",
    "service_environment",
    "still_running",
]


def s3_environment(endpoint: str, *, bucket: str) -> dict[str, str]:
    """The SINPLUMA_S3_* variables for the test S3 server."""
    return {
        "SINPLUMA_S3_ENDPOINT": endpoint,
        "SINPLUMA_S3_ACCESS_KEY": "test-access-key",
        "SINPLUMA_S3_SECRET_KEY": "test-secret-key",
        "SINPLUMA_S3_SECURE": "false",
        "SINPLUMA_S3_BUCKET": bucket,
    }


def settings_environment(settings: Any, **variables: str) -> dict[str, str]:
    """The environment of a live server on a test's own database, Redis and storage (`settings`)."""
    environment = {
        "SINPLUMA_DATABASE_URL": settings.database_url,
        "SINPLUMA_JWT_SECRET": settings.jwt_secret,
        "SINPLUMA_BCRYPT_ROUNDS": "4",
        "SINPLUMA_OBJECT_DIR": str(settings.object_dir),
        **variables,
    }
    if settings.redis_url:
        environment |= {
            "SINPLUMA_REDIS_URL": settings.redis_url,
            "SINPLUMA_REDIS_KEY_PREFIX": settings.redis_key_prefix,
        }
    if settings.s3_endpoint:
        environment |= s3_environment(settings.s3_endpoint, bucket=settings.s3_bucket)
    return environment


def service_environment(*, mariadb_url: str, redis_url: str, s3_endpoint: str) -> dict[str, str]:
    """The SINPLUMA_* variables of a server on the test MariaDB, Redis and S3, with its own Redis
    prefix and bucket; servers given the same environment share them, as processes of one service."""
    run = uuid.uuid4().hex
    return {
        "SINPLUMA_DATABASE_URL": mariadb_url,
        "SINPLUMA_REDIS_URL": redis_url,
        "SINPLUMA_REDIS_KEY_PREFIX": redis_key_prefix(),
        "SINPLUMA_JWT_SECRET": secrets.token_urlsafe(48),
        "SINPLUMA_BCRYPT_ROUNDS": "4",
        "SINPLUMA_RATE_LIMITS": RELAXED_RATE_LIMITS,
        **s3_environment(s3_endpoint, bucket=f"live-{run}"),
    }


@contextmanager
def server_pair(environment: Mapping[str, str]) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two processes of one service: same database, Redis, storage and secret."""
    with LiveServer(environment) as first, LiveServer(environment) as second:
        yield first, second


@dataclass
class LiveAuthor:
    """A user registered and logged in on a live server, with a notebook and a page of their own,
    made through the REST API."""

    username: str
    token: str
    notebook_id: int
    page_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @classmethod
    def on(cls, url: str, *, title: str = "Live") -> LiveAuthor:
        username = f"a{uuid.uuid4().hex[:12]}"
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        assert httpx.post(f"{url}/user/register", json=body).status_code == 201
        login = httpx.post(f"{url}/user/login", json={"username": username, "password": PASSWORD})
        token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        notebook = httpx.post(f"{url}/notebooks/", headers=headers, json={"title": title, "genre_id": 1})
        notebook_id = notebook.json()["notebook_id"]
        page = httpx.post(f"{url}/pages/", headers=headers, json={"notebook_id": notebook_id})
        return cls(username, token, notebook_id, page.json()["page_id"])

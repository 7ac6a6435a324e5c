"""A live server whose Redis is reached through three sentinels (tests/sentinel/cluster.py), on the
test MariaDB and S3. Each module gets a cluster of its own: a drill leaves it failed over."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveServer, service_environment
from tests.sentinel.cluster import SentinelCluster, sentinel_cluster


@pytest.fixture(scope="module")
def sentinel_redis() -> Iterator[SentinelCluster]:
    with sentinel_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def sentinel_server(
    sentinel_redis: SentinelCluster, mariadb_url: str, s3_endpoint: str
) -> Iterator[LiveServer]:
    environment = service_environment(
        mariadb_url=mariadb_url, redis_url=sentinel_redis.url, s3_endpoint=s3_endpoint
    )
    with LiveServer(environment) as server:
        yield server

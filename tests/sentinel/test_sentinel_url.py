"""SINPLUMA_REDIS_URL's Sentinel form is read, or refused with a clear message, at configuration
time; the single-server forms are taken as they are."""

from __future__ import annotations

import pytest

from sinpluma_async.config import ConfigError, Settings
from sinpluma_async.redis_client.sentinel_url import SentinelAddress, parse_sentinel_url


def test_the_api_example_names_three_sentinels_the_service_and_the_database():
    address = parse_sentinel_url("redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster/0")
    assert address == SentinelAddress(
        sentinels=(("s1", 26379), ("s2", 26379), ("s3", 26379)), service="mymaster", db=0
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis+sentinel://s1,s2:26380/cache", {"sentinels": (("s1", 26379), ("s2", 26380)), "db": 0}),
        ("redis+sentinel://:p%40ss@s1:1/m/3", {"password": "p@ss", "db": 3}),
        ("redis+sentinel://app:secret@s1:1/m/0", {"username": "app", "password": "secret"}),
        ("redis+sentinel://secret@s1:1/m", {"username": None, "password": "secret"}),
        ("REDIS+SENTINEL://[::1]:26379,10.0.0.2/m/1", {"sentinels": (("::1", 26379), ("10.0.0.2", 26379))}),
    ],
)
def test_sentinel_url_forms(url, expected):
    address = parse_sentinel_url(url)
    assert {name: getattr(address, name) for name in expected} == expected


def test_the_password_stays_out_of_the_address_repr():
    assert "secret" not in repr(parse_sentinel_url("redis+sentinel://:secret@s1/m"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://s1:26379,s2:26379", "names the service"),
        ("redis+sentinel://s1:26379/", "names the service"),
        ("redis+sentinel://s1:26379/mymaster/zero", "must be a number"),
        ("redis+sentinel://s1:26379,,s3/mymaster/0", "needs a host"),
        ("redis+sentinel:///mymaster/0", "needs a host"),
        ("redis+sentinel://s1:port/mymaster", "no valid port"),
        ("redis+sentinel://s1:70000/mymaster", "no valid port"),
        ("redis+sentinel://[::1/mymaster", "not a host"),
        ("redis+sentinel://s1/mymaster/0?timeout=1", "no query"),
    ],
)
def test_a_malformed_sentinel_url_is_refused_at_configuration_time(url, message):
    with pytest.raises(ConfigError, match=f"SINPLUMA_REDIS_URL: .*{message}"):
        Settings.from_env({"SINPLUMA_REDIS_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        "redis://redis:6379/0",
        "rediss://:pw@redis.example:6380/2",
        "unix:///run/redis.sock?db=1",
        "redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster/0",
    ],
)
def test_well_formed_urls_are_kept_as_given(url):
    assert Settings.from_env({"SINPLUMA_REDIS_URL": url}).redis_url == url

"""The client's address: the peer, or the rightmost untrusted hop when the peer is a trusted proxy."""

from __future__ import annotations

import pytest

from sinpluma_async.config import ConfigError, Settings
from sinpluma_async.security.clients import client_address

PROXIES = Settings.from_env({"SINPLUMA_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5, fd00::/8"}).trusted_proxies


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", [], "203.0.113.9"),
        # An untrusted peer's X-Forwarded-For is never believed.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        # What a client wrote itself stands left of the first untrusted hop.
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1, 10.9.9.9"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1, 192.168.1.5"], "198.51.100.1"),
        # Only trusted hops: the leftmost is the client as far as anyone knows.
        ("10.1.2.3", ["10.4.4.4, 10.5.5.5"], "10.4.4.4"),
        # A proxy with no header, or a hop that is no address, leaves the last address believed.
        ("10.1.2.3", [], "10.1.2.3"),
        ("10.1.2.3", ["unknown, 10.5.5.5"], "10.5.5.5"),
        ("10.1.2.3", ["198.51.100.1:4711"], "198.51.100.1"),
        ("fd00::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("::ffff:10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client():
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def test_trusted_proxies_must_be_addresses_or_networks():
    with pytest.raises(ConfigError, match="SINPLUMA_TRUSTED_PROXIES"):
        Settings.from_env({"SINPLUMA_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"})

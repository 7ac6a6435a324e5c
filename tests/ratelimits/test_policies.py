"""SINPLUMA_RATE_LIMITS: overrides of the table's defaults, `off`, and what is refused."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from sinpluma_async import create_app
from sinpluma_async.config import ConfigError, Settings
from sinpluma_async.ratelimits.policies import POLICIES, Rate, parse_rate_limits

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rate-limits.md"


def test_defaults_are_api_md_table():
    defaults = {name: (rate.amount, rate.seconds) for name, rate in _defaults().items()}
    assert defaults == {
        "login": (5, 600),
        "login-account": (100, 3600),
        "login-client": (60, 60),
        "register": (20, 3600),
        "refresh": (20, 60),
        "write": (300, 60),
        "upload": (60, 3600),
        "search": (120, 60),
        "read": (1200, 60),
        "ws-connect": (60, 60),
        "ws-save": (20, 1),
    }


def test_overrides_replace_only_the_policies_named():
    settings = Settings.from_env({"SINPLUMA_RATE_LIMITS": "login=10/10m, search=300/1m"})
    policies = settings.rate_limits.policies()
    assert policies["login"].rate == Rate(10, 600) and policies["search"].rate == Rate(300, 60)
    assert policies["read"].rate == Rate(1200, 60)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("read=7/30s", Rate(7, 30)),
        ("read=7/m", Rate(7, 60)),
        ("read=7/12h", Rate(7, 43200)),
        ("read=7/2d", Rate(7, 172800)),
    ],
)
def test_windows_take_seconds_minutes_hours_and_days(text, rate):
    assert parse_rate_limits(text).policies()["read"].rate == rate


@pytest.mark.parametrize("text", ["off", "OFF", " Off "])
def test_off_turns_limits_off(text):
    assert Settings.from_env({"SINPLUMA_RATE_LIMITS": text}).rate_limits.off


@pytest.mark.parametrize(
    "text",
    ["login=10", "login=0/1m", "login=5/0m", "logins=5/1m", "login=5/1m,login=6/1m", "login=5/1w", "on"],
)
def test_malformed_limits_are_refused_naming_the_variable(text):
    with pytest.raises(ConfigError, match="SINPLUMA_RATE_LIMITS"):
        Settings.from_env({"SINPLUMA_RATE_LIMITS": text})


def test_production_refuses_off():
    environ = {"SINPLUMA_ENV": "production", "SINPLUMA_JWT_SECRET": "s" * 40, "SINPLUMA_RATE_LIMITS": "off"}
    with pytest.raises(ConfigError, match="SINPLUMA_RATE_LIMITS"):
        Settings.from_env(environ)


def test_off_is_a_warning_in_the_log(caplog):
    with caplog.at_level(logging.WARNING):
        create_app(Settings(jwt_secret_generated=False, rate_limits=parse_rate_limits("off")))
    assert any("SINPLUMA_RATE_LIMITS is off" in record.getMessage() for record in caplog.records)


def test_docs_list_every_policy_with_its_default():
    table = DOCS.read_text().split("## Policies and their defaults", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z-]+)` \|.*\| ([^|]+) \|$", table, flags=re.MULTILINE))
    assert rows == {name: str(rate) for name, rate in _defaults().items()}


def _defaults():
    return {name: definition.default for name, definition in POLICIES.items()}

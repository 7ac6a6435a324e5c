"""Settings: every SINPLUMA_* environment variable is read here and nowhere else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, get_type_hints

from sinpluma_async.ratelimits.policies import RateLimitSettings, parse_rate_limits
from sinpluma_async.redis_client.sentinel_url import SentinelUrlError, is_sentinel_url, parse_sentinel_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sinpluma.db"
MIN_SECRET_BYTES = 32
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class ConfigError(ValueError):
    """The environment describes a configuration the service refuses to run with."""


def text(raw: str, name: str) -> str:
    """A variable taken as it is."""
    return raw


def directory(raw: str, name: str) -> Path:
    """A variable naming a directory."""
    return Path(raw)


def mode(raw: str, name: str) -> str:
    """`development` or `production`."""
    if raw not in ("development", "production"):
        raise ConfigError(f"{name} must be development or production, not {raw!r}")
    return raw


def log_format(raw: str, name: str) -> str:
    """`json` (one object per line) or `text`."""
    if raw not in ("json", "text"):
        raise ConfigError(f"{name} must be json or text, not {raw!r}")
    return raw


def flag(raw: str, name: str) -> bool:
    """A boolean: 1/true/yes/on or 0/false/no/off, in any case."""
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def positive_int(raw: str, name: str) -> int:
    """A whole number above zero."""
    value = _integer(raw, name)
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def whole_number(raw: str, name: str) -> int:
    """A whole number, zero or more."""
    value = _integer(raw, name)
    if value < 0:
        raise ConfigError(f"{name} must be zero or more")
    return value


def _integer(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None


def seconds(raw: str, name: str) -> float:
    """A duration in seconds, zero or more (`5`, `0.5`)."""
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{name} must be zero or more seconds")
    return value


def signing_secret(raw: str, name: str) -> str:
    """A secret long enough to sign tokens with."""
    if len(raw.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
    return raw


def origin_list(raw: str, name: str) -> tuple[str, ...]:
    """Comma-separated origins; blanks around and between them are dropped."""
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


def network_list(raw: str, name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDR networks (`10.0.0.0/8, 127.0.0.1`)."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name} must list addresses or networks, not {item!r}") from None
    return tuple(networks)


def rate_limit_table(raw: str, name: str) -> RateLimitSettings:
    """`off`, or comma-separated overrides of the rate-limit policies (`login=10/10m,search=300/1m`)."""
    try:
        return parse_rate_limits(raw)
    except ValueError as error:
        raise ConfigError(f"{name}: {error}") from None


def redis_address(raw: str, name: str) -> str:
    """A Redis URL: one server (`redis://`, `rediss://`, `unix://`, checked by redis-py when it
    connects), or its sentinels (`redis+sentinel://s1:26379,s2:26379/mymaster/0`), checked here."""
    if is_sentinel_url(raw):
        try:
            parse_sentinel_url(raw)
        except SentinelUrlError as error:
            raise ConfigError(f"{name}: {error}") from None
    return raw


def random_secret() -> str:
    """A signing secret for this process only, when none is configured."""
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Variable:
    """The environment variable a setting is read from, and how its text becomes the value."""

    name: str
    parse: Callable[[str, str], object] = text


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The service's configuration.

    A field annotated with a `Variable` is read from that variable by `from_env`, the one reader of
    the environment; the others are fixed here. Built directly (as tests do), it reads nothing.
    """

    env: Annotated[str, Variable("SINPLUMA_ENV", mode)] = "development"
    database_url: Annotated[str, Variable("SINPLUMA_DATABASE_URL")] = DEFAULT_DATABASE_URL
    database_read_url: Annotated[str | None, Variable("SINPLUMA_DATABASE_READ_URL")] = None
    database_pool_size: Annotated[int, Variable("SINPLUMA_DATABASE_POOL_SIZE", positive_int)] = 10
    read_your_writes_seconds: Annotated[float, Variable("SINPLUMA_READ_YOUR_WRITES_SECONDS", seconds)] = 5
    reader_copies_mb: Annotated[int, Variable("SINPLUMA_READER_COPIES_MB", whole_number)] = 32
    redis_url: Annotated[str | None, Variable("SINPLUMA_REDIS_URL", redis_address)] = None
    redis_key_prefix: Annotated[str, Variable("SINPLUMA_REDIS_KEY_PREFIX")] = "sinpluma:"
    s3_endpoint: Annotated[str | None, Variable("SINPLUMA_S3_ENDPOINT")] = None
    s3_access_key: Annotated[str | None, Variable("SINPLUMA_S3_ACCESS_KEY")] = None
    s3_secret_key: Annotated[str | None, Variable("SINPLUMA_S3_SECRET_KEY")] = field(default=None, repr=False)
    s3_secure: Annotated[bool, Variable("SINPLUMA_S3_SECURE", flag)] = False
    s3_bucket: Annotated[str, Variable("SINPLUMA_S3_BUCKET")] = "sinpluma"
    object_dir: Annotated[Path, Variable("SINPLUMA_OBJECT_DIR", directory)] = Path("var/objects")
    jwt_secret: Annotated[str, Variable("SINPLUMA_JWT_SECRET", signing_secret)] = field(
        default_factory=random_secret, repr=False
    )
    jwt_secret_generated: bool = True
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    bcrypt_rounds: Annotated[int, Variable("SINPLUMA_BCRYPT_ROUNDS", positive_int)] = 12
    bcrypt_workers: Annotated[int, Variable("SINPLUMA_BCRYPT_WORKERS", positive_int)] = 2
    max_image_bytes: Annotated[int, Variable("SINPLUMA_MAX_IMAGE_BYTES", positive_int)] = 5 * 1024 * 1024
    max_json_bytes: int = 4 * 1024 * 1024
    discard_body_bytes: Annotated[int, Variable("SINPLUMA_DISCARD_BODY_BYTES", positive_int)] = 16 * 2**20
    cors_origins: Annotated[tuple[str, ...], Variable("SINPLUMA_CORS_ORIGINS", origin_list)] = ("*",)
    trusted_proxies: Annotated[
        tuple[IPv4Network | IPv6Network, ...], Variable("SINPLUMA_TRUSTED_PROXIES", network_list)
    ] = ()
    rate_limits: Annotated[RateLimitSettings, Variable("SINPLUMA_RATE_LIMITS", rate_limit_table)] = field(
        default_factory=RateLimitSettings
    )
    websocket_auth_seconds: float = 10
    idempotency_key_seconds: float = 24 * 3600
    # How long a request's in-flight marker outlives its last renewal (every third of this).
    idempotency_marker_seconds: float = 60
    max_sockets_per_user: Annotated[int, Variable("SINPLUMA_MAX_SOCKETS_PER_USER", positive_int)] = 20
    log_format: Annotated[str, Variable("SINPLUMA_LOG_FORMAT", log_format)] = "text"
    metrics_token: Annotated[str | None, Variable("SINPLUMA_METRICS_TOKEN")] = field(default=None, repr=False)
    # From prometheus-client's own PROMETHEUS_MULTIPROC_DIR: when set, every worker keeps its
    # series in files there and /metrics sums them. prometheus-client reads it at import, so it is
    # set before the server starts (`sinpluma serve`, the image, the test servers).
    metrics_dir: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from SINPLUMA_* variables, refusing unsafe production setups."""
        environ = os.environ if environ is None else environ
        values = read_variables(environ)
        if environ.get(METRICS_DIR_VARIABLE):
            values["metrics_dir"] = Path(environ[METRICS_DIR_VARIABLE])
        production = values.get("env") == "production"
        # A production deployment names the sites that may call it; "*" is a development convenience.
        if production and "cors_origins" not in values:
            values["cors_origins"] = ()
        if production and "log_format" not in values:
            values["log_format"] = "json"
        if "jwt_secret" in values:
            values["jwt_secret_generated"] = False
        settings = cls(**values)
        refuse_unsafe(settings)
        return settings


def declared_variables() -> dict[str, Variable]:
    """Each setting read from the environment, by field name, with the variable it is read from."""
    declared: dict[str, Variable] = {}
    for name, hint in get_type_hints(Settings, include_extras=True).items():
        for extra in getattr(hint, "__metadata__", ()):
            if isinstance(extra, Variable):
                declared[name] = extra
    return declared


def read_variables(environ: Mapping[str, str]) -> dict[str, Any]:
    """The parsed value of every declared variable that is set; an empty variable counts as unset."""
    values: dict[str, Any] = {}
    for name, variable in declared_variables().items():
        raw = environ.get(variable.name)
        if raw:
            values[name] = variable.parse(raw, variable.name)
    return values


def refuse_unsafe(settings: Settings) -> None:
    """The rules that span several settings."""
    production = settings.env == "production"
    if production and settings.jwt_secret_generated:
        raise ConfigError("SINPLUMA_JWT_SECRET is required in production")
    if settings.s3_endpoint and not (settings.s3_access_key and settings.s3_secret_key):
        raise ConfigError("SINPLUMA_S3_ENDPOINT needs SINPLUMA_S3_ACCESS_KEY and SINPLUMA_S3_SECRET_KEY")
    if production and settings.rate_limits.off:
        raise ConfigError("SINPLUMA_RATE_LIMITS=off is for load tests, never for production")
    if production and settings.bcrypt_rounds < 12:
        raise ConfigError("SINPLUMA_BCRYPT_ROUNDS below 12 is for development only")
    if not 4 <= settings.bcrypt_rounds <= 16:
        raise ConfigError("SINPLUMA_BCRYPT_ROUNDS must be between 4 and 16")

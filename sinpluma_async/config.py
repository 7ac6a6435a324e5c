"""Settings: every SINPLUMA_* environment variable is read here and nowhere else."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/sinpluma.db"
MIN_SECRET_BYTES = 32


class ConfigError(ValueError):
    """The environment describes a configuration the service refuses to run with."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    database_read_url: str | None = None
    database_pool_size: int = 10
    redis_url: str | None = None
    redis_key_prefix: str = "sinpluma:"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = False
    s3_bucket: str = "sinpluma"
    object_dir: Path = Path("var/objects")
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48), repr=False)
    jwt_secret_generated: bool = True
    access_token_seconds: int = 15 * 60
    refresh_token_seconds: int = 30 * 24 * 3600
    bcrypt_rounds: int = 12
    bcrypt_workers: int = 2
    max_image_bytes: int = 5 * 1024 * 1024
    max_json_bytes: int = 4 * 1024 * 1024
    cors_origins: tuple[str, ...] = ("*",)
    websocket_auth_seconds: float = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from SINPLUMA_* variables, refusing unsafe production setups."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"SINPLUMA_{name}")
            return value if value not in (None, "") else None

        mode = get("ENV") or "development"
        if mode not in ("development", "production"):
            raise ConfigError(f"SINPLUMA_ENV must be development or production, not {mode!r}")
        production = mode == "production"

        secret = get("JWT_SECRET")
        if secret is None and production:
            raise ConfigError("SINPLUMA_JWT_SECRET is required in production")
        if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"SINPLUMA_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")

        s3_endpoint = get("S3_ENDPOINT")
        s3_access_key = get("S3_ACCESS_KEY")
        s3_secret_key = get("S3_SECRET_KEY")
        if s3_endpoint and not (s3_access_key and s3_secret_key):
            raise ConfigError("SINPLUMA_S3_ENDPOINT needs SINPLUMA_S3_ACCESS_KEY and SINPLUMA_S3_SECRET_KEY")

        cors = get("CORS_ORIGINS")
        if cors is None:
            cors_origins: tuple[str, ...] = () if production else ("*",)
        else:
            cors_origins = tuple(origin.strip() for origin in cors.split(",") if origin.strip())

        overrides: dict[str, object] = {
            "env": mode,
            "database_url": get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            "database_read_url": get("DATABASE_READ_URL"),
            "redis_url": get("REDIS_URL"),
            "s3_endpoint": s3_endpoint,
            "s3_access_key": s3_access_key,
            "s3_secret_key": s3_secret_key,
            "s3_secure": _flag(get("S3_SECURE"), "S3_SECURE"),
            "cors_origins": cors_origins,
        }
        if secret is not None:
            overrides["jwt_secret"] = secret
            overrides["jwt_secret_generated"] = False
        integers = {
            "DATABASE_POOL_SIZE": "database_pool_size",
            "BCRYPT_ROUNDS": "bcrypt_rounds",
            "BCRYPT_WORKERS": "bcrypt_workers",
            "MAX_IMAGE_BYTES": "max_image_bytes",
        }
        for name, attribute in integers.items():
            raw = get(name)
            if raw is not None:
                overrides[attribute] = _positive_int(raw, name)
        for name, attribute in (
            ("REDIS_KEY_PREFIX", "redis_key_prefix"),
            ("OBJECT_DIR", "object_dir"),
            ("S3_BUCKET", "s3_bucket"),
        ):
            raw = get(name)
            if raw is not None:
                overrides[attribute] = Path(raw) if attribute == "object_dir" else raw
        settings = cls(**overrides)  # type: ignore[arg-type]
        if production and settings.bcrypt_rounds < 12:
            raise ConfigError("SINPLUMA_BCRYPT_ROUNDS below 12 is for development only")
        if not 4 <= settings.bcrypt_rounds <= 16:
            raise ConfigError("SINPLUMA_BCRYPT_ROUNDS must be between 4 and 16")
        return settings


def _flag(raw: str | None, name: str) -> bool:
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"SINPLUMA_{name} must be true or false, not {raw!r}")


def _positive_int(raw: str, name: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"SINPLUMA_{name} must be an integer, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"SINPLUMA_{name} must be positive")
    return value

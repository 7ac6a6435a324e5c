from __future__ import annotations

import pytest

from sinpluma_async.config import DEFAULT_DATABASE_URL, ConfigError, Settings

SECRET = "s" * 40


def test_no_configuration_means_embedded_defaults():
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.redis_url is None and settings.s3_endpoint is None
    assert settings.jwt_secret_generated and len(settings.jwt_secret) >= 32
    assert settings.cors_origins == ("*",)


def test_variables_configure_real_backends():
    settings = Settings.from_env(
        {
            "SINPLUMA_DATABASE_URL": "mysql+aiomysql://app:pw@db/sinpluma",
            "SINPLUMA_DATABASE_READ_URL": "mysql+aiomysql://app:pw@replica/sinpluma",
            "SINPLUMA_REDIS_URL": "redis://redis:6379/0",
            "SINPLUMA_JWT_SECRET": SECRET,
            "SINPLUMA_MAX_IMAGE_BYTES": "1024",
            "SINPLUMA_CORS_ORIGINS": "https://sinpluma.io, https://www.sinpluma.io",
        }
    )
    assert settings.database_read_url == "mysql+aiomysql://app:pw@replica/sinpluma"
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.jwt_secret == SECRET and not settings.jwt_secret_generated
    assert settings.max_image_bytes == 1024
    assert settings.cors_origins == ("https://sinpluma.io", "https://www.sinpluma.io")


@pytest.mark.parametrize(
    "environ",
    [
        {"SINPLUMA_ENV": "production"},
        {"SINPLUMA_ENV": "production", "SINPLUMA_JWT_SECRET": "short"},
        {"SINPLUMA_ENV": "production", "SINPLUMA_JWT_SECRET": SECRET, "SINPLUMA_BCRYPT_ROUNDS": "4"},
        {"SINPLUMA_ENV": "staging"},
        {"SINPLUMA_S3_ENDPOINT": "minio:9000"},
        {"SINPLUMA_MAX_IMAGE_BYTES": "lots"},
        {"SINPLUMA_S3_SECURE": "maybe"},
    ],
)
def test_unsafe_or_malformed_configuration_is_refused(environ):
    with pytest.raises(ConfigError):
        Settings.from_env(environ)


def test_production_has_no_cors_unless_configured():
    settings = Settings.from_env({"SINPLUMA_ENV": "production", "SINPLUMA_JWT_SECRET": SECRET})
    assert settings.cors_origins == ()

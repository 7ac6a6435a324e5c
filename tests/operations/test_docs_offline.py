"""/docs works without internet: Swagger UI served by the service, under a strict CSP, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sinpluma_async.config import Settings
from tests.browser import chromium_page
from tests.live import LiveServer, settings_environment

# Swagger UI renders the operations of /openapi.json after the page's load.
OPERATIONS_LISTED = "document.querySelectorAll('.opblock-summary-path').length > 0"
RENDERED = """({
  paths: [...document.querySelectorAll('.opblock-summary-path')].map(node => node.textContent),
  loaded: performance.getEntriesByType('resource').map(entry => entry.name),
})"""


@pytest.fixture
def live(settings: Settings, app) -> Iterator[LiveServer]:
    with LiveServer(settings_environment(settings)) as server:
        yield server


async def test_docs_page_is_strict_and_loads_only_the_services_own_files(client):
    response = await client.get("/docs")
    page = await response.get_data(as_text=True)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "start.js"):
        served = await client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200, asset
        assert len(await served.get_data()) > 0
    for name in ("index.html", "..%2F__init__.py", "swagger-editor-bundle.js"):
        assert (await client.get(f"/docs/assets/{name}")).status_code == 404, name


def test_docs_list_the_operations_in_chromium_with_nothing_loaded_from_elsewhere(live):
    with chromium_page(f"{live.url}/docs") as page:
        rendered = page.evaluate_when(OPERATIONS_LISTED, RENDERED)
    assert {"/user/login", "/notebooks/{notebook_id}", "/pages/{page_id}"} <= set(rendered["paths"])
    assert rendered["loaded"], "the page loaded no script, style or document"
    assert f"{live.url}/openapi.json" in rendered["loaded"]
    assert all(url.startswith(f"{live.url}/") for url in rendered["loaded"]), rendered["loaded"]

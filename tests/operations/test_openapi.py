from __future__ import annotations

import re

from quart_schema.openapi import QUART_SCHEMA_HIDDEN_ATTRIBUTE

from sinpluma_async.openapi import ACCESS_ATTRIBUTE


async def openapi_document(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return await response.get_json()


def documented_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, QUART_SCHEMA_HIDDEN_ATTRIBUTE, False) and not rule.websocket:
            yield rule, view


async def test_every_route_is_documented_with_its_methods(app, client):
    document = await openapi_document(client)
    for rule, _ in documented_rules(app):
        path = re.sub(r"<(?:[^:<>]*:)?([^<>]+)>", r"{\1}", rule.rule)
        methods = {method.lower() for method in rule.methods if method not in ("HEAD", "OPTIONS")}
        assert methods <= set(document["paths"][path]), rule.rule


async def test_every_operation_documents_problem_responses(app, client):
    document = await openapi_document(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("default", "500"):
                assert "application/problem+json" in responses[status]["content"], (method, path)
            assert operation.get("summary"), (method, path)


async def test_authenticated_operations_declare_bearer_and_401(app, client):
    document = await openapi_document(client)
    for rule, view in documented_rules(app):
        if getattr(view, ACCESS_ATTRIBUTE) == "public":
            continue
        path = re.sub(r"<(?:[^:<>]*:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            expected = [{"bearerAuth": []}]
            if getattr(view, ACCESS_ATTRIBUTE) == "optional":
                expected.append({})
            assert operation["security"] == expected, (method, path)
            assert "401" in operation["responses"], (method, path)


async def test_docs_page_points_at_the_document(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "/docs/assets/start.js" in await response.get_data(as_text=True)
    assert "/openapi.json" in await (await client.get("/docs/assets/start.js")).get_data(as_text=True)


async def test_document_describes_the_autosave_websocket(client):
    document = await openapi_document(client)
    assert "/ws/autosave" in document["info"]["description"]

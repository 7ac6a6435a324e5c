"""/openapi.json documents the Idempotency-Key header, its 409 and 422, on every keyed operation."""

from __future__ import annotations

KEYED_OPERATIONS = {
    ("post", "/user/register"),
    ("post", "/notebooks/"),
    ("post", "/pages/"),
    ("post", "/pages/{page_id}/publish"),
    ("post", "/readings/"),
    ("post", "/user/{username}/image/"),
    ("post", "/notebooks/{notebook_id}/image/"),
}


async def test_exactly_the_keyed_operations_take_the_header_with_409_and_422(client):
    document = await (await client.get("/openapi.json")).get_json()
    keyed = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
            if not parameters:
                continue
            keyed.add((method, path))
            [parameter] = parameters
            assert parameter["in"] == "header" and parameter["required"] is False
            for status in ("400", "409", "422"):
                assert "application/problem+json" in operation["responses"][status]["content"], (method, path)
            successes = [response for status, response in operation["responses"].items() if status[0] == "2"]
            assert successes and all("Idempotent-Replayed" in response["headers"] for response in successes)
    assert keyed == KEYED_OPERATIONS

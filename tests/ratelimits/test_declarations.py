"""Every route and the websocket declare a rate-limit policy, or an exemption, and /openapi.json says so."""

from __future__ import annotations

from sinpluma_async.openapi import RATE_LIMIT_ATTRIBUTE, RATE_LIMIT_EXEMPT_ATTRIBUTE

EXEMPT = {"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/assets/<name>", "/metrics"}
LOGIN = ("login-client", "login", "login-account")


def expected_policies(rule) -> tuple[str, ...]:
    """API.md's table, read as a rule about paths and methods."""
    methods = rule.methods - {"HEAD", "OPTIONS"} if rule.methods else set()
    if rule.websocket:
        return ("ws-connect",)
    special = {
        ("POST", "/user/login"): LOGIN,
        ("POST", "/user/register"): ("register",),
        ("POST", "/user/token/refresh"): ("refresh",),
        ("GET", "/search"): ("search",),
    }
    (method,) = methods
    if (method, rule.rule) in special:
        return special[(method, rule.rule)]
    if method == "POST" and rule.rule.endswith("/image/"):
        return ("upload",)
    return ("read",) if method == "GET" else ("write",)


def test_every_route_and_the_websocket_has_a_policy_or_an_exemption(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        policies = getattr(view, RATE_LIMIT_ATTRIBUTE, None)
        exempt = getattr(view, RATE_LIMIT_EXEMPT_ATTRIBUTE, None)
        if bool(policies) == bool(exempt):
            undeclared.append(rule.rule)
    assert undeclared == []
    assert any(rule.websocket for rule in app.url_map.iter_rules())


def test_only_the_operational_routes_are_exempt(app):
    exempt = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], RATE_LIMIT_EXEMPT_ATTRIBUTE, None)
    }
    assert exempt == EXEMPT


def test_each_route_has_the_policy_api_md_gives_it(app):
    wrong = {}
    for rule in app.url_map.iter_rules():
        if rule.rule in EXEMPT:
            continue
        declared = getattr(app.view_functions[rule.endpoint], RATE_LIMIT_ATTRIBUTE)
        if declared != expected_policies(rule):
            wrong[f"{sorted(rule.methods or ['WS'])} {rule.rule}"] = declared
    assert wrong == {}


async def test_every_limited_operation_documents_429_and_the_rate_limit_headers(app, client):
    document = await (await client.get("/openapi.json")).get_json()
    assert set(document["components"]["headers"]) == {"RateLimit", "RateLimit-Policy", "Retry-After"}
    missing = []
    for path, operations in document["paths"].items():
        if path in EXEMPT:
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            too_many = responses.get("429", {})
            if set(too_many.get("headers", {})) != {"RateLimit", "RateLimit-Policy", "Retry-After"}:
                missing.append(f"{method} {path}: 429")
            for status, response in responses.items():
                if status.startswith("2") and {"RateLimit", "RateLimit-Policy"} - set(
                    response.get("headers", {})
                ):
                    missing.append(f"{method} {path}: {status}")
    assert missing == []
    limited = sum(len(operations) for path, operations in document["paths"].items() if path not in EXEMPT)
    assert limited == 29  # every route but the websocket and the four exempt ones
    assert "429" not in document["paths"]["/healthz"]["get"]["responses"]

"""Every route declares who may call it, and every authenticated route refuses anonymous calls."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

from sinpluma_async.openapi import ACCESS_ATTRIBUTE
from tests.support import problem


def example_url(rule):
    values = {
        name: 1 if isinstance(converter, IntegerConverter) else "someone"
        for name, converter in rule._converters.items()
    }
    return rule.build(values, append_unknown=False)[1]


async def test_every_route_is_public_or_needs_a_token(app):
    undeclared = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], ACCESS_ATTRIBUTE, None)
        not in ("public", "optional", "required")
    ]
    assert undeclared == []


async def test_token_routes_refuse_anonymous_calls(app, client):
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], ACCESS_ATTRIBUTE) != "required":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = await client.open(example_url(rule), method=method, json={})
            await problem(response, 401, "token_missing")

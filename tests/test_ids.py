"""Ids in paths: every route with one answers 404 for an id that cannot exist, on every backend.

Routing refuses such an id (sinpluma_async/ids.py), so the 404 comes before the access check:
no 401 for an anonymous caller and no 405, whatever the method.
"""

from __future__ import annotations

import re

import pytest

from sinpluma_async.ids import LARGEST_ID, IdConverter, decimals_up_to
from tests.support import problem

IMPOSSIBLE_IDS = ["0", "-1", str(2**63), str(10**30), "99999999999999999999999"]
PARAMETER = re.compile(r"<(?:([^:<>]*):)?([^<>]+)>")


def id_rules(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(converter, IdConverter) for converter in rule._converters.values()):
            yield rule


def url_with(rule, value: str) -> str:
    return PARAMETER.sub(lambda match: value if match[1] == "id" else "someone", rule.rule)


def test_every_id_in_a_path_goes_through_the_id_converter(app):
    untyped = [
        rule.rule
        for rule in app.url_map.iter_rules()
        for name, converter in rule._converters.items()
        if name.endswith("_id") and not isinstance(converter, IdConverter)
    ]
    assert untyped == []
    assert len(list(id_rules(app))) >= 11


@pytest.mark.parametrize("value", IMPOSSIBLE_IDS)
async def test_an_id_that_cannot_exist_is_a_404_for_every_method(app, client, writer, value):
    for rule in id_rules(app):
        for method in sorted(rule.methods - {"OPTIONS"}):
            for headers in ({}, writer.headers):
                response = await client.open(url_with(rule, value), method=method, headers=headers, json={})
                if method == "HEAD":
                    assert response.status_code == 404, (method, rule.rule)
                else:
                    await problem(response, 404, "not_found")


async def test_the_largest_id_reaches_the_database_and_is_not_found(app, client, writer):
    for rule in id_rules(app):
        if "GET" in rule.methods:
            response = await client.get(url_with(rule, str(LARGEST_ID)), headers=writer.headers)
            await problem(response, 404, "not_found")


@pytest.mark.parametrize("bound", [1, 9, 10, 57, 100, 1999])
def test_the_id_pattern_matches_exactly_the_numbers_from_1_to_its_bound(bound):
    pattern = re.compile(rf"(?:{decimals_up_to(bound)})\Z")
    assert [n for n in range(3000) if pattern.match(str(n))] == list(range(1, bound + 1))


def test_the_id_pattern_stops_at_the_largest_signed_64_bit_integer():
    pattern = re.compile(rf"(?:{IdConverter.regex})\Z")
    for inside in (LARGEST_ID, LARGEST_ID - 1, 10**18, 10**18 - 1, 9123372036854775807):
        assert pattern.match(str(inside)), inside
    for outside in (2**63, 2**63 + 2, 10**19, 10**30, 9300000000000000000):
        assert not pattern.match(str(outside)), outside
    assert not pattern.match("007") and not pattern.match("0")


@pytest.mark.parametrize("value", [0, -1, 2**63, 10**30])
async def test_an_id_that_cannot_exist_in_a_body_or_query_is_a_400(client, writer, value):
    requests = [
        ("POST", "/pages/", {"notebook_id": value, "title": "x"}, None),
        ("POST", "/readings/", {"notebook_id": value}, None),
        ("POST", "/notebooks/", {"title": "x", "genre_id": value}, None),
        ("GET", "/pages/", None, {"notebook_id": str(value)}),
        ("GET", "/notebooks/", None, {"genre_id": str(value)}),
        ("DELETE", "/readings/", None, {"notebook_id": str(value)}),
    ]
    for method, path, body, query in requests:
        response = await client.open(
            path, method=method, headers=writer.headers, json=body, query_string=query
        )
        assert response.status_code == 400, (method, path, await response.get_data(as_text=True))
        assert response.content_type == "application/problem+json"

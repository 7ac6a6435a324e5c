from __future__ import annotations

from tests.support import SEEDED_GENRES as SEEDED
from tests.support import counting_statements, problem


async def etag_of(client) -> str:
    return str((await client.get("/genres/")).headers["ETag"])


async def test_lists_the_ten_seeded_genres_with_ids_and_names(client):
    response = await client.get("/genres/")
    assert response.status_code == 200
    assert await response.get_json() == {
        "items": [{"genre_id": number, "name": name} for number, name in enumerate(SEEDED, start=1)]
    }


async def test_names_are_sent_as_utf8_not_escapes(client):
    response = await client.get("/genres/")
    assert response.headers["Content-Type"].startswith("application/json")
    body = await response.get_data()
    assert "Acción y aventura".encode() in body and "Ciencia ficción".encode() in body
    assert b"\\u" not in body


async def test_genres_need_no_token(client):
    assert (await client.get("/genres/")).status_code == 200


async def test_a_bad_token_is_ignored(client):
    response = await client.get("/genres/", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 200


async def test_response_carries_an_etag_and_public_cache_control(client):
    response = await client.get("/genres/")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2
    assert response.headers["Cache-Control"] == "public, max-age=300"


async def test_etag_is_stable_between_requests(client):
    assert await etag_of(client) == await etag_of(client)


async def test_matching_if_none_match_is_304_without_a_body(client):
    etag = await etag_of(client)
    response = await client.get("/genres/", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert await response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "public, max-age=300"


async def test_non_matching_if_none_match_is_200_with_the_list(client):
    response = await client.get("/genres/", headers={"If-None-Match": '"something-else"'})
    assert response.status_code == 200
    assert len((await response.get_json())["items"]) == 10


async def test_etag_among_several_in_if_none_match_is_304(client):
    etag = await etag_of(client)
    response = await client.get("/genres/", headers={"If-None-Match": f'"old", {etag}'})
    assert response.status_code == 304


async def test_weak_form_of_the_etag_is_304(client):
    etag = await etag_of(client)
    response = await client.get("/genres/", headers={"If-None-Match": f"W/{etag}"})
    assert response.status_code == 304


async def test_star_if_none_match_is_304(client):
    response = await client.get("/genres/", headers={"If-None-Match": "*"})
    assert response.status_code == 304


async def test_unquoted_etag_does_not_match(client):
    etag = (await etag_of(client)).strip('"')
    response = await client.get("/genres/", headers={"If-None-Match": f"{etag}x"})
    assert response.status_code == 200


async def test_second_listing_sends_no_sql(app, client):
    await client.get("/genres/")
    with counting_statements(app) as statements:
        response = await client.get("/genres/")
    assert response.status_code == 200 and len((await response.get_json())["items"]) == 10
    assert statements == []


async def test_revalidation_sends_no_sql(app, client):
    etag = await etag_of(client)
    with counting_statements(app) as statements:
        response = await client.get("/genres/", headers={"If-None-Match": etag})
    assert response.status_code == 304 and statements == []


async def test_counting_listener_sees_statements(app, client):
    """The counter itself works: an uncached listing shows up in it."""
    with counting_statements(app) as statements:
        assert (await client.get("/notebooks/")).status_code == 200
    assert statements


async def test_writing_to_genres_is_405(client, writer):
    response = await client.post("/genres/", headers=writer.headers, json={"name": "Romance"})
    await problem(response, 405, "method_not_allowed")

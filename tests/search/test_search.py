from __future__ import annotations

from typing import Any

from tests.support import create_notebook, create_page, problem, publish_notebook, publish_page, slate


async def make_notebook(client, account, title="Cuaderno", *, resume="", published=True) -> int:
    notebook_id: int = (await create_notebook(client, account, title=title, resume=resume))["notebook_id"]
    if published:
        await publish_notebook(client, account, notebook_id)
    return notebook_id


async def make_page(client, account, notebook_id: int, title: str, text: str, *, published=True) -> int:
    page = await create_page(client, account, notebook_id, title=title, content=slate(text))
    if published:
        await publish_page(client, account, page["page_id"])
    return int(page["page_id"])


async def published_page(client, account, title: str, text: str) -> tuple[int, int]:
    """A published page, with this title and text, in a published notebook of its own."""
    notebook_id = await make_notebook(client, account)
    return notebook_id, await make_page(client, account, notebook_id, title, text)


async def search(client, q: str, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", query_string={"q": q, **params})
    assert response.status_code == 200, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def page_ids(client, q: str, **params: Any) -> list[int]:
    return [hit["page_id"] for hit in (await search(client, q, kind="page", **params))["items"]]


async def notebook_ids(client, q: str, **params: Any) -> list[int]:
    return [hit["notebook_id"] for hit in (await search(client, q, kind="notebook", **params))["items"]]


# Only published content


async def test_published_page_of_published_notebook_is_found(client, writer):
    notebook_id, page_id = await published_page(client, writer, "Capítulo", "El faro abandonado")
    hits = (await search(client, "faro"))["items"]
    assert [(hit["kind"], hit["notebook_id"], hit["page_id"]) for hit in hits] == [
        ("page", notebook_id, page_id)
    ]


async def test_published_page_of_draft_notebook_is_not_found(client, writer):
    notebook_id = await make_notebook(client, writer, published=False)
    await make_page(client, writer, notebook_id, "Capítulo", "El faro abandonado")
    assert (await search(client, "faro"))["total"] == 0


async def test_unpublished_page_of_published_notebook_is_not_found(client, writer):
    notebook_id = await make_notebook(client, writer)
    await make_page(client, writer, notebook_id, "Capítulo", "El faro abandonado", published=False)
    assert (await search(client, "faro"))["total"] == 0


async def test_draft_notebook_is_not_found(client, writer):
    await make_notebook(client, writer, "Crónicas del faro", resume="Un faro", published=False)
    assert (await search(client, "faro"))["total"] == 0


async def test_author_does_not_find_own_draft_either(client, writer):
    await make_notebook(client, writer, "Crónicas del faro", published=False)
    response = await client.get("/search", query_string={"q": "faro"}, headers=writer.headers)
    assert (await response.get_json())["total"] == 0


async def test_page_edited_after_publishing_is_found_by_published_words_only(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo", "El faro abandonado")
    response = await client.put(
        f"/pages/{page_id}", headers=writer.headers, json={"title": "Tormenta", "content": slate("Un velero")}
    )
    assert response.status_code == 200
    assert await page_ids(client, "faro") == [page_id]
    assert await page_ids(client, "velero") == []
    assert await page_ids(client, "tormenta") == []


async def test_republishing_makes_the_new_words_searchable(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo", "El faro abandonado")
    await client.put(f"/pages/{page_id}", headers=writer.headers, json={"content": slate("Un velero")})
    await publish_page(client, writer, page_id)
    assert await page_ids(client, "velero") == [page_id]
    assert await page_ids(client, "faro") == []


async def test_unpublished_page_is_no_longer_found(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo", "El faro abandonado")
    assert (await client.delete(f"/pages/{page_id}/publish", headers=writer.headers)).status_code == 204
    assert await page_ids(client, "faro") == []


async def test_notebook_back_to_draft_hides_it_and_its_pages(client, writer):
    notebook_id, _ = await published_page(client, writer, "Capítulo", "El faro abandonado")
    await client.put(f"/notebooks/{notebook_id}", headers=writer.headers, json={"title": "Faro"})
    assert (await search(client, "faro"))["total"] == 2
    response = await client.put(f"/notebooks/{notebook_id}", headers=writer.headers, json={"status": "draft"})
    assert response.status_code == 200
    assert (await search(client, "faro"))["total"] == 0


async def test_deleted_page_is_not_found(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo", "El faro abandonado")
    assert (await client.delete(f"/pages/{page_id}", headers=writer.headers)).status_code == 204
    assert (await search(client, "faro"))["total"] == 0


async def test_deleted_notebook_is_not_found(client, writer):
    notebook_id, _ = await published_page(client, writer, "Faro", "El faro abandonado")
    assert (await client.delete(f"/notebooks/{notebook_id}", headers=writer.headers)).status_code == 204
    assert (await search(client, "faro"))["total"] == 0


async def test_renamed_notebook_is_found_by_its_new_title_only(client, writer):
    notebook_id = await make_notebook(client, writer, "Crónicas del faro")
    await client.put(f"/notebooks/{notebook_id}", headers=writer.headers, json={"title": "Crónicas del mar"})
    assert await notebook_ids(client, "mar") == [notebook_id]
    assert await notebook_ids(client, "faro") == []


# Ranking


async def test_title_match_ranks_above_body_only_match(client, writer):
    notebook_id = await make_notebook(client, writer)
    in_title = await make_page(client, writer, notebook_id, "El faro", "Una historia de mar")
    in_body = await make_page(client, writer, notebook_id, "Capítulo", "faro " * 30)
    hits = (await search(client, "faro", kind="page"))["items"]
    assert [hit["page_id"] for hit in hits] == [in_title, in_body]
    assert hits[0]["score"] > hits[1]["score"]


async def test_title_match_ranks_above_body_only_match_whatever_the_insertion_order(client, writer):
    notebook_id = await make_notebook(client, writer)
    in_body = await make_page(client, writer, notebook_id, "Capítulo", "faro " * 30)
    in_title = await make_page(client, writer, notebook_id, "El faro", "Una historia de mar")
    hits = (await search(client, "faro", kind="page"))["items"]
    assert [hit["page_id"] for hit in hits] == [in_title, in_body]
    assert hits[0]["score"] > hits[1]["score"]


async def test_title_match_of_a_page_ranks_above_body_match_of_a_notebook(client, writer):
    resume_match = await make_notebook(client, writer, "Relatos", resume="faro " * 30)
    other = await make_notebook(client, writer, "Cuentos")
    page_id = await make_page(client, writer, other, "Faro del norte", "Una historia de mar")
    hits = (await search(client, "faro"))["items"]
    assert [(hit["kind"], hit["notebook_id"]) for hit in hits] == [
        ("page", other),
        ("notebook", resume_match),
    ]
    assert hits[0]["page_id"] == page_id and hits[0]["score"] > hits[1]["score"]


async def test_title_match_ranks_first_among_many_body_matches(client, writer):
    notebook_id = await make_notebook(client, writer)
    for number in range(5):
        await make_page(client, writer, notebook_id, f"Parte {number}", "faro " * (number + 1))
    in_title = await make_page(client, writer, notebook_id, "Faro", "Sin más")
    hits = (await search(client, "faro", kind="page"))["items"]
    assert len(hits) == 6 and hits[0]["page_id"] == in_title
    assert hits[0]["score"] > max(hit["score"] for hit in hits[1:])


async def test_items_are_ordered_by_descending_score(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro", resume="faro")
    await make_page(client, writer, notebook_id, "Faro", "Un faro")
    await make_page(client, writer, notebook_id, "Capítulo", "faro faro faro")
    await make_notebook(client, writer, "Relatos", resume="Del faro")
    scores = [hit["score"] for hit in (await search(client, "faro"))["items"]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)


# Matching


async def test_unaccented_lowercase_query_finds_accented_title(client, writer):
    notebook_id = await make_notebook(client, writer, "Acción en la montaña")
    assert await notebook_ids(client, "accion") == [notebook_id]


async def test_accented_uppercase_query_finds_unaccented_title(client, writer):
    notebook_id = await make_notebook(client, writer, "Pura accion")
    assert await notebook_ids(client, "ACCIÓN") == [notebook_id]


async def test_case_and_accents_are_ignored_in_page_text(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo", "Una CANCIÓN de cuna")
    assert await page_ids(client, "cancion") == [page_id]


async def test_word_absent_everywhere_finds_nothing(client, writer):
    await published_page(client, writer, "Capítulo", "El faro abandonado")
    body = await search(client, "submarino")
    assert body["items"] == [] and body["total"] == 0 and body["pages"] == 0


async def test_every_word_of_the_query_is_required(client, writer):
    notebook_id = await make_notebook(client, writer)
    both = await make_page(client, writer, notebook_id, "Capítulo", "El dragón rojo duerme")
    await make_page(client, writer, notebook_id, "Capítulo", "El dragón verde duerme")
    await make_page(client, writer, notebook_id, "Capítulo", "Un pañuelo rojo")
    assert await page_ids(client, "dragón rojo") == [both]


async def test_query_words_may_be_split_between_title_and_body(client, writer):
    _, page_id = await published_page(client, writer, "El dragón", "Era rojo como el fuego")
    assert await page_ids(client, "dragón rojo") == [page_id]


async def test_notebook_resume_is_searched(client, writer):
    notebook_id = await make_notebook(client, writer, "Relatos", resume="Historias de marineros")
    assert await notebook_ids(client, "marineros") == [notebook_id]


async def test_short_word_is_found(client, writer):
    _, page_id = await published_page(client, writer, "Yo soy", "Un retrato")
    await published_page(client, writer, "Nosotros", "Otro retrato")
    assert await page_ids(client, "yo") == [page_id]


async def test_short_word_with_a_long_word_requires_both(client, writer):
    notebook_id = await make_notebook(client, writer)
    both = await make_page(client, writer, notebook_id, "Yo soy", "Un retrato")
    await make_page(client, writer, notebook_id, "Yo", "Un paisaje")
    await make_page(client, writer, notebook_id, "Nosotros", "Otro retrato")
    assert await page_ids(client, "yo retrato") == [both]


async def test_short_word_in_title_ranks_above_short_word_in_body(client, writer):
    notebook_id = await make_notebook(client, writer)
    in_body = await make_page(client, writer, notebook_id, "Capítulo", "Así soy yo")
    in_title = await make_page(client, writer, notebook_id, "Yo soy", "Un retrato")
    hits = (await search(client, "yo", kind="page"))["items"]
    assert [hit["page_id"] for hit in hits] == [in_title, in_body]
    assert hits[0]["score"] > hits[1]["score"]


async def test_stopword_is_found(client, writer):
    _, page_id = await published_page(client, writer, "The end", "Fin")
    await published_page(client, writer, "Final", "Fin")
    assert await page_ids(client, "the") == [page_id]


async def test_search_operators_in_q_are_not_operators(client, writer):
    exact = await make_notebook(client, writer, "Faro")
    await make_notebook(client, writer, "Faros del sur")
    for q in ("faro*", "-faro", '"faro', "+faro", "(faro)", "faro~", "faro^"):
        assert await notebook_ids(client, q) == [exact], q


async def test_slate_structure_is_not_searched(client, writer):
    await published_page(client, writer, "Capítulo", "El faro abandonado")
    for q in ("paragraph", "children", "type", "text"):
        assert (await search(client, q))["total"] == 0, q


async def test_words_in_different_paragraphs_are_found_together(client, writer):
    notebook_id = await make_notebook(client, writer)
    page = await create_page(
        client, writer, notebook_id, title="Capítulo", content=slate("El faro", "junto al acantilado")
    )
    await publish_page(client, writer, page["page_id"])
    assert await page_ids(client, "faro acantilado") == [page["page_id"]]


async def test_percent_matches_literally(client, writer):
    with_percent = await make_notebook(client, writer, "100% real")
    await make_notebook(client, writer, "100 real")
    assert await notebook_ids(client, "%") == [with_percent]


async def test_percent_alone_does_not_match_everything(client, writer):
    await make_notebook(client, writer, "Relatos", resume="Historias")
    await published_page(client, writer, "Capítulo", "El faro abandonado")
    assert (await search(client, "%"))["total"] == 0


async def test_underscore_matches_literally(client, writer):
    with_underscore = await make_notebook(client, writer, "mi_cuaderno")
    await make_notebook(client, writer, "mi cuaderno")
    await make_notebook(client, writer, "mix")
    assert await notebook_ids(client, "_") == [with_underscore]


async def test_backslash_matches_literally(client, writer):
    with_backslash = await make_notebook(client, writer, "C:\\ruta")
    await make_notebook(client, writer, "C: ruta")
    assert await notebook_ids(client, "\\") == [with_backslash]


async def test_word_with_an_underscore_is_found_whole(client, writer):
    with_underscore = await make_notebook(client, writer, "Notas de mi_cuaderno")
    await make_notebook(client, writer, "Notas de mi cuaderno rojo")
    assert await notebook_ids(client, "mi_cuaderno") == [with_underscore]


async def test_word_longer_than_the_fulltext_maximum_is_found(client, writer):
    word = "supercalifragilisticoespialidoso" * 3
    notebook_id = await make_notebook(client, writer, word)
    await make_notebook(client, writer, "Otro")
    assert await notebook_ids(client, word) == [notebook_id]


async def test_percent_and_underscore_in_page_text_match_literally(client, writer):
    notebook_id = await make_notebook(client, writer)
    literal = await make_page(client, writer, notebook_id, "Capítulo", "Descuento del 50%_total")
    await make_page(client, writer, notebook_id, "Capítulo", "Descuento del 50 total")
    assert await page_ids(client, "%_") == [literal]


# Hits


async def test_notebook_hit_has_kind_ids_title_snippet_and_score(client, writer):
    notebook_id = await make_notebook(client, writer, "Relatos", resume="Historias de marineros")
    hit = (await search(client, "marineros"))["items"][0]
    assert set(hit) == {"kind", "notebook_id", "page_id", "title", "snippet", "score"}
    assert hit["kind"] == "notebook" and hit["notebook_id"] == notebook_id and hit["page_id"] is None
    assert hit["title"] == "Relatos" and "marineros" in hit["snippet"]
    assert isinstance(hit["score"], float) and hit["score"] > 0


async def test_page_hit_has_kind_ids_published_title_snippet_and_score(client, writer):
    notebook_id, page_id = await published_page(client, writer, "Capítulo uno", "El faro abandonado")
    hit = (await search(client, "abandonado"))["items"][0]
    assert set(hit) == {"kind", "notebook_id", "page_id", "title", "snippet", "score"}
    assert (hit["kind"], hit["notebook_id"], hit["page_id"]) == ("page", notebook_id, page_id)
    assert hit["title"] == "Capítulo uno" and "abandonado" in hit["snippet"]
    assert isinstance(hit["score"], float) and hit["score"] > 0


async def test_page_hit_shows_the_published_title_not_the_draft(client, writer):
    _, page_id = await published_page(client, writer, "Capítulo uno", "El faro abandonado")
    await client.put(f"/pages/{page_id}", headers=writer.headers, json={"title": "Borrador"})
    assert (await search(client, "faro"))["items"][0]["title"] == "Capítulo uno"


async def test_snippet_of_long_text_is_the_passage_around_the_match(client, writer):
    text = "relleno " * 60 + "aparece el faro abandonado " + "relleno " * 60
    await published_page(client, writer, "Capítulo", text)
    snippet = (await search(client, "faro"))["items"][0]["snippet"]
    assert "faro" in snippet and len(snippet) <= 162
    assert snippet.startswith("…") and snippet.endswith("…")


async def test_snippet_finds_the_match_ignoring_accents(client, writer):
    text = "relleno " * 60 + "una CANCIÓN de cuna " + "relleno " * 60
    await published_page(client, writer, "Capítulo", text)
    assert "CANCIÓN" in (await search(client, "cancion"))["items"][0]["snippet"]


async def test_snippet_finds_the_match_after_characters_that_fold_to_two(client, writer):
    # "ß" folds to "ss" and "ﬁ" to "fi": the passage must still be cut around the match.
    text = "Straße ﬁnal " * 40 + "una CANCIÓN de cuna " + "Straße ﬁnal " * 40
    await published_page(client, writer, "Capítulo", text)
    snippet = (await search(client, "cancion"))["items"][0]["snippet"]
    assert "una CANCIÓN de cuna" in snippet and len(snippet) <= 162


async def test_kind_notebook_returns_only_notebooks(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro")
    await make_page(client, writer, notebook_id, "Faro", "Un faro")
    hits = (await search(client, "faro", kind="notebook"))["items"]
    assert [(hit["kind"], hit["notebook_id"], hit["page_id"]) for hit in hits] == [
        ("notebook", notebook_id, None)
    ]


async def test_kind_page_returns_only_pages(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro")
    page_id = await make_page(client, writer, notebook_id, "Faro", "Un faro")
    hits = (await search(client, "faro", kind="page"))["items"]
    assert [(hit["kind"], hit["notebook_id"], hit["page_id"]) for hit in hits] == [
        ("page", notebook_id, page_id)
    ]


async def test_kind_all_is_the_default_and_returns_both(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro")
    page_id = await make_page(client, writer, notebook_id, "Faro", "Un faro")
    default = await search(client, "faro")
    explicit = await search(client, "faro", kind="all")
    found = {(hit["kind"], hit["page_id"]) for hit in default["items"]}
    assert found == {("notebook", None), ("page", page_id)} and default["total"] == 2
    assert explicit["items"] == default["items"]


# Pagination


async def test_results_are_paginated_with_an_envelope(client, writer):
    for number in range(3):
        await make_notebook(client, writer, f"Faro {number}")
    body = await search(client, "faro", kind="notebook", per_page=2)
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 2, 3, 2)
    assert len(body["items"]) == 2


async def test_pagination_links_keep_q_and_kind(client, writer):
    for number in range(3):
        await make_notebook(client, writer, f"Faro {number}")
    body = await search(client, "faro", kind="notebook", per_page=1, page=2)
    links = body["links"]
    assert links["self"] == "/search?q=faro&kind=notebook&page=2&per_page=1"
    assert links["next"] == "/search?q=faro&kind=notebook&page=3&per_page=1"
    assert links["prev"] == "/search?q=faro&kind=notebook&page=1&per_page=1"


async def test_last_page_has_no_next_link_and_first_has_no_prev(client, writer):
    for number in range(3):
        await make_notebook(client, writer, f"Faro {number}")
    first = await search(client, "faro", per_page=2)
    last = await search(client, "faro", per_page=2, page=2)
    assert first["links"]["prev"] is None and first["links"]["next"] is not None
    assert last["links"]["next"] is None and len(last["items"]) == 1


async def test_links_encode_the_query(client, writer):
    await make_notebook(client, writer, "100% real")
    body = await search(client, "100% real")
    assert body["links"]["self"] == "/search?q=100%25+real&kind=all&page=1&per_page=20"


async def test_pages_of_mixed_results_cover_every_hit_once_in_score_order(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro", resume="faro")
    expected = {("notebook", notebook_id, None)}
    for number in range(3):
        page_id = await make_page(client, writer, notebook_id, f"Faro {number}" if number else "Uno", "faro")
        expected.add(("page", notebook_id, page_id))
    other = await make_notebook(client, writer, "Relatos", resume="Del faro")
    expected.add(("notebook", other, None))
    hits: list[dict[str, Any]] = []
    for number in (1, 2, 3):
        body = await search(client, "faro", per_page=2, page=number)
        assert body["total"] == 5 and body["pages"] == 3
        hits.extend(body["items"])
    assert {(hit["kind"], hit["notebook_id"], hit["page_id"]) for hit in hits} == expected
    assert len(hits) == 5
    scores = [hit["score"] for hit in hits]
    assert scores == sorted(scores, reverse=True)


async def test_page_beyond_the_last_is_empty_but_keeps_the_total(client, writer):
    await make_notebook(client, writer, "Faro")
    body = await search(client, "faro", page=5)
    assert body["items"] == [] and body["total"] == 1 and body["pages"] == 1


# Validation and access


async def test_missing_q_is_400(client):
    await problem(await client.get("/search"), 400, "validation_error")


async def test_empty_q_is_400(client):
    await problem(await client.get("/search", query_string={"q": ""}), 400, "validation_error")


async def test_blank_q_is_400(client):
    await problem(await client.get("/search", query_string={"q": "   "}), 400, "validation_error")


async def test_q_longer_than_100_characters_after_trimming_is_400(client):
    response = await client.get("/search", query_string={"q": " " + "a" * 101 + " "})
    await problem(response, 400, "validation_error")


async def test_q_of_100_characters_after_trimming_is_accepted(client):
    body = await search(client, "   " + "a" * 100 + "   ")
    assert body["total"] == 0 and body["links"]["self"].startswith("/search?q=" + "a" * 100 + "&")


async def test_q_is_trimmed_before_searching(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro")
    assert await notebook_ids(client, "  faro  ") == [notebook_id]


async def test_unknown_kind_is_400(client):
    response = await client.get("/search", query_string={"q": "faro", "kind": "bogus"})
    await problem(response, 400, "validation_error")


async def test_unknown_query_parameter_is_400(client):
    response = await client.get("/search", query_string={"q": "faro", "sort": "new"})
    await problem(response, 400, "validation_error")


async def test_per_page_out_of_range_is_400(client):
    for per_page in (0, 101):
        response = await client.get("/search", query_string={"q": "faro", "per_page": per_page})
        await problem(response, 400, "validation_error")


async def test_page_zero_is_400(client):
    await problem(await client.get("/search", query_string={"q": "faro", "page": 0}), 400, "validation_error")


async def test_search_needs_no_token(client, writer):
    notebook_id = await make_notebook(client, writer, "Faro")
    response = await client.get("/search", query_string={"q": "faro"})
    assert response.status_code == 200
    assert [hit["notebook_id"] for hit in (await response.get_json())["items"]] == [notebook_id]


async def test_results_are_the_same_with_and_without_a_token(client, writer, reader):
    await make_notebook(client, writer, "Faro")
    anonymous = await client.get("/search", query_string={"q": "faro"})
    signed_in = await client.get("/search", query_string={"q": "faro"}, headers=reader.headers)
    assert (await anonymous.get_json())["items"] == (await signed_in.get_json())["items"]


async def test_paging_beyond_the_first_thousand_results_is_400(client):
    await problem(await client.get("/search?q=faro&page=11&per_page=100"), 400, "validation_error")
    assert (await client.get("/search?q=faro&page=10&per_page=100")).status_code == 200

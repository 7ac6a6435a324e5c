"""Where a long page's snippet is cut: around the first match, however far into the page it is."""

from __future__ import annotations

from sinpluma_async.search.snippets import SEARCH_WINDOW_CHARS, snippet

FILLER = "palabra " * 1000  # 8,000 characters without a match


def test_snippet_of_a_match_deep_in_a_long_page_is_cut_around_it():
    text = FILLER + "una canción de cuna " + FILLER
    cut = snippet(text, "cancion")
    assert "una canción de cuna" in cut and len(cut) <= 162
    assert cut.startswith("…") and cut.endswith("…")


def test_snippet_finds_a_match_that_straddles_the_search_windows():
    before = "x" * (SEARCH_WINDOW_CHARS - 4) + " "
    text = before + "CANCIÓN " + FILLER
    assert "CANCIÓN" in snippet(text, "cancion")


def test_snippet_after_many_characters_that_fold_to_several_is_cut_at_the_match():
    text = "… " * (2 * SEARCH_WINDOW_CHARS) + "el faro de la isla " + FILLER
    cut = snippet(text, "faro isla")
    assert "el faro de la isla" in cut and len(cut) <= 162


def test_snippet_without_a_match_in_the_body_is_the_start_of_the_page():
    cut = snippet(FILLER, "faro")
    assert cut.startswith("palabra palabra") and cut.endswith("…")


def test_snippet_flattens_long_runs_of_whitespace_around_the_match():
    text = FILLER + "antes" + " \n" * 3000 + "del faro" + "\n\n" * 3000 + "después " + FILLER
    cut = snippet(text, "faro")
    assert "antes del faro después" in cut and len(cut) <= 162


def test_snippet_of_a_query_without_words_matches_it_across_any_whitespace():
    text = FILLER + "un % suelto, " + FILLER + "y luego ¿%\n\n%? " + FILLER
    assert "y luego ¿% %?" in snippet(text, "% %")

"""SearchEngine over a small real index: modes, typo tolerance, filters, personalisation, suggestions, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from movie_genie.errors import MovieGenieError
from movie_genie.search.engine import SearchEngine, SearchFilters
from movie_genie.search.errors import IndexMissingError, SearchInputError

TERMINATOR = 1240
ROBOT_FILMS = {589, 1240, 6537, 519, 2985, 60069, 2761, 8644, 32031, 53996, 4006}


def _ids(result) -> list[int]:
    return [h.movie_id for h in result.hits]


@pytest.fixture(scope="module")
def engine(small_index) -> SearchEngine:
    return small_index.engine


def test_typo_in_a_title_still_finds_it(engine) -> None:
    assert _ids(engine.search("termnator", mode="title", k=3))[0] == TERMINATOR
    assert TERMINATOR in _ids(engine.search("termnator", mode="hybrid", k=3))
    assert _ids(engine.search("the terminator", mode="title", k=1)) == [TERMINATOR]


@pytest.mark.parametrize("mode", ["semantic", "lexical", "hybrid"])
def test_plain_language_query_finds_robot_films(engine, mode) -> None:
    result = engine.search("action movies with robots", mode=mode, k=10)
    assert 3 <= len(result.hits) <= 10 and result.mode == mode  # results stop where relevance stops
    assert len(ROBOT_FILMS & set(_ids(result))) >= 3, [h.title for h in result.hits]
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)


def test_hybrid_hits_say_which_retrievers_found_them(engine) -> None:
    hits = engine.search("toy story", mode="hybrid", k=5).hits
    assert hits[0].movie_id == 1
    assert set(hits[0].matched_by) == {"semantic", "lexical", "title"}
    assert hits[0].title == "Toy Story" and hits[0].year == 1995 and "Animation" in hits[0].genres


def test_filters_restrict_results(engine, latest_small) -> None:
    filters = SearchFilters(genres=("animation",), year_min=1990, year_max=2005)
    hits = engine.search("robots", k=20, filters=filters).hits
    assert hits and all("Animation" in h.genres and 1990 <= h.year <= 2005 for h in hits)
    counts = latest_small.ratings["movie_id"].value_counts()  # the truth the index's stored counts must match
    popular = engine.search("space adventure", k=20, filters=SearchFilters(min_ratings=150)).hits
    assert popular and all(counts[h.movie_id] >= 150 for h in popular)
    for mode in ("semantic", "lexical", "title"):
        assert all("Animation" in h.genres for h in engine.search("robot", mode=mode, filters=filters).hits)


def test_filter_that_excludes_everything_gives_an_empty_result(engine) -> None:
    result = engine.search("robots", filters=SearchFilters(year_min=2100))
    assert result.hits == [] and not result.personalised


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": ""}, "empty"),
        ({"query": "   \t\n "}, "empty"),
        ({"query": "robot " * 1700}, "shorten it"),  # ~10 kB
        ({"query": "🤖🚀🎬"}, "no letters or digits"),
        ({"query": "robots", "mode": "fuzzy"}, "unknown search mode"),
        ({"query": "robots", "k": 0}, "k must be"),
        ({"query": "robots", "k": 10_000}, "k must be"),
        ({"query": "robots", "filters": SearchFilters(year_min=2000, year_max=1990)}, "swap them"),
        ({"query": "robots", "filters": SearchFilters(genres=("Cyberpunk",))}, "unknown genre"),
        ({"query": "robots", "filters": SearchFilters(min_ratings=-1)}, "min_ratings"),
        ({"query": None}, "must be text"),
    ],
)
def test_bad_input_is_a_clear_validation_error(engine, kwargs, message) -> None:
    with pytest.raises(SearchInputError, match=message) as info:
        engine.search(**kwargs)
    assert isinstance(info.value, MovieGenieError)


@pytest.mark.parametrize("query", ["Терминатор", "ターミネーター", "终结者 robot", "Amélie", "robots 🤖"])
def test_non_latin_and_mixed_queries_return_results(engine, query) -> None:
    for mode in ("hybrid", "semantic", "lexical", "title"):
        result = engine.search(query, mode=mode, k=5)
        assert len(result.hits) <= 5 and all(h.title for h in result.hits)


def test_personal_scores_rerank_and_say_so(engine) -> None:
    plain = engine.search("robots", k=10)
    last = plain.hits[-1].movie_id
    boosted = engine.search("robots", k=10, personal_scores={last: 10.0, plain.hits[0].movie_id: 0.0})
    assert boosted.personalised
    assert _ids(boosted).index(last) < 9
    assert "personal" in next(h for h in boosted.hits if h.movie_id == last).matched_by


def test_personalisation_is_reported_only_when_it_changes_the_order(engine) -> None:
    plain = engine.search("robots", k=10)
    assert not engine.search("robots", k=10, personal_scores={}).personalised
    assert not engine.search("robots", k=10, personal_scores={999_999_999: 1.0}).personalised
    # Affinities that agree with the search order change nothing.
    agree = {h.movie_id: float(-i) for i, h in enumerate(plain.hits)}
    same = engine.search("robots", k=10, personal_scores=agree)
    assert not same.personalised and _ids(same) == _ids(plain)


def test_personal_scores_may_be_a_callable_over_candidates(engine) -> None:
    seen: list[list[int]] = []

    def affinity(ids):
        seen.append(list(ids))
        return {m: (1.0 if m == 3114 else 0.0) for m in ids}

    result = engine.search("toys come to life", k=5, personal_scores=affinity)
    assert seen and 1 in seen[0]  # candidates were offered, Toy Story among them
    assert result.personalised == (_ids(result) != _ids(engine.search("toys come to life", k=5)))


def test_suggestions_for_prefixes_and_typos(engine) -> None:
    assert TERMINATOR in [s.movie_id for s in engine.suggest("termin", k=8)]
    star_wars = engine.suggest("star wa", k=3)
    assert star_wars and all(s.title.startswith("Star Wars") for s in star_wars)
    assert [s.movie_id for s in engine.suggest("empire strikes", k=2)] == [1196]  # a word inside the title
    assert TERMINATOR in [s.movie_id for s in engine.suggest("termnat", k=8)]  # typo
    assert engine.suggest("", k=8) == [] and engine.suggest("   ") == []
    with pytest.raises(SearchInputError):
        engine.suggest("toy", k=0)
    animated = engine.suggest("toy", k=8, filters=SearchFilters(genres=("Animation",)))
    assert animated and all("Toy" in s.title for s in animated)


def test_load_reports_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="movie-genie index"):
        SearchEngine.load(tmp_path)


def test_genres_lists_the_catalogue_genres(engine) -> None:
    assert "Animation" in engine.genres and "(no genres listed)" not in engine.genres


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=80), mode=st.sampled_from(["hybrid", "semantic", "lexical", "title"]))
def test_any_text_gives_a_result_or_a_validation_error(engine, query, mode) -> None:
    try:
        result = engine.search(query, mode=mode, k=5)
    except SearchInputError as exc:
        assert str(exc)
    else:
        assert len(result.hits) <= 5
    assert isinstance(engine.suggest(query[:40], k=3), list)

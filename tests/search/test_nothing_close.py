"""Nothing close: a query no retriever has real evidence for (gibberish, a film the catalogue lacks) returns no
results and says so, instead of a page of unrelated films; real queries and misspelt titles keep their answers."""

from __future__ import annotations

import pytest

from movie_genie.search.engine import MODES, SearchEngine, SearchFilters

SHAWSHANK = 318
GIBBERISH = ("asdfghjkl", "qwpoeiruty", "blorft zimbo", "snorfling quibbleton", "Oppenheimer")


@pytest.fixture(scope="module", params=["metadata", "plain"])
def built(request, small_index, plain_index):
    """Both catalogues: with the TMDB metadata CSV and as the default app has it (no descriptions)."""
    return small_index if request.param == "metadata" else plain_index


@pytest.fixture(scope="module")
def engine(built) -> SearchEngine:
    return built.engine


def _with(built, **ranking: float) -> SearchEngine:
    """The same index loaded with other ranking values."""
    config = built.engine.config
    return SearchEngine.load(
        built.path, config.model_copy(update={"ranking": config.ranking.model_copy(update=ranking)})
    )


@pytest.mark.parametrize("query", GIBBERISH)
def test_gibberish_returns_no_results_and_says_nothing_is_close(engine, query) -> None:
    for mode in MODES:
        result = engine.search(query, mode=mode, k=20)
        assert result.hits == [], (mode, [h.title for h in result.hits])
        assert result.no_close_match and result.did_you_mean is None and not result.personalised


def test_gibberish_returns_nothing_with_filters_and_taste(engine) -> None:
    result = engine.search("asdfghjkl", k=20, filters=SearchFilters(genres=("Drama",)), personal_scores={1: 1.0})
    assert result.hits == [] and result.no_close_match


def test_a_misspelt_title_still_finds_its_film(engine) -> None:
    result = engine.search("shawshnk redemptoin", k=10)
    assert [h.movie_id for h in result.hits][:1] == [SHAWSHANK], [h.title for h in result.hits]
    assert result.did_you_mean == "shawshank redemption" and not result.no_close_match


@pytest.mark.parametrize("query", ["action movies with robots", "godfather", "termin", "star wars", "a heist"])
def test_real_queries_are_close(engine, query) -> None:
    result = engine.search(query, k=20)
    assert result.hits and not result.no_close_match, query


def test_browsing_with_filters_alone_is_not_judged(engine) -> None:
    result = engine.search("", k=5, filters=SearchFilters(genres=("Animation",)))
    assert result.hits and not result.no_close_match


def test_the_rule_off_or_a_lower_similarity_bar_brings_back_strangers(built, engine) -> None:
    """Turned off (share 0), every query is close again, as before the rule; a similarity bar of -1 lets the
    semantic retriever vouch for anything."""
    assert _with(built, close_min_known_share=0.0).search("asdfghjkl", k=20).hits
    assert _with(built, close_min_similarity=-1.0).search("asdfghjkl", k=20).hits
    assert engine.best_similarity("asdfghjkl") < engine.config.ranking.close_min_similarity


def test_known_share_counts_words_the_documents_have(engine) -> None:
    lexical = engine._lexical
    assert lexical.known_share("robots asdfghjkl") == 0.5
    assert lexical.known_share("asdfghjkl") == 0.0 and lexical.known_share("the of") == 0.0

"""Search answers the query first, on a real index over real ml-latest-small films (with and without TMDB metadata):
results stop where relevance stops, franchises group under a title query, personal taste only re-orders the results
(never swaps one in), well-known answers lead, misspelt titles say "did you mean", filters alone browse, and a title
query is never expanded."""

from __future__ import annotations

import pytest

from movie_genie.search.config import SearchConfig
from movie_genie.search.engine import SearchEngine, SearchFilters
from movie_genie.search.errors import SearchInputError

GODFATHER = {858, 1221, 2023, 172591}
STAR_WARS = {260, 1196, 1210, 2628, 5378, 33493, 122886, 166528}
STAR_TREK = {1356, 1371, 1374, 1375}
PAGE_FILLERS = {23, 532, 585}  # Assassins, Serial Mom, The Brady Bunch Movie: seen under "godfather"
HORROR_NEAR_GOD = {1258, 1994, 1327, 2550, 2719, 4720, 103688}
ROBOT_ACTION = {589, 1240, 6537, 519, 2985, 8644, 53996}
ONE_RATING_ROBOTS = {136800, 7986}  # Robot Overlords, Robot Jox
HAUNTED = {1994, 1327, 2550, 2719, 4720, 103688, 1258}
TITLE_WORD_STRANGERS = {469, 470}  # The House of the Spirits, House Party 3


def _ids(result) -> list[int]:
    return [h.movie_id for h in result.hits]


@pytest.fixture(scope="module", params=["metadata", "plain"])
def engine(request, small_index, plain_index) -> SearchEngine:
    """Both catalogues: with the TMDB metadata CSV and as the default app has it (no descriptions)."""
    return small_index.engine if request.param == "metadata" else plain_index.engine


def test_a_title_query_returns_its_films_not_a_padded_page(engine) -> None:
    ids = _ids(engine.search("godfather", k=20))
    assert set(ids[:4]) >= GODFATHER, ids
    assert not PAGE_FILLERS & set(ids) and len(ids) < 10, ids


def test_a_franchise_groups_under_its_title_and_leaves_out_look_alikes(engine) -> None:
    ids = _ids(engine.search("star wars", k=20))
    assert set(ids[: len(STAR_WARS)]) >= STAR_WARS, ids
    assert not STAR_TREK & set(ids), ids
    assert ids[0] in {260, 1196}  # the best-known episode leads


def test_taste_reorders_only_relevant_results(engine) -> None:
    """A horror fan misspelling a title gets that title's films, not horror; a children's fan, no cartoons."""
    horror_fan = {m: (1.0 if m in HORROR_NEAR_GOD else 0.0) for m in HORROR_NEAR_GOD | GODFATHER}
    ids = _ids(engine.search("godfater", k=10, personal_scores=horror_fan))
    assert ids[:3] and set(ids[:3]) <= GODFATHER, ids
    assert not HORROR_NEAR_GOD & set(ids), ids
    child = {239: 10.0, 1: 5.0, 3114: 5.0}  # A Goofy Movie, Toy Story
    robots = _ids(engine.search("robots", k=10, personal_scores=child))
    assert 239 not in robots, robots


def test_well_known_answers_lead_plain_language_queries(engine) -> None:
    ids = _ids(engine.search("action movies with robots", k=10))
    assert ids and ids[0] not in ONE_RATING_ROBOTS, ids
    assert len(ROBOT_ACTION & set(ids[:5])) >= 2, ids


def test_plain_language_is_not_matched_on_title_words(engine) -> None:
    ids = _ids(engine.search("scary movie about a haunted house", k=10))
    assert not TITLE_WORD_STRANGERS & set(ids[:4]), ids
    assert set(ids[:2]) <= HAUNTED, ids


def test_a_misspelt_title_says_did_you_mean(engine) -> None:
    result = engine.search("godfater", k=10)
    assert result.did_you_mean == "godfather"
    assert set(_ids(result)[:3]) <= GODFATHER
    assert engine.search("godfather", k=10).did_you_mean is None
    assert engine.search("astronauts stranded in space", k=10).did_you_mean is None  # real words stay


def test_filters_alone_browse_best_known_first(engine, latest_small) -> None:
    result = engine.search("", k=10, filters=SearchFilters(genres=("Horror",), year_min=1970, year_max=1989))
    assert result.hits and all("Horror" in h.genres and 1970 <= h.year <= 1989 for h in result.hits)
    counts = latest_small.ratings["movie_id"].value_counts()
    browsed = [counts[m] for m in _ids(result)]
    assert browsed[0] == max(browsed) or browsed[0] >= 100, browsed  # well-known first (popularity x quality)
    assert not result.personalised and result.did_you_mean is None


def test_taste_never_swaps_a_film_into_the_results(engine) -> None:
    """The k films a query gives stay the k films with any taste; only their order may change."""
    prequel_fan = {5378: 10.0, 33493: 10.0, 2628: 10.0}  # Attack of the Clones, Revenge of the Sith, Phantom Menace
    for k in (3, 10):
        plain = _ids(engine.search("star wars", k=k))
        tasted = engine.search("star wars", k=k, personal_scores=prequel_fan)
        assert set(_ids(tasted)) == set(plain), (k, plain, _ids(tasted))
    robots = engine.search("action movies with robots", k=5, personal_scores={m: 1.0 for m in ONE_RATING_ROBOTS})
    assert set(_ids(robots)) == set(_ids(engine.search("action movies with robots", k=5)))


def test_a_title_query_is_not_expanded(small_index, plain_index) -> None:
    """Query expansion from the best hits widens descriptions; a title's films are the answer as they are."""
    for built in (small_index, plain_index):
        config = SearchConfig.from_dict({**built.engine.config.model_dump(), "expansion": {"seeds": 0}})
        unexpanded = SearchEngine.load(built.path, config)
        for query in ("godfather", "star wars"):
            assert _ids(built.engine.search(query, k=20)) == _ids(unexpanded.search(query, k=20)), query
        assert built.engine.config.expansion.seeds > 0  # on by default: every description above was expanded


def test_the_funnel_holds_every_result_and_more(engine) -> None:
    """funnel(): what the retrievers found (pool) contains what passed the cut-off, which contains the results."""
    for query in ("action movies with robots", "godfather"):
        funnel = engine.funnel(query)
        results = set(_ids(engine.search(query, k=100)))
        assert results and results <= funnel.relevant <= funnel.pool, query
        assert len(funnel.pool) > len(funnel.relevant)  # the cut-off drops the weak candidates
    lexical = engine.funnel("action movies with robots", mode="lexical")
    assert lexical.relevant <= lexical.pool and lexical.pool < engine.funnel("action movies with robots").pool
    with pytest.raises(SearchInputError):
        engine.funnel("   ")

"""Query understanding on real ml-latest-small films: people, genres, decades, moods and themes read from the
catalogue's own fields, filtering or lifting films, and removable (`ignore`) like the app's chips."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from tests.search.conftest import BuiltIndex, Tables

# Films viewers tagged "Tom Hanks" (Catch Me If You Can, Toy Story 2, Road to Perdition, The Da Vinci Code), and
# films a first-name match used to return for "tom hanks": Tom Jones, Peeping Tom and three Tom Segura specials.
TAGGED_TOM_HANKS = {5989, 3114, 5464, 45447}
FIRST_NAME_ONLY = {1948, 2488, 128914, 162344, 183959}
# Warrior, tagged "Tom Hardy".
TAGGED_TOM_HARDY = {89774}
# Films whose titles hold only the first name or only the surname of a full name no film is tagged with ("julia
# roberts", "meg ryan") or that is tagged on one film (The Empire Strikes Back: "Harrison Ford"); "julia roberts"
# used to return the four Julia films, "harrison ford" Harrison's Flowers and Harrison Bergeron.
NAME_WORDS_IN_TITLES = {
    "julia roberts": {8943, 32234, 70293, 129333, 1171, 3035, 6702},  # Being Julia, Julia x2, Julie & Julia; Roberts
    "meg ryan": {2028, 4339, 108188},  # Saving Private Ryan, Von Ryan's Express, Jack Ryan
    "harrison ford": {5221, 56022, 90863, 7193, 55363},  # Harrison's Flowers, Harrison Bergeron, ...; Ford Fairlane
}
TAGGED_HARRISON_FORD = {1196}
TAGGED_SPIELBERG = {4370, 1198}  # A.I., Raiders of the Lost Ark


@pytest.fixture(scope="module")
def tom_index(
    movie_slice: pd.DataFrame, latest_small: Tables, index_of: Callable[[str, pd.DataFrame], BuiltIndex]
) -> BuiltIndex:
    """The slice plus the named films above, without film details (the default data set: no cast, no plots)."""
    named = TAGGED_TOM_HANKS | FIRST_NAME_ONLY | TAGGED_TOM_HARDY | TAGGED_HARRISON_FORD | TAGGED_SPIELBERG
    named |= set().union(*NAME_WORDS_IN_TITLES.values())
    extra = latest_small.movies[latest_small.movies["movie_id"].isin(named)]
    movies = pd.concat([movie_slice, extra]).drop_duplicates("movie_id").reset_index(drop=True)
    return index_of("search-tom", movies[["movie_id", "title", "year", "genres"]].copy())


def _cast_of(index: BuiltIndex) -> dict[int, set[str]]:
    movies = index.movies
    return {
        int(m): set(list(c) + list(d))
        for m, c, d in zip(movies["movie_id"], movies["cast"], movies["directors"], strict=True)
    }


def test_a_name_reads_as_a_person_and_returns_only_their_films(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("tom hanks", k=20)
    assert [(u.kind, u.value, u.source) for u in result.understood] == [("person", "Tom Hanks", "people")]
    cast = _cast_of(small_index)
    assert len(result.hits) >= 3
    assert all("Tom Hanks" in cast[h.movie_id] for h in result.hits)
    assert not result.people_need_details


def test_a_misspelt_name_still_finds_the_person(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("tom hnaks", k=20)
    assert [u.value for u in result.understood if u.kind == "person"] == ["Tom Hanks"]


def test_a_person_and_a_genre_filter_together_and_a_removed_genre_stops_filtering(small_index: BuiltIndex) -> None:
    both = small_index.engine.search("tom hanks comedies", k=20)
    assert [(u.kind, u.value) for u in both.understood] == [("person", "Tom Hanks"), ("genre", "Comedy")]
    assert both.hits and all("Comedy" in h.genres for h in both.hits)
    person_only = small_index.engine.search("tom hanks comedies", k=20, ignore=("genre:Comedy",))
    assert [(u.kind, u.value) for u in person_only.understood] == [("person", "Tom Hanks")]
    cast = _cast_of(small_index)
    assert all("Tom Hanks" in cast[h.movie_id] for h in person_only.hits)
    # "comedies" is a plain word now: it ranks his films, it no longer excludes any.
    assert person_only.filters.genres == () and len(person_only.hits) >= len(both.hits)


def test_a_decade_and_a_genre_filter_by_year_and_genre(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("90s sci-fi", k=20)
    assert [(u.kind, u.value) for u in result.understood] == [("decade", "1990s"), ("genre", "Sci-Fi")]
    assert result.hits
    assert all(h.year is not None and 1990 <= h.year <= 1999 and "Sci-Fi" in h.genres for h in result.hits)


def test_a_mood_lifts_a_genre_without_filtering(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("funny movie about toys", k=20)
    assert ("mood", "Comedy") in [(u.kind, u.value) for u in result.understood]
    assert result.hits[0].movie_id in {1, 3114}  # Toy Story, Toy Story 2


def test_a_theme_reads_the_keywords_by_stem(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("films about giant robots", k=20)
    themes = [u for u in result.understood if u.kind == "theme"]
    assert [(u.value, u.source) for u in themes] == [("giant robot", "keywords")]
    assert "theme" in result.hits[0].matched_by


@pytest.mark.parametrize("query", ["star wars", "the godfather", "toy story"])
def test_a_title_query_is_not_read_as_people_or_genres(small_index: BuiltIndex, query: str) -> None:
    assert small_index.engine.search(query, k=5).understood == ()


def test_without_cast_data_a_name_finds_the_films_tagged_with_it_and_never_a_first_name_match(
    tom_index: BuiltIndex,
) -> None:
    result = tom_index.engine.search("tom hanks", k=20)
    assert result.people_need_details
    assert [(u.kind, u.value, u.source) for u in result.understood] == [("person", "Tom Hanks", "tags")]
    assert {h.movie_id for h in result.hits} == TAGGED_TOM_HANKS
    assert not {h.movie_id for h in result.hits} & FIRST_NAME_ONLY


def test_without_cast_data_a_removed_person_reads_the_words_again(tom_index: BuiltIndex) -> None:
    result = tom_index.engine.search("tom hanks", k=20, ignore=("person:Tom Hanks",))
    assert result.understood == () and not result.people_need_details
    assert result.hits  # the old word search: whatever matches "tom" and "hanks"


def test_a_place_tag_is_not_read_as_a_person(tom_index: BuiltIndex) -> None:
    # "New York" is written like a name, but "york" is a title word: a theme at most, never "needs film details".
    result = tom_index.engine.search("new york", k=5)
    assert not result.people_need_details
    assert all(u.kind != "person" for u in result.understood)


def test_single_retriever_modes_read_nothing(small_index: BuiltIndex) -> None:
    for mode in ("semantic", "lexical", "title"):
        assert small_index.engine.search("tom hanks comedies", mode=mode, k=5).understood == ()


def test_understanding_can_be_turned_off(small_index: BuiltIndex) -> None:
    ranking = small_index.config.ranking.model_copy(update={"understand": False})
    off = type(small_index.engine).load(small_index.path, small_index.config.model_copy(update={"ranking": ranking}))
    assert off.search("tom hanks comedies", k=5).understood == ()


def test_without_cast_data_an_untagged_name_says_so_instead_of_matching_its_first_name(tom_index: BuiltIndex) -> None:
    # "tom" starts names viewers tagged (Tom Hanks, Tom Hardy); no film is tagged "Tom Cruise", and no cast list.
    result = tom_index.engine.search("tom cruise", k=20)
    assert [(u.kind, u.value, u.source) for u in result.understood] == [("person", "Tom Cruise", "query")]
    assert result.people_need_details and result.hits == [] and not result.no_close_match


@pytest.mark.parametrize("query", ["julia roberts", "meg ryan"])
def test_without_cast_data_an_untagged_full_name_returns_no_film_that_only_shares_a_name_word(
    tom_index: BuiltIndex, query: str
) -> None:
    # The defect: "julia roberts" returned Julia (1977), Being Julia and Julie & Julia. No film is tagged with her.
    result = tom_index.engine.search(query, k=20)
    assert [(u.kind, u.value, u.source) for u in result.understood] == [("person", query.title(), "query")]
    assert result.people_need_details and result.hits == []


def test_without_cast_data_a_tagged_name_whose_surname_is_a_title_word_reads_as_that_person(
    tom_index: BuiltIndex,
) -> None:
    result = tom_index.engine.search("harrison ford", k=20)
    assert [(u.kind, u.value, u.source) for u in result.understood] == [("person", "Harrison Ford", "tags")]
    assert {h.movie_id for h in result.hits} == TAGGED_HARRISON_FORD


def test_without_cast_data_a_surname_alone_finds_the_films_tagged_with_the_name(tom_index: BuiltIndex) -> None:
    result = tom_index.engine.search("spielberg", k=20)
    assert {h.movie_id for h in result.hits[:2]} == TAGGED_SPIELBERG


@pytest.mark.parametrize(("query", "title"), [("tom jones", 1948), ("bob roberts", 1171), ("julie julia", 70293)])
def test_a_title_that_looks_like_a_name_is_searched_as_a_title(tom_index: BuiltIndex, query: str, title: int) -> None:
    result = tom_index.engine.search(query, k=5)
    assert all(u.kind != "person" for u in result.understood) and not result.people_need_details
    assert result.hits[0].movie_id == title


@pytest.mark.parametrize("query", ["julia roberts", "tom hanks"])
def test_with_cast_data_a_full_name_returns_only_that_persons_films(small_index: BuiltIndex, query: str) -> None:
    result = small_index.engine.search(query, k=20)
    cast = _cast_of(small_index)
    assert [(u.kind, u.value) for u in result.understood] == [("person", query.title())]
    assert result.hits and all(query.title() in cast[h.movie_id] for h in result.hits)


def test_with_cast_data_a_surname_alone_leads_with_that_persons_films(small_index: BuiltIndex) -> None:
    result = small_index.engine.search("spielberg", k=10)
    cast = _cast_of(small_index)
    assert result.hits and "Steven Spielberg" in cast[result.hits[0].movie_id]


def test_stop_words_in_a_description_are_not_read_as_a_name(tom_index: BuiltIndex) -> None:
    # The census lists hold "in" as a first name and "world" as a surname; "in world" is no one.
    result = tom_index.engine.search("soldiers in world war ii", k=5)
    assert all(u.kind != "person" for u in result.understood) and not result.people_need_details

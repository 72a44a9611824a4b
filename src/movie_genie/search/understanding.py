"""How a query is understood before it is searched: the people, genres, decades, moods and themes it names.

"tom hanks comedies" names a person and a genre: both filter (his films that are comedies); "90s sci-fi" a decade
and a genre; "funny movie about a dog" a mood (Comedy lifts films, filters none) and a theme (films whose keywords
or user tags say "dog" join and rise). Names and themes come from the catalogue's own fields (fields.py); genres
from its genre list (a genre named by its own word, plural or stem filters: "comedies", "western"); moods and the
few other ways people say a genre ("scary", "funny", "scifi") are the small table below. The words a filter took
leave the text the retrievers read, so "tom hanks" no longer finds Peeping Tom by its first name.

Each reading is an `Understood` the API returns and the app shows as a chip; a caller passes the keys it wants
ignored (`ignore`) and those words are read as plain words again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from typing import Literal

import numpy as np

from movie_genie.search.fields import CatalogueFields, FieldMatch
from movie_genie.search.lexical import QUERY_STOPWORDS
from movie_genie.search.titles import normalise

Kind = Literal["person", "genre", "mood", "decade", "theme"]
# Other ways people name a genre; a word here filters like the genre's own name.
GENRE_ALIASES: dict[str, str] = {
    "scifi": "Sci-Fi", "science fiction": "Sci-Fi", "cartoon": "Animation", "cartoons": "Animation",
    "noir": "Film-Noir", "documentaries": "Documentary", "whodunit": "Mystery",
}  # fmt: skip
# Words that describe a film's mood: they lift films of the genre (among found films) but exclude none.
MOOD_WORDS: dict[str, str] = {
    "funny": "Comedy", "hilarious": "Comedy", "comic": "Comedy", "scary": "Horror", "frightening": "Horror",
    "creepy": "Horror", "romantic": "Romance", "love": "Romance", "kids": "Children", "family": "Children",
    "suspense": "Thriller", "suspenseful": "Thriller", "gangster": "Crime", "epic": "Adventure",
}  # fmt: skip
_WORD_DECADES = {
    "fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990,
}  # fmt: skip
_DECADE = re.compile(r"(?:(1[89]|20)?([0-9])0s)")
_MAX_SPAN = 4  # words in the longest name or theme looked up


@dataclass(frozen=True)
class Understood:
    """One reading of part of the query: a person, genre, decade, mood or theme, and the words it came from."""

    kind: Kind
    value: str  # as shown: "Tom Hanks", "Comedy", "1990s", "alien invasion"
    words: str  # the query's words it read ("tom hanks", "comedies", "90s")
    source: str  # the field it matched: people, tags, keywords, genres or year
    rows: np.ndarray | None = None  # int64 films of a person or theme (None for genres, moods and decades)
    filters: bool = False  # True: excludes films (a person, a decade, a genre listed as a facet); False: lifts

    @property
    def key(self) -> str:
        """What a caller sends back to ignore this reading: "person:Tom Hanks"."""
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Understanding:
    """Every reading of a query, the words left for the retrievers, and whether a name went unread."""

    items: tuple[Understood, ...] = ()
    rest: str = ""  # the query without the words a filter took
    people_need_details: bool = False  # a name only user tags could read: the catalogue has no cast data

    def of(self, *kinds: Kind) -> list[Understood]:
        """The readings of these kinds, in query order."""
        return [u for u in self.items if u.kind in kinds]


class QueryReader:
    """Reads queries against one catalogue's fields and genres."""

    def __init__(
        self,
        fields: CatalogueFields,
        genres: Sequence[str],
        title_word: Callable[[str], bool],
        title_phrase: Callable[[str], bool],
    ) -> None:
        self._fields = fields
        # Whether a word occurs in some title; one or two letters ("II", "X") count as title words.
        self._title_word = lambda word: len(word) < 3 or title_word(word)
        self._title_phrase = title_phrase  # whether some title holds the words in this order ("tom jones")
        if not fields.has_people:
            _census_names()  # read the name lists with the index (~0.1 s), not on the first query that needs them
        self._genres: dict[str, str] = {fields.stem_key(g): g for g in genres}
        known = {g.lower(): g for g in genres}
        self._genres.update(
            {fields.stem_key(w): known[g.lower()] for w, g in GENRE_ALIASES.items() if g.lower() in known}
        )
        self._moods = {w: known[g.lower()] for w, g in MOOD_WORDS.items() if g.lower() in known}

    def read(self, text: str, ignore: Collection[str] = ()) -> Understanding:
        """The readings of `text`, longest phrase first from the left; readings whose key is in `ignore` are
        skipped and their words read as plain words."""
        words = normalise(text).split()
        found: list[tuple[Understood, int, int]] = []  # (reading, first word, words taken)
        i = 0
        while i < len(words):
            reading, width = self._read_at(words, i, ignore)
            if reading is not None:
                found.append((reading, i, width))
            i += width
        # A genre filters when the query lists facets ("90s sci-fi", "tom hanks comedies"); in a description
        # ("submarine thriller", "time travel adventure") it lifts, because many fitting films carry other genres.
        facets = any(r.kind in ("person", "decade") for r, _, _ in found)
        taken = {j for r, at, width in found if r.kind in ("person", "decade") for j in range(at, at + width)}
        described = any(
            w not in QUERY_STOPWORDS and j not in taken for j, w in enumerate(words) if not _genre(found, j)
        )
        items = [
            replace(r, filters=r.kind in ("person", "decade") or (r.kind == "genre" and (facets or not described)))
            for r, _, _ in found
        ]
        dropped = {
            j for r, (_, at, width) in zip(items, found, strict=True) if r.filters for j in range(at, at + width)
        }
        rest = " ".join(w for j, w in enumerate(words) if j not in dropped)
        need_details = any(r.kind == "person" and r.source in ("tags", "query") for r in items)
        return Understanding(tuple(items), rest, need_details)

    def _read_at(self, words: list[str], i: int, ignore: Collection[str]) -> tuple[Understood | None, int]:
        """The longest reading that starts at word i and how many words it took; (None, 1) when none does. Words
        with an ignored reading are plain words, read no other way: (None, their number)."""
        for width in range(min(_MAX_SPAN, len(words) - i), 0, -1):
            span = " ".join(words[i : i + width])
            if width == 1 and span in QUERY_STOPWORDS:
                break
            readings = self._readings(span, width)
            if any(r.key in ignore for r in readings):
                return None, width
            if readings:
                return readings[0], width
        return None, 1

    def _readings(self, span: str, width: int) -> list[Understood]:
        """Every way this span can be read, most specific first."""
        out: list[Understood] = []
        if width >= 2:
            person = self._fields.person(span) if self._fields.has_people else self._name_tag(span)
            if person is not None:
                out.append(Understood("person", person.value, span, person.field, person.rows))
            elif width == 2 and self._unknown_name(span):
                # "tom cruise" with no cast data and no tag: say so, rather than match "tom" in titles.
                out.append(Understood("person", span.title(), span, "query", np.empty(0, dtype=np.int64)))
        if width <= 2:
            genre = self._genres.get(self._fields.stem_key(span))
            if genre is not None:
                out.append(Understood("genre", genre, span, "genres"))
        if width == 1:
            decade = _decade(span)
            if decade is not None:
                out.append(Understood("decade", f"{decade}s", span, "year"))
            if span in self._moods:
                out.append(Understood("mood", self._moods[span], span, "genres"))
        if width <= 3 and (themes := self._fields.theme(span)):
            rows = np.unique(np.concatenate([m.rows for m in themes]))
            out.append(Understood("theme", themes[0].value, span, "+".join(m.field for m in themes), rows))
        return out

    def _unknown_name(self, span: str) -> bool:
        """Whether a two-word span looks like a name the catalogue cannot look up: no cast data, a first name and a
        surname (_looks_like_name), no title holds it ("tom jones"), and its second word is no stop word, genre,
        decade, mood, tag or keyword."""
        second = span.split(" ")[1]
        if self._fields.has_people or not _looks_like_name(span) or second in QUERY_STOPWORDS:
            return False
        plain = self._fields.stem_key(second) not in self._genres and _decade(second) is None
        return plain and second not in self._moods and not self._fields.theme(span) and not self._title_phrase(span)

    def _name_tag(self, span: str) -> FieldMatch | None:
        """Without cast data, a user tag written as a name reads as a person when no title holds it and it looks
        like a name or its last word is in no title ("Tom Hanks", "Harrison Ford"; not "New York" or "Star Wars",
        which stay themes)."""
        match = self._fields.name_tag(span)
        if match is None or self._title_phrase(span):
            return None
        if _looks_like_name(span) or not self._title_word(span.split(" ")[-1]):
            return match
        return None


@cache
def _census_names() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, surnames), lower-cased, from the US census lists the `names` package ships (about 5,500 first
    names, 88,800 surnames)."""

    def read(*lists: str) -> frozenset[str]:
        data = files("names")
        return frozenset(
            line.split(" ", 1)[0].lower() for name in lists for line in data.joinpath(name).read_text().splitlines()
        )

    return read("dist.male.first", "dist.female.first"), read("dist.all.last")


def _looks_like_name(span: str) -> bool:
    """Whether a span of two or more words starts with a first name and ends with a surname ("julia roberts",
    "meg ryan"; not "star wars" or "alien invasion"). Without cast data this is the only sign that a query names
    a person, so "julia" alone no longer finds "Julie & Julia" when "julia roberts" was asked for."""
    words = span.split(" ")
    first, last = _census_names()  # the lists hold a few words too ("in", "world"): stop words are no names
    named = len(words) >= 2 and words[0] in first and words[-1] in last
    return named and not any(w in QUERY_STOPWORDS for w in words)


def _genre(found: list[tuple[Understood, int, int]], word: int) -> bool:
    """Whether a genre reading took this word."""
    return any(r.kind == "genre" and at <= word < at + width for r, at, width in found)


def _decade(word: str) -> int | None:
    """1990 for "90s", "1990s" or "nineties"; None for any other word."""
    if word in _WORD_DECADES:
        return _WORD_DECADES[word]
    found = _DECADE.fullmatch(word)
    if found is None:
        return None
    century, digit = found.group(1), int(found.group(2))
    if century is not None:
        return int(century) * 100 + digit * 10
    return 2000 + digit * 10 if digit <= 1 else 1900 + digit * 10

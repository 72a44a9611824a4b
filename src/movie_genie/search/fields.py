"""The catalogue's fields as search sees them: people (directors and cast), user tags and keywords, each a
dictionary from a normalised phrase to the films that carry it. The catalogue itself is the dictionary of names
and themes: no hand-made list of people.

`field_columns` runs at index time (it adds list columns to catalogue.parquet); `CatalogueFields` is built from
those columns when the engine loads. Tags keep the spelling most users gave them, because on a data set without
cast data a tag that people write as a proper name ("Tom Hanks", every word capitalised) is the only sign that a
query names a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import Stemmer
from rapidfuzz import fuzz, process

from movie_genie.data.tags import top_tags
from movie_genie.search.documents import _as_list
from movie_genie.search.titles import normalise

FIELD_COLUMNS = ("people", "tags", "keywords")
# A tag written like a name: two to four capitalised words ("Tom Hanks", "Samuel L. Jackson", "Robert Downey Jr.").
_NAME_SPELLING = re.compile(r"[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){1,3}")
# Fuzzy score (rapidfuzz ratio, 0-100) a query span needs to name a person ("tom hanx" -> Tom Hanks).
PERSON_MIN_SCORE = 88.0


def field_columns(movies: pd.DataFrame, tags: pd.DataFrame | None, max_tags: int) -> dict[str, list[list[str]]]:
    """Per movie (in the table's order): its people (directors first, then cast), user tags as most users spell
    them, and keywords. Empty lists where the data set has no such column."""
    spelling = _tag_spellings(tags)
    tag_map = top_tags(tags, max_tags)
    columns = set(movies.columns)
    people, tag_lists, keywords = [], [], []
    for row in movies.to_dict("records"):
        names = _as_list(row.get("directors")) if "directors" in columns else []
        names += [n for n in (_as_list(row.get("cast")) if "cast" in columns else []) if n not in names]
        people.append(names)
        tag_lists.append([spelling.get(t, t) for t in tag_map.get(int(row["movie_id"]), [])])
        keywords.append(_as_list(row.get("keywords")) if "keywords" in columns else [])
    return {"people": people, "tags": tag_lists, "keywords": keywords}


def _tag_spellings(tags: pd.DataFrame | None) -> dict[str, str]:
    """Lower-cased tag -> the spelling most of its uses have ("tom hanks" -> "Tom Hanks")."""
    if tags is None or tags.empty:
        return {}
    spelt = tags["tag"].astype(str).str.strip()
    counts = pd.DataFrame({"low": spelt.str.lower(), "tag": spelt}).value_counts().reset_index(name="n")
    counts = counts.sort_values(["low", "n", "tag"], ascending=[True, False, True])
    return dict(zip(counts.drop_duplicates("low")["low"], counts.drop_duplicates("low")["tag"], strict=True))


@dataclass(frozen=True)
class FieldMatch:
    """A phrase of one field that a query names, and the films (rows) that carry it."""

    field: str  # "people", "tags" or "keywords"
    value: str  # as the catalogue spells it: "Tom Hanks", "alien invasion"
    rows: np.ndarray  # int64 [m] catalogue rows


class CatalogueFields:
    """Phrase -> films dictionaries of the people, tag and keyword fields, with name look-ups for queries."""

    def __init__(self, catalogue: pd.DataFrame, stemmer_language: str = "english") -> None:
        self._stemmer = Stemmer.Stemmer(stemmer_language)
        empty: list[list[str]] = [[] for _ in range(len(catalogue))]
        lists = {c: [_as_list(v) for v in catalogue[c]] if c in catalogue.columns else empty for c in FIELD_COLUMNS}
        self._people = _phrase_rows(lists["people"], normalise)
        # Themes match by stems, so "vampires" finds the keyword "vampire" and "talking animals" "talking animal".
        self._themes = {
            field: _phrase_rows(lists[field], self.stem_key) for field in ("keywords", "tags")
        }  # fmt: skip
        self._name_tags = {
            key: entry for key, entry in _phrase_rows(lists["tags"], normalise).items() if _name_like(entry[0])
        }
        by_word: dict[str, list[str]] = {}
        for key in self._people:
            for word in set(key.split(" ")):
                by_word.setdefault(word, []).append(key)
        self._people_by_word = by_word  # a name's words -> the names that hold them (fuzzy candidates)

    @property
    def has_people(self) -> bool:
        """Whether the catalogue knows who is in its films (cast or directors from film details)."""
        return bool(self._people)

    def stem_key(self, phrase: str) -> str:
        """A phrase as theme look-ups compare it: normalised words, each stemmed."""
        return " ".join(self._stemmer.stemWords(normalise(phrase).split()))

    def person(self, span: str) -> FieldMatch | None:
        """The person a span of two or more words names: the exact name, else the closest name sharing a word
        with it (>= PERSON_MIN_SCORE; the one in most films wins ties)."""
        key = normalise(span)
        if " " not in key:
            return None
        if key in self._people:
            return FieldMatch("people", *self._people[key])
        candidates = sorted({name for word in key.split(" ") for name in self._people_by_word.get(word, [])})
        if not candidates:
            return None
        scores = process.cdist([key], candidates, scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
        best = float(scores.max())
        if best < PERSON_MIN_SCORE:
            return None
        close = [candidates[i] for i in np.flatnonzero(scores >= best - 1e-6)]
        name = max(close, key=lambda c: (len(self._people[c][1]), c))
        return FieldMatch("people", *self._people[name])

    def name_tag(self, span: str) -> FieldMatch | None:
        """A user tag written as a name that the span spells exactly ("tom hanks" -> the tag "Tom Hanks")."""
        entry = self._name_tags.get(normalise(span))
        return FieldMatch("tags", *entry) if entry is not None else None

    def theme(self, span: str) -> list[FieldMatch]:
        """The keyword and the tag a span names, compared by stems ("dinosaurs" -> keyword "dinosaur")."""
        key = self.stem_key(span)
        return [FieldMatch(field, *table[key]) for field, table in self._themes.items() if key in table]


def _phrase_rows(lists: Sequence[Iterable[str]], key_of: Callable[[str], str]) -> dict[str, tuple[str, np.ndarray]]:
    """{key: (first spelling seen, rows that carry it)} over every film's phrases."""
    rows: dict[str, list[int]] = {}
    spelling: dict[str, str] = {}
    for row, phrases in enumerate(lists):
        for phrase in phrases:
            key = key_of(phrase)
            if not key:
                continue
            spelling.setdefault(key, phrase)
            found = rows.setdefault(key, [])
            if not found or found[-1] != row:
                found.append(row)
    return {k: (spelling[k], np.asarray(v, dtype=np.int64)) for k, v in rows.items()}


def _name_like(spelling: str) -> bool:
    return _NAME_SPELLING.fullmatch(spelling) is not None

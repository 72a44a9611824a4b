"""SearchEngine: what the API holds. Loads artifacts/index once, then answers searches and suggestions in
milliseconds without torch.

Modes:
- "semantic": cosine between the query's MiniLM vector and each movie document's vector (FAISS);
- "lexical":  BM25 over the same documents, title boosted;
- "title":    typo-tolerant title match (rapidfuzz) plus titles that start with the query;
- "hybrid":   weighted reciprocal rank fusion of the three lists (score = sum_l w_l / (rrf_k + rank_l)).
Personalisation: the caller passes affinities for candidate movies (the API uses the Two-Tower model; search
never imports models). They are blended with the fused score, and the result says `personalised=True` only when
that changed the ranking of the returned hits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import faiss
import numpy as np
import pandas as pd

from movie_genie.search.build import BM25_DIR, CATALOGUE_FILE, INDEX_VERSION, MANIFEST_FILE, VECTORS_FILE
from movie_genie.search.config import SearchConfig
from movie_genie.search.encoder import OnnxEncoder
from movie_genie.search.errors import IndexMissingError, SearchInputError
from movie_genie.search.lexical import LexicalIndex
from movie_genie.search.titles import TitleMatcher, normalise
from movie_genie.search.vector import load_vector_index, vector_search

Mode = Literal["hybrid", "semantic", "lexical", "title"]
MODES: tuple[str, ...] = ("hybrid", "semantic", "lexical", "title")
PersonalScores = Mapping[int, float] | Callable[[Sequence[int]], Mapping[int, float]]


@dataclass(frozen=True)
class SearchFilters:
    """Optional filters; genres match if a movie has ANY of them (case-insensitive)."""

    genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    min_ratings: int = 0

    @property
    def active(self) -> bool:
        """True when any filter would exclude a movie."""
        return bool(self.genres) or self.year_min is not None or self.year_max is not None or self.min_ratings > 0


@dataclass(frozen=True)
class SearchHit:
    """One ranked film; `matched_by` names the lists (semantic/lexical/title/personal) that put it here."""

    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    score: float
    matched_by: tuple[str, ...]


@dataclass(frozen=True)
class SearchResult:
    """Ranked hits for one query, and whether personal affinities really re-ranked them."""

    query: str
    mode: str
    hits: list[SearchHit]
    personalised: bool
    took_ms: float
    filters: SearchFilters = field(default_factory=SearchFilters)


@dataclass(frozen=True)
class Suggestion:
    """A title for the search box's drop-down."""

    movie_id: int
    title: str
    year: int | None
    score: float


class SearchEngine:
    """Every search artefact in memory; thread-safe for concurrent reads."""

    def __init__(
        self,
        catalogue: pd.DataFrame,
        vectors: object,
        lexical: LexicalIndex,
        encoder: OnnxEncoder,
        config: SearchConfig,
        manifest: dict[str, object],
    ) -> None:
        self.config = config
        self.manifest = manifest
        self._vectors = vectors
        self._lexical = lexical
        self._encoder = encoder
        self._movie_ids = catalogue["movie_id"].to_numpy(dtype=np.int64)  # [n] row -> movie id
        self._row_of = {int(m): i for i, m in enumerate(self._movie_ids)}
        self._titles = catalogue["title"].astype(str).tolist()
        self._years = catalogue["year"].astype("Int64").to_numpy(dtype=np.int64, na_value=-1)  # [n], -1 unknown
        self._genres = [tuple(str(g) for g in gs) for gs in catalogue["genres"]]
        self._rating_counts = catalogue["rating_count"].to_numpy(dtype=np.int64)  # [n]
        known: dict[str, str] = {}
        for gs in self._genres:
            for g in gs:
                known.setdefault(g.lower(), g)
        self._genre_names = known  # lower-case -> display name
        self._genre_masks = {
            low: np.fromiter((name in gs for gs in self._genres), dtype=bool, count=len(self._genres))
            for low, name in known.items()
        }
        self._matcher = TitleMatcher(self._titles, self._rating_counts)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, index_dir: Path | str, config: SearchConfig | None = None) -> SearchEngine:
        """Open an index folder written by `movie-genie index`; `config` overrides the one stored in it."""
        index_dir = Path(index_dir)
        manifest_path = index_dir / MANIFEST_FILE
        if not manifest_path.exists():
            raise IndexMissingError(f"no search index in {index_dir}: run `movie-genie embed` and `movie-genie index`")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("version") != INDEX_VERSION:
            raise IndexMissingError(
                f"{index_dir} was built by another version ({manifest.get('version')}): run `movie-genie index`"
            )
        config = config or SearchConfig.from_dict(manifest["config"])
        # One query is too small to split across cores; OpenMP workers spinning beside other processes (web
        # workers, training) cost more than they give. Process-wide setting, like torch.set_num_threads.
        faiss.omp_set_num_threads(config.onnx.threads)
        catalogue = pd.read_parquet(index_dir / CATALOGUE_FILE)
        return cls(
            catalogue=catalogue,
            vectors=load_vector_index(index_dir / VECTORS_FILE),
            lexical=LexicalIndex.load(index_dir / BM25_DIR),
            encoder=OnnxEncoder.load(index_dir, config.encoder, config.onnx),
            config=config,
            manifest=manifest,
        )

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        return len(self._movie_ids)

    @property
    def genres(self) -> list[str]:
        """Genres a filter may name, sorted."""
        return sorted(self._genre_names.values())

    @property
    def encoder(self) -> OnnxEncoder:
        """The query encoder (exposed for benchmarks and cache statistics)."""
        return self._encoder

    def search(
        self,
        query: str,
        mode: str = "hybrid",
        k: int = 20,
        filters: SearchFilters | None = None,
        personal_scores: PersonalScores | None = None,
    ) -> SearchResult:
        """Rank movies for a plain-language query; raise SearchInputError for invalid input."""
        start = time.perf_counter()
        text = self._check_query(query)
        if mode not in MODES:
            raise SearchInputError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
        max_k = self.config.ranking.max_k
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= max_k:
            raise SearchInputError(f"k must be an integer from 1 to {max_k}, got {k!r}")
        filters = filters or SearchFilters()
        allowed = self._mask(filters)
        if allowed is not None and not allowed.any():
            return SearchResult(text, mode, [], False, _ms(start), filters)

        lists = self._ranked_lists(text, cast(Mode, mode), allowed)
        fused = self._fuse(lists) if mode == "hybrid" else lists[mode]
        rows = list(fused)  # ordered best first
        scores = dict(fused)
        base_top = rows[:k]

        personalised = False
        used_personal: set[int] = set()
        if personal_scores is not None and self.config.ranking.personal_weight > 0 and rows:
            rows, scores, used_personal = self._personalise(rows, scores, personal_scores)
            personalised = rows[:k] != base_top

        membership = {name: set(ranked) for name, ranked in lists.items()}
        hits = []
        for row in rows[:k]:
            matched = tuple(name for name in ("semantic", "lexical", "title") if row in membership.get(name, ()))
            if row in used_personal and personalised:
                matched += ("personal",)
            hits.append(self._hit(row, scores[row], matched))
        return SearchResult(text, mode, hits, personalised, _ms(start), filters)

    def suggest(self, prefix: str, k: int = 8, filters: SearchFilters | None = None) -> list[Suggestion]:
        """Titles for a typed prefix (title starts, then word starts, then typo-tolerant), popular first."""
        if not isinstance(prefix, str) or not prefix.strip():
            return []
        if len(prefix) > self.config.ranking.max_query_chars:
            raise SearchInputError(f"prefix is longer than {self.config.ranking.max_query_chars} characters")
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.config.ranking.max_k:
            raise SearchInputError(f"k must be an integer from 1 to {self.config.ranking.max_k}, got {k!r}")
        allowed = self._mask(filters or SearchFilters())
        pairs = self._matcher.suggest(prefix, k, self.config.ranking.title_min_score, allowed)
        return [
            Suggestion(
                int(self._movie_ids[r]), self._titles[r], int(y) if (y := self._years[r]) >= 0 else None, round(s, 2)
            )
            for r, s in pairs
        ]

    def embed_query(self, text: str) -> np.ndarray:
        """The query vector float32 [384] (cached)."""
        return self._encoder.embed_query(text)

    # ------------------------------------------------------------------ internals

    def _check_query(self, query: object) -> str:
        if not isinstance(query, str):
            raise SearchInputError(f"query must be text, got {type(query).__name__}")
        text = " ".join(query.split())
        if not text:
            raise SearchInputError("the query is empty: type a few words or part of a title")
        limit = self.config.ranking.max_query_chars
        if len(text) > limit:
            raise SearchInputError(f"the query has {len(text)} characters; shorten it to at most {limit}")
        if not any(c.isalnum() for c in text):
            raise SearchInputError("the query has no letters or digits: describe a film or type part of a title")
        return text

    def _mask(self, filters: SearchFilters) -> np.ndarray | None:
        """Allowed rows bool [n], or None when no filter is set; raise SearchInputError on invalid filters."""
        if not filters.active:
            if filters.min_ratings < 0:
                raise SearchInputError(f"min_ratings must be 0 or more, got {filters.min_ratings}")
            return None
        if filters.year_min is not None and filters.year_max is not None and filters.year_min > filters.year_max:
            raise SearchInputError(
                f"year_min {filters.year_min} is after year_max {filters.year_max}: swap them or drop one"
            )
        mask = np.ones(len(self._movie_ids), dtype=bool)
        if filters.genres:
            wanted = [g.strip().lower() for g in filters.genres if g and g.strip()]
            unknown = [g for g in wanted if g not in self._genre_masks]
            if unknown:
                raise SearchInputError(f"unknown genre(s) {', '.join(unknown)}: use any of {', '.join(self.genres)}")
            any_genre = np.zeros_like(mask)
            for g in wanted:
                any_genre |= self._genre_masks[g]
            mask &= any_genre
        if filters.year_min is not None:
            mask &= self._years >= filters.year_min
        if filters.year_max is not None:
            mask &= (self._years <= filters.year_max) & (self._years >= 0)
        if filters.min_ratings:
            mask &= self._rating_counts >= filters.min_ratings
        return mask

    def _ranked_lists(self, text: str, mode: Mode, allowed: np.ndarray | None) -> dict[str, dict[int, float]]:
        """Each retriever's candidates as {row: score}, insertion-ordered best first."""
        rank = self.config.ranking
        lists: dict[str, dict[int, float]] = {}
        if mode in ("semantic", "hybrid"):
            vector = self._encoder.embed_query(text)
            ef = self.config.vector.hnsw_ef_search
            rows, sims = vector_search(self._vectors, vector, rank.candidates, ef, allowed)  # type: ignore[arg-type]
            lists["semantic"] = dict(zip(rows.tolist(), sims.tolist(), strict=True))
        if mode in ("lexical", "hybrid"):
            lists["lexical"] = _top(self._lexical.scores(text), rank.candidates, allowed, minimum=1e-9)
        if mode in ("title", "hybrid"):
            scores = self._matcher.scores(text)  # [n] 0-100
            # Titles that start with the query ("termin") count as full matches in title mode.
            for row, s in self._matcher.suggest(text, rank.candidates, 101.0, allowed):
                scores[row] = max(scores[row], s)
            lists["title"] = _top(
                scores, rank.candidates, allowed, minimum=rank.title_min_score, tie_break=self._rating_counts
            )
        return lists

    def _fuse(self, lists: Mapping[str, Mapping[int, float]]) -> dict[int, float]:
        """Weighted reciprocal rank fusion: sum over lists of weight / (rrf_k + rank), rank from 1."""
        rank = self.config.ranking
        weights = {"semantic": rank.semantic_weight, "lexical": rank.lexical_weight, "title": rank.title_weight}
        fused: dict[int, float] = {}
        for name, ranked in lists.items():
            for position, row in enumerate(ranked, start=1):
                fused[row] = fused.get(row, 0.0) + weights[name] / (rank.rrf_k + position)
        ordered = sorted(fused.items(), key=lambda item: (-item[1], -self._rating_counts[item[0]], item[0]))
        return dict(ordered[: rank.candidates])

    def _personalise(
        self, rows: list[int], scores: dict[int, float], personal: PersonalScores
    ) -> tuple[list[int], dict[int, float], set[int]]:
        """Blend min-max-normalised search scores with min-max-normalised affinities of the candidates."""
        ids = [int(self._movie_ids[r]) for r in rows]
        affinity = personal(ids) if callable(personal) else personal
        known = {r: float(affinity[m]) for r, m in zip(rows, ids, strict=True) if m in affinity}
        known = {r: a for r, a in known.items() if np.isfinite(a)}
        if not known:
            return rows, scores, set()
        w = self.config.ranking.personal_weight
        base = np.array([scores[r] for r in rows], dtype=np.float64)
        base = (base - base.min()) / (np.ptp(base) or 1.0)
        aff_values = np.array(list(known.values()), dtype=np.float64)
        lo, span = aff_values.min(), (np.ptp(aff_values) or 1.0)
        # A candidate without an affinity gets the lowest one: no evidence the user would like it.
        aff = np.array([(known.get(r, lo) - lo) / span for r in rows], dtype=np.float64)
        blended = (1 - w) * base + w * aff
        order = np.argsort(-blended, kind="stable")
        new_rows = [rows[i] for i in order]
        return new_rows, {rows[i]: float(blended[i]) for i in order}, set(known)

    def _hit(self, row: int, score: float, matched: tuple[str, ...]) -> SearchHit:
        year = int(self._years[row])
        return SearchHit(
            movie_id=int(self._movie_ids[row]),
            title=self._titles[row],
            year=year if year >= 0 else None,
            genres=self._genres[row],
            score=round(float(score), 6),
            matched_by=matched,
        )


def _top(
    scores: np.ndarray,
    k: int,
    allowed: np.ndarray | None,
    minimum: float,
    tie_break: np.ndarray | None = None,
) -> dict[int, float]:
    """Best k rows with score >= minimum among allowed rows, as {row: score} best first."""
    ok = scores >= minimum
    if allowed is not None:
        ok &= allowed
    candidates = np.flatnonzero(ok)
    if candidates.size == 0:
        return {}
    if candidates.size > k:
        candidates = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
    secondary = -tie_break[candidates] if tie_break is not None else candidates
    order = candidates[np.lexsort((secondary, -scores[candidates]))]
    return {int(r): float(scores[r]) for r in order}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


__all__ = [
    "MODES",
    "PersonalScores",
    "SearchEngine",
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "Suggestion",
    "normalise",
]

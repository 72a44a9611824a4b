"""Typed `search` section of params.yaml. `encoder` decides the embedded text (the DVC embed stage depends on it
only); the other sub-sections shape the index and how queries are ranked."""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError, model_validator

from movie_genie.config import ConfigError, Params, Section

# Keys older index manifests may hold that the ranking no longer reads (reciprocal rank fusion's constant).
_RETIRED_RANKING_KEYS = frozenset({"rrf_k"})


class EncoderConfig(Section):
    """Sentence encoder and the document text it embeds; changing any value re-embeds the changed documents."""

    max_seq_length: int = Field(default=256, ge=16, le=512)  # tokens; all-MiniLM-L6-v2 was trained with 256
    batch_size: int = Field(default=64, ge=1)  # documents per forward pass when embedding the catalogue
    max_keywords: int = Field(default=12, ge=0)  # keywords kept per movie document
    max_cast: int = Field(default=5, ge=0)  # cast names kept per movie document
    max_tags: int = Field(default=10, ge=0)  # most frequent user tags kept per movie document


class OnnxConfig(Section):
    """The ONNX copy of the encoder used at query time."""

    quantize_int8: bool = False  # int8 is ~2x faster but only ~0.99 mean / 0.97 min cosine to torch
    threads: int = Field(default=1, ge=1)  # onnxruntime + FAISS threads per process at query time
    query_cache_size: int = Field(default=2048, ge=0)  # LRU entries of query embeddings (0 disables)


class VectorConfig(Section):
    """FAISS: exact inner product for small catalogues, HNSW above `hnsw_min_movies`."""

    hnsw_min_movies: int = Field(default=50_000, ge=1)
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_construction: int = Field(default=200, ge=8)
    hnsw_ef_search: int = Field(default=128, ge=8)


class LexicalConfig(Section):
    """BM25 over the same documents; the title is repeated `title_boost` times to weigh it up."""

    k1: float = Field(default=1.5, gt=0)
    b: float = Field(default=0.75, ge=0, le=1)
    title_boost: int = Field(default=1, ge=1)
    stemmer: str = "english"  # a Snowball language (PyStemmer)


class RankingConfig(Section):
    """Query-time ranking: evidence weights, the relevance cut-off, the prior, personalisation, limits."""

    candidates: int = Field(default=200, ge=1)  # taken from each retriever before fusion
    # Each retriever's evidence is scaled to 0-1 per query (semantic and BM25 relative to the best candidate,
    # titles absolute), then fused as a weighted mean with these weights.
    semantic_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    title_weight: float = Field(default=1.0, ge=0)
    title_min_score: float = Field(default=80.0, ge=0, le=100)  # rapidfuzz 0-100; below it a title is no match
    title_contains_score: float = Field(default=0.9, ge=0, le=1)  # title evidence when it holds the query's words
    min_relevance: float = Field(default=0.25, ge=0, le=1)  # results stop below this share of the best relevance
    title_query_min_relevance: float = Field(default=0.4, ge=0, le=1)  # the same when a title holds the query
    genre_weight: float = Field(default=0.5, ge=0)  # evidence for a film of a mood's genre ("scary": Horror)
    theme_weight: float = Field(default=0.5, ge=0)  # evidence for a film whose keywords or tags the query names
    understand: bool = True  # read people, genres, decades, moods and themes (understanding.py) in hybrid mode
    prior_weight: float = Field(default=0.4, ge=0, le=1)  # share of the popularity x quality prior in the order
    prior_damping: float = Field(default=10.0, ge=0)  # mean rating damped by this many ratings at the global mean
    spelling_min_score: float = Field(default=75.0, ge=0, le=100)  # rapidfuzz 0-100 for a "did you mean" word
    # "Nothing close": a query none of whose retrievers has real evidence returns no results instead of strangers.
    # Close = a title matches (title_min_score, a title holding or starting with the query, or a "did you mean"),
    # or at least this share of its words (stop words aside) occur in some document (0 turns the rule off) ...
    close_min_known_share: float = Field(default=0.5, ge=0, le=1)
    # ... or the best document's cosine to the query reaches this (random letter strings reach 0.45-0.55 here).
    close_min_similarity: float = Field(default=0.55, ge=-1, le=1)
    personal_weight: float = Field(default=0.3, ge=0, le=1)  # share of the Two-Tower affinity among relevant hits
    max_k: int = Field(default=100, ge=1)
    max_query_chars: int = Field(default=500, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _drop_retired(cls, raw: Any) -> Any:
        """Indexes built before score fusion stored `rrf_k` in their manifest; it no longer means anything."""
        if isinstance(raw, dict):
            return {k: v for k, v in raw.items() if k not in _RETIRED_RANKING_KEYS}
        return raw


class CollabConfig(Section):
    """Collaborative neighbourhood: item vectors from who rated what (truncated SVD, built by `movie-genie index`).

    At query time the best hits' vectors form a centroid; films near it gain `weight` of evidence. Without plot
    summaries this is what lifts films that match the topic but not the words ("action movies with robots" ->
    the films people who rated I, Robot also rated).
    """

    dim: int = Field(default=64, ge=0)  # SVD components; 0 builds no vectors
    seeds: int = Field(default=5, ge=1)  # best relevant hits whose vectors form the centroid
    weight: float = Field(default=0.0, ge=0)  # weight of the neighbourhood evidence (0: off; see params.yaml)


class ExpansionConfig(Section):
    """Query expansion from the best hits (pseudo-relevance feedback, Rocchio style, hybrid mode only).

    The query's vector plus `beta` x the centroid of the `seeds` best first-pass hits' document vectors is searched
    again; that list joins the fusion with `weight`. It finds films that match the topic of the best answers in other
    words ("giant robots" -> Pacific Rim). A title query is never expanded: its films are the answer.
    """

    seeds: int = Field(default=3, ge=0)  # best first-pass hits whose document vectors form the centroid (0: off)
    beta: float = Field(default=2.0, ge=0)  # weight of the centroid against the query's own vector
    weight: float = Field(default=1.0, ge=0)  # weight of the expanded list in the fusion


class SearchConfig(Section):
    """The whole `search` section."""

    encoder: EncoderConfig = EncoderConfig()
    onnx: OnnxConfig = OnnxConfig()
    vector: VectorConfig = VectorConfig()
    lexical: LexicalConfig = LexicalConfig()
    ranking: RankingConfig = RankingConfig()
    collab: CollabConfig = CollabConfig()
    expansion: ExpansionConfig = ExpansionConfig()

    @classmethod
    def from_params(cls, params: Params) -> SearchConfig:
        """Validate params.yaml's `search` section; raise ConfigError naming the bad key."""
        return cls.from_dict(params.section("search"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SearchConfig:
        """Validate a plain mapping (e.g. the copy stored in an index manifest)."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"params.yaml: section 'search' is invalid:\n{exc}") from exc

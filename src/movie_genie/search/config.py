"""Typed `search` section of params.yaml. `encoder` decides the embedded text (the DVC embed stage depends on it
only); the other sub-sections shape the index and how queries are ranked."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_genie.config import ConfigError, Params


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncoderConfig(_Section):
    """Sentence encoder and the document text it embeds; changing any value re-embeds the changed documents."""

    max_seq_length: int = Field(default=256, ge=16, le=512)  # tokens; all-MiniLM-L6-v2 was trained with 256
    batch_size: int = Field(default=64, ge=1)  # documents per forward pass when embedding the catalogue
    max_keywords: int = Field(default=12, ge=0)  # keywords kept per movie document
    max_cast: int = Field(default=5, ge=0)  # cast names kept per movie document
    max_tags: int = Field(default=10, ge=0)  # most frequent user tags kept per movie document


class OnnxConfig(_Section):
    """The ONNX copy of the encoder used at query time."""

    quantize_int8: bool = False  # int8 is ~2x faster but only ~0.99 mean / 0.97 min cosine to torch
    threads: int = Field(default=1, ge=1)  # onnxruntime + FAISS threads per process at query time
    query_cache_size: int = Field(default=2048, ge=0)  # LRU entries of query embeddings (0 disables)


class VectorConfig(_Section):
    """FAISS: exact inner product for small catalogues, HNSW above `hnsw_min_movies`."""

    hnsw_min_movies: int = Field(default=50_000, ge=1)
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_construction: int = Field(default=200, ge=8)
    hnsw_ef_search: int = Field(default=128, ge=8)


class LexicalConfig(_Section):
    """BM25 over the same documents; the title is repeated `title_boost` times to weigh it up."""

    k1: float = Field(default=1.5, gt=0)
    b: float = Field(default=0.75, ge=0, le=1)
    title_boost: int = Field(default=3, ge=1)
    stemmer: str = "english"  # a Snowball language (PyStemmer)


class RankingConfig(_Section):
    """Query-time ranking: fusion, title matching, personalisation, limits."""

    rrf_k: float = Field(default=60.0, gt=0)  # reciprocal rank fusion constant: 1 / (rrf_k + rank)
    candidates: int = Field(default=100, ge=1)  # taken from each ranked list before fusion
    semantic_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    title_weight: float = Field(default=1.0, ge=0)
    title_min_score: float = Field(default=80.0, ge=0, le=100)  # rapidfuzz 0-100; below it a title is no match
    personal_weight: float = Field(default=0.3, ge=0, le=1)  # share of the Two-Tower affinity in the blend
    max_k: int = Field(default=100, ge=1)
    max_query_chars: int = Field(default=500, ge=1)


class SearchConfig(_Section):
    """The whole `search` section."""

    encoder: EncoderConfig = EncoderConfig()
    onnx: OnnxConfig = OnnxConfig()
    vector: VectorConfig = VectorConfig()
    lexical: LexicalConfig = LexicalConfig()
    ranking: RankingConfig = RankingConfig()

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

"""Query understanding in the search benchmark (bench_search.py imports this): person queries and the cost of
reading a query, each measured against the same index with understanding turned off (`ranking.understand: false`).

- People: PERSON_QUERIES, ten actors and directors chosen before measuring, judged from the metadata catalogue (a
  film is relevant when the person is among its directors or first five cast). With metadata: precision of the first
  10 results (over the results shown, when a person has fewer than 10 films) and the strict precision@10 (over 10).
  Without metadata (the default data set): results that match only the first name, i.e. whose document (title,
  genres, tags) holds the first name but not the surname ("tom hanks" -> Peeping Tom); the goal is none.
- Latency: hybrid search over the judged queries and the person queries, p50/p95 with understanding off and on, and
  plain lexical search (BM25 alone) beside them, interleaved query by query in one process so all three see the same
  machine load; CPU time too, which a busy machine inflates less than wall time.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movie_genie.search.config import SearchConfig
from movie_genie.search.documents import build_documents
from movie_genie.search.engine import SearchEngine

PERSON_QUERIES = (
    "Tom Hanks", "Steven Spielberg", "Meryl Streep", "Clint Eastwood", "Morgan Freeman", "Christopher Nolan",
    "Julia Roberts", "Denzel Washington", "Alfred Hitchcock", "Tom Cruise",
)  # fmt: skip
K = 10
Metric = Callable[..., float]  # bench_search's ndcg_at / recall_at(ranked, relevant, k)


def engines(index_dir: Path) -> dict[str, SearchEngine]:
    """The index with understanding off (before) and on (after)."""
    after = SearchEngine.load(index_dir)
    ranking = after.config.ranking.model_copy(update={"understand": False})
    before = SearchEngine.load(index_dir, after.config.model_copy(update={"ranking": ranking}))
    return {"before": before, "after": after}


def person_films(movies: pd.DataFrame) -> dict[str, set[int]]:
    """{name: films it directed or stars in (first five cast)} from the metadata catalogue's movies table."""
    out: dict[str, set[int]] = {name: set() for name in PERSON_QUERIES}
    for movie_id, cast, directors in zip(movies["movie_id"], movies["cast"], movies["directors"], strict=True):
        people = set(_names(cast)) | set(_names(directors))
        for name in PERSON_QUERIES:
            if name in people:
                out[name].add(int(movie_id))
    return out


def _names(value: Any) -> list[str]:
    return [] if value is None or (isinstance(value, float) and np.isnan(value)) else [str(v) for v in value]


def people_with_metadata(index_dir: Path, movies: pd.DataFrame) -> dict[str, Any]:
    """Precision of person queries before/after on the metadata index."""
    judged = person_films(movies)
    out: dict[str, Any] = {"queries": list(PERSON_QUERIES)}
    for name, engine in engines(index_dir).items():
        shown, strict, per_query = [], [], {}
        for person in PERSON_QUERIES:
            top = [h.movie_id for h in engine.search(person.lower(), k=K).hits]
            good = len(set(top) & judged[person])
            shown.append(good / len(top) if top else 0.0)
            strict.append(good / K)
            per_query[person] = {"results": len(top), "relevant": good}
        out[name] = {
            "precision@10_shown": round(statistics.fmean(shown), 4),
            "precision@10": round(statistics.fmean(strict), 4),
            "per_query": per_query,
        }
    return out


def people_without_metadata(index_dir: Path, movies: pd.DataFrame, tags: pd.DataFrame | None) -> dict[str, Any]:
    """Results of person queries that match only the first name, before/after on the index without metadata."""
    config = SearchConfig()
    documents = {d.movie_id: d.text.lower() for d in build_documents(movies, tags, config.encoder)}
    out: dict[str, Any] = {"queries": list(PERSON_QUERIES)}
    for name, engine in engines(index_dir).items():
        first_only, total, notes, per_query = 0, 0, 0, {}
        for person in PERSON_QUERIES:
            first, last = person.lower().split(" ", 1)
            result = engine.search(person.lower(), k=K)
            strays = [
                h.title
                for h in result.hits
                if re.search(rf"\b{first}\b", documents[h.movie_id]) and last not in documents[h.movie_id]
            ]
            first_only += len(strays)
            total += len(result.hits)
            notes += result.people_need_details
            per_query[person] = {"results": len(result.hits), "first_name_only": strays}
        out[name] = {
            "results": total,
            "first_name_only": first_only,
            "says_people_need_details": notes,
            "per_query": per_query,
        }
    return out


def latency(index_dir: Path, texts: list[str], repeat: int) -> dict[str, Any]:
    """Hybrid search p50/p95 (ms, wall and this process's CPU) with understanding off and on, and plain lexical
    search (BM25 alone, no encoder) as the load-independent yardstick, interleaved per query (query cache cleared)."""
    pair = engines(index_dir)
    runs: dict[str, tuple[SearchEngine, str]] = {
        "before": (pair["before"], "hybrid"), "after": (pair["after"], "hybrid"), "lexical": (pair["after"], "lexical"),
    }  # fmt: skip
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for engine in pair.values():  # warm up onnxruntime's arenas
        engine.search(texts[0], k=K)
    for _ in range(repeat):
        for text in texts:
            for name, (engine, mode) in runs.items():
                engine.encoder.cache_clear()
                start, start_cpu = time.perf_counter(), time.process_time()
                engine.search(text, mode=mode, k=K)
                wall[name].append((time.perf_counter() - start) * 1000)
                cpu[name].append((time.process_time() - start_cpu) * 1000)
    out: dict[str, Any] = {"queries": len(texts), "repeat": repeat}
    for name in runs:
        out[name] = {
            "p50_ms": round(float(np.percentile(wall[name], 50)), 3),
            "p95_ms": round(float(np.percentile(wall[name], 95)), 3),
            "cpu_p95_ms": round(float(np.percentile(cpu[name], 95)), 3),
        }
    out["p95_ratio"] = round(out["after"]["p95_ms"] / out["before"]["p95_ms"], 3)
    out["p95_vs_lexical"] = round(out["after"]["p95_ms"] / out["lexical"]["p95_ms"], 3)
    return out


def hybrid(engine: SearchEngine, queries: list[dict[str, Any]], ndcg_at: Metric, recall_at: Metric) -> dict[str, float]:
    """Mean hybrid nDCG@10 and recall@20 of a judged set."""
    ndcgs, recalls = [], []
    for item in queries:
        relevant = {int(m) for m in item["relevant"]}
        ranked = [h.movie_id for h in engine.search(item["query"], k=20).hits]
        ndcgs.append(ndcg_at(ranked, relevant))
        recalls.append(recall_at(ranked, relevant, 20))
    return {"ndcg@10": round(statistics.fmean(ndcgs), 4), "recall@20": round(statistics.fmean(recalls), 4)}


def docs_summary(report: dict[str, Any]) -> dict[str, Any]:
    """The figures docs/search.md quotes, per variant: hybrid quality, query understanding off/on, nothing close."""
    out: dict[str, Any] = {"dataset": report["dataset"], "variants": {}}
    for variant, v in report["variants"].items():
        read = v["understanding"]
        people = {
            name: {k: x for k, x in read["people"][name].items() if k != "per_query"} for name in ("before", "after")
        }
        out["variants"][variant] = {
            "hybrid": {k: v["quality"]["hybrid"][k] for k in ("ndcg@10", "recall@20", "best_recall@20_pool")},
            "understanding": {"before": read["before"], "after": read["after"], "people": people,
                              "latency": read["latency"]},
            "nothing_close": {"nonsense": v["nothing_close"]["nonsense"],
                              "with_results": v["nothing_close"]["after"]["nonsense_with_results"],
                              "judged_results_kept": v["nothing_close"]["judged_results_kept"]},
        }  # fmt: skip
    return out

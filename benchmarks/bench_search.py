"""Search benchmark on ml-latest-small, with and without its TMDB metadata: quality (nDCG@10, recall@10 and
recall@20 per mode on the judged query set in benchmarks/data/search_queries.yaml) and in-process latency (query
embedding, whole search).

Two catalogues ("variants"), judged with the same relevance lists:
- `metadata`: ml-latest-small enriched with ml-latest-small-tmdb.csv (overviews, keywords, cast...);
- `plain`:    ml-latest-small as shipped (titles, genres, years, user tags): what a user without a TMDB key has.
Results may be shorter than 20: search stops where relevance stops, so recall@20 counts what it returned.

Personalisation (hybrid mode, both variants): for PERSONAL_USERS real users drawn with a fixed seed, each query is
searched with and without the user's taste. Taste re-orders relevant results only, so the result set must stay the
same (checked on the first 20 and on the whole answer, k = max_k) while nDCG@10 may drop only a little. The API
passes Two-Tower affinities; here, so that no trained model is needed, a user's affinity for a film is the cosine
between its who-rated-what vector (the index's collab vectors) and the mean vector of the films they rated 4+.

Baselines measured in the same run:
- query embedding: the torch sentence-transformers model encoding the same queries one at a time;
- whole search: a trivial scan, lower-cased substring match of the query over every movie document in Python.

The index is built from the shared data with the project's own pipeline functions (data layer reader + enrichment,
`embed`, `index`) into artifacts/bench/search-ml-latest-small[-plain]/; embeddings are reused between runs.

Where recall is lost: "best@20 found" is the recall@20 a perfect ordering of every film the retrievers found
would reach, "best@20 cut-off" the same for the films above the relevance cut-off (SearchEngine.funnel).

Nothing close: NONSENSE_QUERIES (keyboard mashes, random syllables, made-up words, films released after
ml-latest-small was cut) should return no results, while the judged queries keep theirs. Measured against the same
index with the rule turned off (`close_min_known_share: 0`) in the same run: queries with results, judged recall@20,
the share of judged results kept, and hybrid search latency. ABSENT_TITLES_COMMON_WORDS (absent films whose titles
are ordinary words) are reported beside them: BM25 matches their words, so they are not expected to be empty.

Query understanding (people, genres, decades, moods, themes; search/understanding.py): judged queries, person
queries and hybrid latency with understanding off ("before") and on ("after"), same index, same run
(benchmarks/search_understanding.py).

Run: .venv/bin/python benchmarks/bench_search.py [--variant metadata|plain|both] [--repeat N] [--rebuild] [--no-latency]
     .venv/bin/python benchmarks/bench_search.py --index artifacts/index  (quality + nothing close on a built index)
Prints tables and writes benchmarks/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.stages import load_dataset
from movie_genie.data.tables import read_tables, write_tables
from movie_genie.search.build import CATALOGUE_FILE, COLLAB_FILE, MANIFEST_FILE, build_index, embed_catalogue
from movie_genie.search.config import SearchConfig
from movie_genie.search.documents import build_documents
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.search.encoder import embed_texts, load_sentence_model
from movie_genie.search.engine import SearchEngine

try:  # run as a script (benchmarks/ on sys.path) or as a module (python -m benchmarks.bench_search)
    import search_understanding as understanding
except ImportError:
    from benchmarks import search_understanding as understanding

ROOT = Path(__file__).resolve().parents[1]
WORKDIRS = {
    "metadata": ROOT / "artifacts" / "bench" / "search-ml-latest-small",
    "plain": ROOT / "artifacts" / "bench" / "search-ml-latest-small-plain",
}
QUERIES = ROOT / "benchmarks" / "data" / "search_queries.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "search.json"
DOCS_RESULTS = ROOT / "docs" / "results" / "search.json"
QUALITY_MODES = ("semantic", "lexical", "title", "hybrid")
K = 10
RECALL_K = 20
PERSONAL_USERS = 5  # users drawn (seed PERSONAL_SEED) among those with at least PERSONAL_MIN_RATINGS ratings
PERSONAL_SEED = 0
PERSONAL_MIN_RATINGS = 50
PERSONAL_MAX_NDCG_DROP = 0.05  # the most the mean nDCG@10 may fall with taste (the goal; printed, not enforced)
# Queries nothing in ml-latest-small is close to; the goal is no results for every one.
NONSENSE_QUERIES = (
    "asdfghjkl", "qwpoeiruty", "zxcvbnm", "lkjhgfdsa poiuy", "mnbvcxz qwerty", "hgfkdjs lskdjf",  # keyboard mashes
    "blorft zimbo", "kratunel vosh", "fremblewick ostrapan", "gloob snarvi tep", "tepo malunika",  # random syllables
    "snorfling quibbleton", "wuggle frump", "zorbination", "flibbertigrunt", "plonkish vexiloid",  # made-up words
    "vornak the pleebish",
    "Oppenheimer", "The Banshees of Inisherin", "Nomadland",  # films released after ml-latest-small was cut
)  # fmt: skip
# Absent films whose titles are ordinary words: reported, not a goal (BM25 rightly matches their words).
ABSENT_TITLES_COMMON_WORDS = (
    "Everything Everywhere All at Once", "Poor Things", "Past Lives", "Killers of the Flower Moon", "Knives Out",
)  # fmt: skip


def _shared() -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "datasets"


def _config() -> SearchConfig:
    """The project's params.yaml `search` section (defaults where it is missing)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {}
    return SearchConfig.from_dict(params.get("search", {}))


def prepare(config: SearchConfig, rebuild: bool, variant: str = "metadata") -> Path:
    """Processed ml-latest-small (+ TMDB for `metadata`) tables, embeddings and index; returns the index folder."""
    workdir = WORKDIRS[variant]
    processed = workdir / "processed"
    if not (processed / "movies.parquet").exists():
        shared = _shared()
        tables, _ = load_dataset("ml-latest-small", shared / "ml-latest-small.zip", workdir / "cache")
        movies = tables.movies
        if variant == "metadata":
            movies, _ = enrich_movies(movies, read_metadata_csv(shared / "ml-latest-small-tmdb.csv"))
        meta = {"name": "ml-latest-small", "metadata": variant == "metadata"}
        write_tables(processed, {**tables.as_dict(), "movies": movies}, meta)
    tables = read_tables(processed)
    index_dir = workdir / "index"
    manifest = index_dir / MANIFEST_FILE
    current = manifest.exists() and json.loads(manifest.read_text())["config"] == config.model_dump(mode="json")
    if rebuild or not current:
        model = load_sentence_model(config.encoder)
        embeddings = workdir / "embeddings" / EMBEDDINGS_FILE
        report = embed_catalogue(tables["movies"], tables["tags"], config, embeddings, model)
        print(f"embed: {report.encoded} encoded, {report.reused} reused")
        built = build_index(tables["movies"], tables["tags"], tables["ratings"], embeddings, index_dir, config, model)
        print(f"index: {built.movies} movies in {built.seconds:.1f} s")
    return index_dir


def load_queries(path: Path = QUERIES, section: str = "queries") -> list[dict[str, Any]]:
    """A judged query set: [{query, relevant: [movie_id...], judged: how}] (`queries` or `title_queries`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    queries = data[section]
    for item in queries:
        if not item.get("relevant"):
            raise ValueError(f"query {item.get('query')!r} has no judged relevant movies")
    return queries


def ndcg_at(ranked: list[int], relevant: set[int], k: int = K) -> float:
    """Binary-relevance nDCG@k: DCG of the ranking over the DCG of a perfect one."""
    dcg = sum(1.0 / math.log2(i + 2) for i, m in enumerate(ranked[:k]) if m in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[int], relevant: set[int], k: int = K) -> float:
    """Judged relevant movies found in the top k over the most that k results can hold, min(|relevant|, k).

    Capped like the ideal DCG of nDCG: a topic with 38 relevant films ("feel-good family animation") can reach 1
    at k = 20 instead of at most 20/38, so recall@20 says how full the first 20 are of good answers.
    """
    return len(set(ranked[:k]) & relevant) / min(len(relevant), k) if relevant else 0.0


def best_recall_at(found: set[int] | frozenset[int], relevant: set[int], k: int = RECALL_K) -> float:
    """The recall@k a perfect ordering of `found` would reach (its relevant films first)."""
    return recall_at(sorted(found & relevant), relevant, k)


def quality(engine: SearchEngine, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean nDCG@10, recall@10 and recall@20 per mode, plus per-query nDCG and result counts for the record.

    Also where recall@20 is lost (SearchEngine.funnel): the best recall@20 a perfect ordering of every film the
    retrievers found would reach (`pool`), and of those above the relevance cut-off (`cutoff`). recall@20 far
    below `pool` means the ranking, not the retrieval, loses the good answers.
    """
    out: dict[str, Any] = {}
    for mode in QUALITY_MODES:
        ndcgs, recalls, recalls20, pools, cutoffs, lengths, per_query = [], [], [], [], [], [], {}
        for item in queries:
            relevant = {int(m) for m in item["relevant"]}
            ranked = [h.movie_id for h in engine.search(item["query"], mode=mode, k=RECALL_K).hits]
            funnel = engine.funnel(item["query"], mode=mode)
            ndcgs.append(ndcg_at(ranked, relevant))
            recalls.append(recall_at(ranked, relevant))
            recalls20.append(recall_at(ranked, relevant, RECALL_K))
            pools.append(best_recall_at(funnel.pool, relevant))
            cutoffs.append(best_recall_at(funnel.relevant, relevant))
            lengths.append(len(ranked))
            per_query[item["query"]] = round(ndcgs[-1], 4)
        out[mode] = {
            "ndcg@10": round(statistics.fmean(ndcgs), 4),
            "recall@10": round(statistics.fmean(recalls), 4),
            "recall@20": round(statistics.fmean(recalls20), 4),
            "best_recall@20_pool": round(statistics.fmean(pools), 4),
            "best_recall@20_cutoff": round(statistics.fmean(cutoffs), 4),
            "mean_results": round(statistics.fmean(lengths), 1),
            "per_query_ndcg@10": per_query,
        }
    return out


def taste_affinities(index_dir: Path, ratings: Any, users: int = PERSONAL_USERS) -> dict[int, dict[int, float]]:
    """{user_id: {movie_id: affinity}} for `users` real users drawn with a fixed seed (see the module docstring)."""
    catalogue = pd.read_parquet(index_dir / CATALOGUE_FILE, columns=["movie_id"])
    movie_ids = catalogue["movie_id"].to_numpy(dtype=np.int64)
    collab = np.load(index_dir / COLLAB_FILE)  # [n, d] unit rows (zero for unrated films)
    row_of = {int(m): i for i, m in enumerate(movie_ids)}
    counts = ratings["user_id"].value_counts()
    eligible = np.sort(counts[counts >= PERSONAL_MIN_RATINGS].index.to_numpy())
    chosen = np.random.default_rng(PERSONAL_SEED).choice(eligible, size=min(users, len(eligible)), replace=False)
    out: dict[int, dict[int, float]] = {}
    for user in sorted(int(u) for u in chosen):
        liked = ratings[(ratings["user_id"] == user) & (ratings["rating"] >= 4.0)]["movie_id"]
        rows = [row_of[int(m)] for m in liked if int(m) in row_of]
        taste = collab[rows].mean(axis=0)  # [d]
        taste /= np.linalg.norm(taste) or 1.0
        out[user] = {int(m): float(a) for m, a in zip(movie_ids, collab @ taste, strict=True)}
    return out


def personalisation(engine: SearchEngine, queries: list[dict[str, Any]], tastes: dict[int, dict[int, float]]) -> dict:
    """Per (user, query), hybrid: the same result set with and without taste (k = 20 and k = max_k) and the change
    of nDCG@10 (k = 20)."""
    max_k = engine.config.ranking.max_k

    def ids(query: str, k: int, affinity: dict[int, float] | None = None) -> tuple[list[int], bool]:
        result = engine.search(query, k=k, personal_scores=affinity)
        return [h.movie_id for h in result.hits], result.personalised

    same20, same_all, reordered, base_ndcg, taste_ndcg = [], [], [], [], []
    for affinity in tastes.values():
        for item in queries:
            relevant = {int(m) for m in item["relevant"]}
            plain, _ = ids(item["query"], RECALL_K)
            mine, personalised = ids(item["query"], RECALL_K, affinity)
            same20.append(set(mine) == set(plain))
            same_all.append(set(ids(item["query"], max_k, affinity)[0]) == set(ids(item["query"], max_k)[0]))
            reordered.append(personalised)
            base_ndcg.append(ndcg_at(plain, relevant))
            taste_ndcg.append(ndcg_at(mine, relevant))
    drops = np.array(base_ndcg) - np.array(taste_ndcg)
    return {
        "users": sorted(tastes),
        "pairs": len(same20),
        "same_set@20": round(statistics.fmean(same20), 4),
        "same_set_all": round(statistics.fmean(same_all), 4),
        "reordered": round(statistics.fmean(reordered), 4),
        "ndcg@10_without": round(statistics.fmean(base_ndcg), 4),
        "ndcg@10_with": round(statistics.fmean(taste_ndcg), 4),
        "ndcg@10_mean_drop": round(float(drops.mean()), 4),
        "ndcg@10_worst_drop": round(float(drops.max()), 4),
        "ndcg@10_drop_ok": bool(drops.mean() <= PERSONAL_MAX_NDCG_DROP),
    }


def _personal_table(p: dict[str, Any]) -> str:
    rows = [
        ("same result set, k = 20", f"{p['same_set@20']:.1%}"),
        ("same result set, k = max_k (whole answer)", f"{p['same_set_all']:.1%}"),
        ("re-ordered by taste", f"{p['reordered']:.1%}"),
        ("nDCG@10 without -> with taste", f"{p['ndcg@10_without']:.3f} -> {p['ndcg@10_with']:.3f}"),
        (f"nDCG@10 mean drop (goal <= {PERSONAL_MAX_NDCG_DROP})", f"{p['ndcg@10_mean_drop']:+.3f}"),
        ("nDCG@10 worst drop of one query", f"{p['ndcg@10_worst_drop']:+.3f}"),
    ]
    return _table(rows, ("personalisation (hybrid)", "value"))


def _quality_table(qual: dict[str, Any]) -> str:
    rows = [
        (m, f"{qual[m]['ndcg@10']:.3f}", f"{qual[m]['recall@10']:.3f}", f"{qual[m]['recall@20']:.3f}",
         f"{qual[m]['best_recall@20_cutoff']:.3f}", f"{qual[m]['best_recall@20_pool']:.3f}",
         f"{qual[m]['mean_results']:.1f}")
        for m in QUALITY_MODES
    ]  # fmt: skip
    header = ("mode", "nDCG@10", "recall@10", "recall@20", "best@20 cut-off", "best@20 found", "results (k=20)")
    return _table(rows, header)


def _percentiles(samples: list[tuple[float, float]]) -> dict[str, float]:
    """p50/p95 of wall-clock time and p50 of this process's CPU time, in ms."""
    wall = np.array([w for w, _ in samples]) * 1000
    cpu = np.array([c for _, c in samples]) * 1000
    return {
        "p50_ms": round(float(np.percentile(wall, 50)), 3),
        "p95_ms": round(float(np.percentile(wall, 95)), 3),
        "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 3),
    }


def _timed(fn: Any, inputs: list[Any], repeat: int) -> list[tuple[float, float]]:
    """(wall, cpu) seconds per call. CPU time is what the call costs when the machine is shared (waiting excluded)."""
    samples = []
    for _ in range(repeat):
        for x in inputs:
            start, cpu_start = time.perf_counter(), time.process_time()
            fn(x)
            samples.append((time.perf_counter() - start, time.process_time() - cpu_start))
    return samples


def latency(engine: SearchEngine, config: SearchConfig, texts: list[str], movies: Any, tags: Any, repeat: int) -> dict:
    """p50/p95 of query embedding and whole searches (cache cleared: every query is embedded), with baselines."""
    encoder = engine.encoder
    for text in texts[:5]:  # warm up onnxruntime's arenas
        encoder.encode([text])

    def uncached_embed(text: str) -> None:
        encoder.cache_clear()
        encoder.embed_query(text)

    def search(mode: str) -> Any:
        def run(text: str) -> None:
            encoder.cache_clear()
            engine.search(text, mode=mode, k=K)

        return run

    results: dict[str, Any] = {"queries": len(texts), "repeat": repeat}
    results["embed_onnx"] = _percentiles(_timed(uncached_embed, texts, repeat))
    for mode in QUALITY_MODES:
        results[f"search_{mode}"] = _percentiles(_timed(search(mode), texts, repeat))
    results["search_hybrid_cached_embedding"] = _percentiles(
        _timed(lambda t: engine.search(t, mode="hybrid", k=K), texts, repeat)
    )

    # Baselines, same queries, same process.
    model = load_sentence_model(config.encoder)
    results["baseline_embed_torch"] = _percentiles(_timed(lambda t: embed_texts(model, [t], 1), texts, 1))
    documents = [d.text.lower() for d in build_documents(movies, tags, config.encoder)]

    def substring_scan(text: str) -> None:
        needle = text.lower()
        [i for i, doc in enumerate(documents) if needle in doc][:K]

    results["baseline_substring_scan"] = _percentiles(_timed(substring_scan, texts, repeat))
    results["onnx_int8"] = int8_variant(engine, config, texts, repeat, model)
    return results


def int8_variant(engine: SearchEngine, config: SearchConfig, texts: list[str], repeat: int, model: Any) -> dict:
    """The road not taken by default: dynamic int8 quantisation of the same ONNX file, its speed and drift."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from movie_genie.search.encoder import ONNX_FILE, TOKENIZER_FILE, OnnxEncoder

    folder = WORKDIRS["metadata"] / "int8"
    folder.mkdir(parents=True, exist_ok=True)
    index_dir = WORKDIRS["metadata"] / "index"
    quantize_dynamic(index_dir / ONNX_FILE, folder / ONNX_FILE, per_channel=True, weight_type=QuantType.QInt8)
    (folder / TOKENIZER_FILE).write_bytes((index_dir / TOKENIZER_FILE).read_bytes())
    int8 = OnnxEncoder.load(folder, config.encoder, config.onnx)
    reference = embed_texts(model, texts, 32)
    cosine = (int8.encode(texts) * reference).sum(axis=1)
    fp32_cosine = (engine.encoder.encode(texts) * reference).sum(axis=1)

    def uncached(text: str) -> None:
        int8.cache_clear()
        int8.embed_query(text)

    return {
        "embed": _percentiles(_timed(uncached, texts, repeat)),
        "min_cosine_vs_torch": round(float(cosine.min()), 4),
        "mean_cosine_vs_torch": round(float(cosine.mean()), 4),
        "fp32_min_cosine_vs_torch": round(float(fp32_cosine.min()), 4),
    }


def nothing_close(index_dir: Path, queries: list[dict[str, Any]], repeat: int = 3) -> dict[str, Any]:
    """Nonsense queries with results, judged recall@20 and judged results kept, with the rule on and off."""
    engine = SearchEngine.load(index_dir)
    ranking = engine.config.ranking.model_copy(update={"close_min_known_share": 0.0})  # 0: every query is close
    off = SearchEngine.load(index_dir, engine.config.model_copy(update={"ranking": ranking}))
    out: dict[str, Any] = {"nonsense": len(NONSENSE_QUERIES), "judged": len(queries)}
    for name, eng in (("before", off), ("after", engine)):
        answers = {q: eng.search(q, k=RECALL_K) for q in NONSENSE_QUERIES + ABSENT_TITLES_COMMON_WORDS}
        judged = {item["query"]: [h.movie_id for h in eng.search(item["query"], k=RECALL_K).hits] for item in queries}
        recalls = [recall_at(judged[i["query"]], {int(m) for m in i["relevant"]}, RECALL_K) for i in queries]
        texts = [i["query"] for i in queries]

        def run(text: str, eng: SearchEngine = eng) -> None:
            eng.encoder.cache_clear()
            eng.search(text, k=K)

        out[name] = {
            "nonsense_with_results": sum(bool(answers[q].hits) for q in NONSENSE_QUERIES),
            "nonsense_results": {q: [h.title for h in answers[q].hits[:3]] for q in NONSENSE_QUERIES},
            "absent_common_with_results": sum(bool(answers[q].hits) for q in ABSENT_TITLES_COMMON_WORDS),
            "no_close_match_flags": sum(answers[q].no_close_match for q in NONSENSE_QUERIES),
            "judged_recall@20": round(statistics.fmean(recalls), 4),
            "judged_results": judged,
            "search_judged": _percentiles(_timed(run, texts, repeat)),
            "search_nonsense": _percentiles(_timed(run, list(NONSENSE_QUERIES), repeat)),
        }
    before, after = out["before"]["judged_results"], out["after"]["judged_results"]
    total = sum(len(v) for v in before.values())
    out["judged_results_kept"] = round(sum(len(set(before[q]) & set(after[q])) for q in before) / (total or 1), 4)
    return out


def _nothing_close_table(nc: dict[str, Any]) -> str:
    b, a = nc["before"], nc["after"]
    rows = [
        (f"nonsense queries with results (of {nc['nonsense']})", str(b["nonsense_with_results"]),
         str(a["nonsense_with_results"])),
        (f"absent films in ordinary words with results (of {len(ABSENT_TITLES_COMMON_WORDS)})",
         str(b["absent_common_with_results"]), str(a["absent_common_with_results"])),
        (f"judged queries ({nc['judged']}): recall@20", f"{b['judged_recall@20']:.3f}", f"{a['judged_recall@20']:.3f}"),
        ("judged queries: results kept", "100%", f"{nc['judged_results_kept']:.1%}"),
        ("hybrid search p50 ms, judged", f"{b['search_judged']['p50_ms']:.2f}", f"{a['search_judged']['p50_ms']:.2f}"),
        ("hybrid search p50 ms, nonsense", f"{b['search_nonsense']['p50_ms']:.2f}",
         f"{a['search_nonsense']['p50_ms']:.2f}"),
    ]  # fmt: skip
    return _table(rows, ("nothing close (hybrid, k = 20)", "rule off", "rule on"))


def understanding_report(
    index_dir: Path, variant: str, queries: list[dict[str, Any]], title_queries: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """Judged and person queries, and hybrid latency, with query understanding off and on (search_understanding)."""
    out: dict[str, Any] = {}
    for name, engine in understanding.engines(index_dir).items():
        out[name] = {
            "judged": understanding.hybrid(engine, queries, ndcg_at, recall_at),
            "titles": understanding.hybrid(engine, title_queries, ndcg_at, recall_at),
        }
    if variant == "metadata":
        movies = read_tables(WORKDIRS["metadata"] / "processed")["movies"]
        out["people"] = understanding.people_with_metadata(index_dir, movies)
    else:
        plain = read_tables(WORKDIRS[variant] / "processed")
        out["people"] = understanding.people_without_metadata(index_dir, plain["movies"], plain["tags"])
    texts = [q["query"] for q in queries] + [p.lower() for p in understanding.PERSON_QUERIES]
    out["latency"] = understanding.latency(index_dir, texts, repeat)
    return out


def _understanding_table(read: dict[str, Any]) -> str:
    b, a, people, lat = read["before"], read["after"], read["people"], read["latency"]
    rows = [
        ("judged queries: nDCG@10", f"{b['judged']['ndcg@10']:.3f}", f"{a['judged']['ndcg@10']:.3f}"),
        ("judged queries: recall@20", f"{b['judged']['recall@20']:.3f}", f"{a['judged']['recall@20']:.3f}"),
        ("title queries: nDCG@10", f"{b['titles']['ndcg@10']:.3f}", f"{a['titles']['ndcg@10']:.3f}"),
    ]
    if "precision@10_shown" in people["after"]:
        for key, label in (("precision@10_shown", "of those shown"), ("precision@10", "strict, over 10")):
            rows.append((f"person queries: precision@10 ({label})", f"{people['before'][key]:.3f}",
                         f"{people['after'][key]:.3f}"))  # fmt: skip
    else:
        for key, label in (
            ("first_name_only", "results matching only a first name"),
            ("results", "results"),
            ("says_people_need_details", "answers saying people need film details"),
        ):
            rows.append((f"person queries: {label}", str(people["before"][key]), str(people["after"][key])))
    rows += [
        ("hybrid search p50 ms (interleaved)", f"{lat['before']['p50_ms']:.2f}", f"{lat['after']['p50_ms']:.2f}"),
        ("hybrid search p95 ms (interleaved)", f"{lat['before']['p95_ms']:.2f}", f"{lat['after']['p95_ms']:.2f}"),
        ("hybrid search CPU p95 ms", f"{lat['before']['cpu_p95_ms']:.2f}", f"{lat['after']['cpu_p95_ms']:.2f}"),
        ("lexical search p95 ms, same loop (wall, CPU)", f"{lat['lexical']['p95_ms']:.2f}",
         f"{lat['lexical']['cpu_p95_ms']:.2f}"),
        ("hybrid p95 / lexical p95 (wall)", f"{lat['before']['p95_ms'] / lat['lexical']['p95_ms']:.2f}x",
         f"{lat['p95_vs_lexical']:.2f}x"),
    ]  # fmt: skip
    return _table(rows, ("query understanding (hybrid, k = 20)", "off", "on"))


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def main() -> None:
    """Build (or reuse) the indexes, measure quality (and latency), print tables, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("metadata", "plain", "both"), default="both")
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the index even when it is current.")
    parser.add_argument("--prepare-only", action="store_true", help="Build the index and stop.")
    parser.add_argument("--no-latency", action="store_true", help="Measure quality only.")
    parser.add_argument("--repeat", type=int, default=5, help="Passes over the query set for latency.")
    parser.add_argument("--index", type=Path, help="Measure quality and 'nothing close' on this built index only.")
    args = parser.parse_args()
    if args.index is not None:
        return measure_index(args.index)
    config = _config()
    variants = ("metadata", "plain") if args.variant == "both" else (args.variant,)
    index_dirs = {v: prepare(config, args.rebuild, v) for v in variants}
    if args.prepare_only:
        return
    queries = load_queries()
    title_queries = load_queries(section="title_queries")
    report: dict[str, Any] = {
        "dataset": "ml-latest-small (metadata: + ml-latest-small-tmdb.csv)",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "config": config.model_dump(mode="json"),
        "variants": {},
    }
    for variant in variants:
        start = time.perf_counter()
        engine = SearchEngine.load(index_dirs[variant])
        load_s = time.perf_counter() - start
        qual = quality(engine, queries)
        title_qual = quality(engine, title_queries)
        ratings = read_tables(WORKDIRS[variant] / "processed")["ratings"]
        personal = personalisation(engine, queries, taste_affinities(index_dirs[variant], ratings))
        print(f"\n[{variant}] quality on {len(queries)} judged plain-language queries ({len(engine):,} movies)")
        print(_quality_table(qual))
        print(f"\n[{variant}] quality on {len(title_queries)} judged title queries (franchises, typos)")
        print(_quality_table(title_qual))
        print(f"\n[{variant}] personalisation: users {personal['users']} x {len(queries)} queries")
        print(_personal_table(personal))
        close = nothing_close(index_dirs[variant], queries + title_queries)
        print(f"\n[{variant}] nothing close: the rule off and on, same index")
        print(_nothing_close_table(close))
        read = understanding_report(index_dirs[variant], variant, queries, title_queries, args.repeat)
        print(f"\n[{variant}] query understanding: off (before) and on (after), same index")
        print(_understanding_table(read))
        report["variants"][variant] = {
            "movies": len(engine),
            "quality": qual,
            "title_quality": title_qual,
            "personalisation": personal,
            "nothing_close": close,
            "understanding": read,
            "engine_load_s": round(load_s, 3),
        }
        if args.no_latency or variant != "metadata":
            continue
        tables = read_tables(WORKDIRS[variant] / "processed")
        lat = latency(engine, config, [q["query"] for q in queries], tables["movies"], tables["tags"], args.repeat)
        report["variants"][variant]["latency"] = lat
        report["variants"][variant]["index"] = {
            k: engine.manifest[k] for k in ("vector_index", "onnx_int8", "onnx_min_cosine_vs_torch")
        }
        _print_latency(lat)
        print(f"SearchEngine.load (ONNX encoder, FAISS, BM25, titles): {load_s:.2f} s")
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    if len(variants) == 2:
        DOCS_RESULTS.write_text(json.dumps(understanding.docs_summary(report), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {DOCS_RESULTS.relative_to(ROOT)} (the figures docs/search.md quotes)")


def measure_index(index_dir: Path) -> None:
    """Quality and 'nothing close' on an index built by the pipeline (e.g. artifacts/index); writes the JSON."""
    engine = SearchEngine.load(index_dir)
    queries, title_queries = load_queries(), load_queries(section="title_queries")
    qual, title_qual = quality(engine, queries), quality(engine, title_queries)
    close = nothing_close(index_dir, queries + title_queries)
    read = understanding_report(index_dir, "plain", queries, title_queries, 3)
    print(f"\n[{index_dir}] quality on {len(queries)} judged plain-language queries ({len(engine):,} movies)")
    print(_quality_table(qual))
    print(f"\n[{index_dir}] quality on {len(title_queries)} judged title queries (franchises, typos)")
    print(_quality_table(title_qual))
    print(f"\n[{index_dir}] nothing close: the rule off and on, same index")
    print(_nothing_close_table(close))
    print(f"\n[{index_dir}] query understanding: off (before) and on (after), same index")
    print(_understanding_table(read))
    print(f"load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    report = {
        "index": str(index_dir),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "config": engine.config.model_dump(mode="json"),
        "variants": {"index": {"movies": len(engine), "quality": qual, "title_quality": title_qual,
                               "nothing_close": close, "understanding": read}},
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def _print_latency(lat: dict[str, Any]) -> None:
    base_embed, base_search = lat["baseline_embed_torch"]["p50_ms"], lat["baseline_substring_scan"]["p50_ms"]
    rows = [
        ("query embedding, ONNX (target <= 5 ms)", lat["embed_onnx"], base_embed, "torch encode"),
        *[(f"search {m}", lat[f"search_{m}"], base_search, "substring scan") for m in QUALITY_MODES],
        ("search hybrid, cached embedding", lat["search_hybrid_cached_embedding"], base_search, "substring scan"),
        ("query embedding, ONNX int8 (not default)", lat["onnx_int8"]["embed"], base_embed, "torch encode"),
        ("baseline: torch query encode", lat["baseline_embed_torch"], base_embed, "torch encode"),
        ("baseline: substring scan of documents", lat["baseline_substring_scan"], base_search, "substring scan"),
    ]
    print(f"\nLatency in process, {lat['queries']} queries x {lat['repeat']} (query cache cleared before each)")
    table = [
        (name, f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}", f"{r['cpu_p50_ms']:.2f}", f"{r['p50_ms'] / b:.2f}x {what}")
        for name, r, b, what in rows
    ]
    print(_table(table, ("measure", "p50 ms", "p95 ms", "CPU p50 ms", "p50 vs baseline")))
    drift = lat["onnx_int8"]
    print(
        f"ONNX vs torch cosine on the queries: fp32 min {drift['fp32_min_cosine_vs_torch']:.4f}; "
        f"int8 min {drift['min_cosine_vs_torch']:.4f}, mean {drift['mean_cosine_vs_torch']:.4f}"
    )


if __name__ == "__main__":
    main()

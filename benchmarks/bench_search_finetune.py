"""Does adapting the sentence encoder to the catalogue raise search quality? An experiment, not part of the pipeline.

all-MiniLM-L6-v2 was trained on general web text. Here it is fine-tuned on pairs the catalogue itself gives, with no
judged query in sight:
- (one or two of a film's TMDB keywords or user tags, the film's document without keywords, tags and tagline);
- (a film's tagline, the same document).
The objective is in-batch contrastive (the MultipleNegativesRankingLoss of sentence-transformers): each pseudo-query
must pick its own film's document out of the batch, at cosine scale 20. Only the top layers learn (the embeddings and
the bottom `--freeze` layers stay as shipped), documents are cut at 128 tokens, and `--steps` batches of 32 run (150 by
default, about half of the pairs): about 6 minutes on 2 cores, and embedding the catalogue with both encoders about
7 more.

Both encoders, the stock one and the adapted one, are then measured in the same run on the judged queries of
bench_search.py (ml-latest-small with the TMDB metadata CSV), each embedding every document and query with torch:
nDCG@10 and recall@20 per mode, and the paired bootstrap interval of the per-query difference in recall@20.
`--holdout` drops every pseudo-query holding a content word of a judged query ("heist", "vampires", ...), so that a
gain cannot come from having trained on the benchmark's own topics.

Run: .venv/bin/python -m benchmarks.bench_search_finetune [--steps 150] [--holdout]
Prints a table and writes benchmarks/results/search_finetune[_holdout].json.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from benchmarks import bench_search
from benchmarks.output import write_json
from movie_genie.data.tables import read_tables
from movie_genie.data.tags import top_tags
from movie_genie.evaluation.metrics import paired_difference_ci
from movie_genie.search.build import CATALOGUE_FILE
from movie_genie.search.config import EncoderConfig
from movie_genie.search.documents import _as_list, _as_text, build_documents
from movie_genie.search.encoder import load_sentence_model
from movie_genie.search.engine import SearchEngine
from movie_genie.search.vector import build_vector_index

ROOT = Path(__file__).resolve().parents[1]
BATCH = 32
SCALE = 20.0  # cosine x SCALE are the logits of the in-batch softmax
LEARNING_RATE = 3e-5
TRAIN_TOKENS = 128  # documents are cut here while training (the index embeds up to 256)
SEED = 0
# Words of a judged query that say nothing of its topic; the others are held out with --holdout.
FILLER = {"movie", "movies", "with", "that", "from", "about", "into", "goes", "comes", "film", "story"}


def pseudo_queries(movies: pd.DataFrame, tags: pd.DataFrame | None, held_out: set[str]) -> list[tuple[str, str]]:
    """(pseudo-query, document) pairs from the catalogue's own keywords, user tags and taglines, shuffled."""
    config = EncoderConfig()
    bare = movies.copy()
    for column in ("keywords", "tagline"):
        if column in bare.columns:
            bare[column] = None
    # The positive leaves out what the pseudo-queries are made of: the model must match them to the plot.
    documents = {d.movie_id: d.text for d in build_documents(bare, None, config)}
    tag_map = top_tags(tags, config.max_tags)

    def kept(phrase: str) -> bool:
        return not any(word.rstrip("s") in phrase.lower() for word in held_out)

    rng = random.Random(SEED)
    pairs = []
    for row in movies.to_dict("records"):
        movie_id = int(row["movie_id"])
        document = documents[movie_id]
        keywords = [k for k in _as_list(row.get("keywords")) if kept(k)]
        user_tags = [t for t in tag_map.get(movie_id, []) if kept(t)]
        for _ in range(min(2, len(keywords))):
            pairs.append((", ".join(rng.sample(keywords, min(len(keywords), rng.choice([1, 2])))), document))
        if user_tags:
            pairs.append((", ".join(rng.sample(user_tags, min(len(user_tags), rng.choice([1, 2])))), document))
        if tagline := _as_text(row.get("tagline")):
            pairs.append((tagline, document))
    rng.shuffle(pairs)
    return pairs


def fine_tune(pairs: list[tuple[str, str]], steps: int, freeze: int) -> Any:
    """A fresh copy of the stock model, its top layers trained for `steps` batches of in-batch contrastive loss."""
    from sentence_transformers import SentenceTransformer

    from movie_genie.search.encoder import model_dir

    torch.manual_seed(SEED)
    model = SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)  # not the cached stock one
    model.max_seq_length = TRAIN_TOKENS
    bert = model[0].auto_model
    frozen = [bert.embeddings, *bert.encoder.layer[:freeze]]
    for module in frozen:
        module.requires_grad_(False)
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(  # linear warm-up, then linear decay to 0
        optimiser, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (steps - s) / max(1, steps - warmup))
    )

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)

    model.train()
    start = time.perf_counter()
    for step in range(steps):
        batch = pairs[step * BATCH : (step + 1) * BATCH]
        if len(batch) < 2:
            break
        queries, documents = embed([q for q, _ in batch]), embed([d for _, d in batch])
        logits = SCALE * queries @ documents.T  # [B, B]: row i's own document is column i
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 25 == 0:
            print(f"step {step}/{steps}: loss {loss.item():.3f} ({time.perf_counter() - start:.0f} s)", flush=True)
    model.eval()
    model.max_seq_length = EncoderConfig().max_seq_length
    return model


class TorchQueries:
    """The SearchEngine's query encoder, from a torch sentence model (as the ONNX one, without the export)."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def embed_query(self, text: str) -> np.ndarray:
        return self._model.encode([text], normalize_embeddings=True, convert_to_numpy=True)[0].astype(np.float32)


def engine_with(base: SearchEngine, index_dir: Path, model: Any, texts: list[str]) -> SearchEngine:
    """The benchmark's engine with every document and query embedded by `model`."""
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    catalogue = pd.read_parquet(index_dir / CATALOGUE_FILE)
    index = build_vector_index(np.asarray(vectors, dtype=np.float32), base.config.vector)
    return SearchEngine(catalogue, index, base._lexical, TorchQueries(model), base.config, base.manifest)  # type: ignore[arg-type]


def per_query_recall(engine: SearchEngine, queries: list[dict[str, Any]]) -> np.ndarray:
    """recall@20 of the default (hybrid) mode per judged query, in the query set's order."""
    out = []
    for item in queries:
        ranked = [h.movie_id for h in engine.search(item["query"], k=bench_search.RECALL_K).hits]
        out.append(bench_search.recall_at(ranked, {int(m) for m in item["relevant"]}, bench_search.RECALL_K))
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="Training batches of 32 (one pass is about 270).")
    parser.add_argument("--freeze", type=int, default=3, help="Bottom transformer layers kept as shipped (of 6).")
    parser.add_argument("--holdout", action="store_true", help="Train on no phrase holding a judged query's word.")
    args = parser.parse_args()
    config = bench_search._config()
    index_dir = bench_search.prepare(config, rebuild=False, variant="metadata")
    tables = read_tables(bench_search.WORKDIRS["metadata"] / "processed")
    queries = bench_search.load_queries()
    held_out: set[str] = set()
    if args.holdout:
        words = (re.findall(r"[\w-]+", q["query"].lower()) for q in queries)
        held_out = {w for ws in words for w in ws if len(w) > 3 and w not in FILLER}
    pairs = pseudo_queries(tables["movies"], tables["tags"], held_out)
    print(f"{len(pairs)} pseudo-query pairs ({len(held_out)} query words held out); e.g. {pairs[0][0]!r}")

    start = time.perf_counter()
    adapted = fine_tune(pairs, args.steps, args.freeze)
    train_s = time.perf_counter() - start
    base = SearchEngine.load(index_dir, config)
    texts = [d.text for d in build_documents(tables["movies"], tables["tags"], config.encoder)]
    results: dict[str, Any] = {}
    recalls: dict[str, np.ndarray] = {}
    for name, model in (("stock", load_sentence_model(config.encoder)), ("adapted", adapted)):
        engine = engine_with(base, index_dir, model, texts)
        quality = bench_search.quality(engine, queries)
        title = bench_search.quality(engine, bench_search.load_queries(section="title_queries"))
        recalls[name] = per_query_recall(engine, queries)
        modes = ("semantic", "hybrid")
        results[name] = {m: {k: v for k, v in quality[m].items() if k != "per_query_ndcg@10"} for m in modes}
        results[name]["title_queries_hybrid_ndcg@10"] = title["hybrid"]["ndcg@10"]
    mean, low, high = paired_difference_ci(recalls["adapted"], recalls["stock"], n_resamples=2000, seed=SEED)
    rows = [
        (f"{name} {m}", *(f"{r[m][key]:.3f}" for key in ("ndcg@10", "recall@20", "best_recall@20_cutoff")))
        for name, r in results.items()
        for m in ("semantic", "hybrid")
    ]
    print(bench_search._table(rows, ("encoder, mode", "nDCG@10", "recall@20", "best@20 cut-off")))
    print(f"hybrid recall@20, adapted - stock: {mean:+.3f} (paired 95% interval {low:+.3f} to {high:+.3f}, 35 queries)")
    print(f"fine-tuning: {args.steps} steps in {train_s:.0f} s")
    out = ROOT / "benchmarks" / "results" / f"search_finetune{'_holdout' if args.holdout else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "steps": args.steps,
        "freeze": args.freeze,
        "holdout_words": sorted(held_out),
        "pairs": len(pairs),
        "train_seconds": round(train_s, 1),
        "results": results,
        "hybrid_recall@20_difference": {"mean": mean, "ci95": [low, high]},
    }
    write_json(out, report)


if __name__ == "__main__":
    main()

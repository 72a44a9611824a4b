"""Item cold start: films held out of training, recommended and found as similar through their content alone.

A seeded sample of films with at least --min-ratings ratings (so their collaborative neighbours mean something) loses
every rating from training and validation: to the models they are new catalogue entries with only genres and year
(and a text embedding with --embeddings). The neural models give an item that no training row mentions a vector from
its content alone (models/sequences.py, `_place_unseen`). Measured on those films:

1. Similar films: each held-out film's 10 nearest films by the Two-Tower item vectors against its 10 nearest by the
   full data's ratings (cosine of the films' binary user columns, the held-out ratings included): overlap@10 (share
   of that top 10 found) and captured similarity (the ratings cosine summed over the 10 picks / the same for the
   ideal 10). Warm films sampled the same way (trained normally) show what ratings give. Baselines: random films, the
   most rated films, nearest by genres (Jaccard; the text embeddings' cosine too when given).
2. Next item: every rating of a held-out film is an event, history = the user's earlier ratings (held-out films
   removed), target = the held-out film. HR@10 and NDCG@10 against the whole catalogue (history removed) and HR@10
   among the held-out films only ("which new film next?"). Baselines: random, popularity (a film without ratings has
   no count), a genre profile (the history's mean genre vector dotted with each film's genres); baseline ties are
   broken at random. Also the share of test users' top-10 slots that held-out films take (do they flood the lists?)
   against their share of the catalogue and of all ratings.

Models are trained with params.yaml's settings for the data set (fit with early stopping on validation, no refit).

Run: .venv/bin/python -m benchmarks.bench_cold_start [--dataset ml-100k] [--cold 150] [--embeddings PATH]
Prints a table and writes benchmarks/results/cold_start-<dataset>.json.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_models import load_data
from benchmarks.output import print_header, write_json
from movie_genie.config import load_params
from movie_genie.evaluation.metrics import EvalSet, make_validator
from movie_genie.models.base import Recommender, TrainingData
from movie_genie.models.common import interaction_matrix
from movie_genie.models.content import ItemContent
from movie_genie.models.sasrec import SasRec
from movie_genie.models.sequences import user_sequences
from movie_genie.models.two_tower import TwoTower

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
K = 10


def full_sequences(data: TrainingData, test: EvalSet) -> list[np.ndarray]:
    """Every user's items in time order over train + validation + test (index = user_idx)."""
    seqs = user_sequences(data.train, data.id_map.n_users)  # users kept out of evaluation: training rows only
    for user, history, target in zip(test.user_idx, test.histories, test.targets, strict=True):
        seqs[int(user)] = np.asarray([*history, int(target)], dtype=np.int64)  # test history = train + valid
    return seqs


def pick_films(counts: np.ndarray, n: int, min_ratings: int, rng: np.random.Generator, skip: np.ndarray) -> np.ndarray:
    """A seeded sample of n item indices with at least `min_ratings` ratings, none of `skip`."""
    pool = np.flatnonzero((counts >= min_ratings) & ~skip)
    return np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))


def without_items(data: TrainingData, cold: np.ndarray) -> TrainingData:
    """The same data with every training and validation row of the `cold` items (bool mask) removed."""
    keep_train = ~cold[data.train["item_idx"].to_numpy()]
    keep_valid = ~cold[data.valid["item_idx"].to_numpy()]
    return replace(data, train=data.train[keep_train].reset_index(drop=True), valid=data.valid[keep_valid])


# ------------------------------------------------------------------------------------------- similar films
def ratings_cosine(seqs: list[np.ndarray], n_items: int, films: np.ndarray) -> np.ndarray:
    """(len(films), n_items) cosine between each film's binary user column and every film's, in the full data."""
    frame = pd.DataFrame(
        {"user_idx": np.repeat(np.arange(len(seqs)), [len(s) for s in seqs]), "item_idx": np.concatenate(seqs)}
    )
    matrix = interaction_matrix(frame, len(seqs), n_items).tocsc()
    norms = np.sqrt(np.asarray(matrix.sum(axis=0)).ravel())
    overlap = (matrix[:, films].T @ matrix).toarray()
    return overlap / np.maximum(norms[films, None] * norms[None, :], 1e-12)


def top_k(scores: np.ndarray, films: np.ndarray) -> np.ndarray:
    """(len(films), K) best columns of each row, the film itself excluded."""
    scores = scores.astype(np.float64, copy=True)
    scores[np.arange(len(films)), films] = -np.inf
    return np.argpartition(-scores, K, axis=1)[:, :K]


def similarity_quality(picks: np.ndarray, truth: np.ndarray, films: np.ndarray) -> dict[str, float]:
    """overlap@10 with the ratings' top 10, and the ratings cosine captured by the picks (1 = the ideal 10)."""
    ideal = top_k(truth, films)
    rows = np.arange(len(films))[:, None]
    found = np.mean([len(np.intersect1d(p, i)) / K for p, i in zip(picks, ideal, strict=True)])
    captured = truth[rows, picks].sum(axis=1) / np.maximum(truth[rows, ideal].sum(axis=1), 1e-12)
    return {"overlap10": float(found), "captured": float(captured.mean())}


def similar_scores(
    vectors: dict[str, np.ndarray], genres: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Method -> (films -> (len(films), n_items) similarity scores)."""
    binary = (genres > 0).astype(np.float64)
    size = binary.sum(axis=1)
    jitter = 1e-6 * rng.random(len(counts))  # random tie-breaking
    popularity = counts / max(counts.max(), 1) * 1e-3

    def jaccard(films: np.ndarray) -> np.ndarray:
        inter = binary[films] @ binary.T
        return inter / np.maximum(size[films, None] + size[None, :] - inter, 1) + popularity + jitter

    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "random": lambda films: rng.random((len(films), len(counts))),
        "popularity": lambda films: np.broadcast_to(counts + jitter, (len(films), len(counts))),
        "genres (Jaccard)": jaccard,
    }
    for name, v in vectors.items():
        methods[name] = lambda films, v=v: v[films] @ v.T
    return methods


# ------------------------------------------------------------------------------------------------ next item
def cold_events(
    seqs: list[np.ndarray], cold: np.ndarray, limit: int, rng: np.random.Generator
) -> tuple[list[list[int]], np.ndarray]:
    """Every rating of a cold film with a non-empty history of earlier warm films (a seeded sample of `limit`)."""
    histories, targets = [], []
    for seq in seqs:
        warm_so_far: list[int] = []
        for item in seq.tolist():
            if cold[item]:
                if warm_so_far:
                    histories.append(list(warm_so_far))
                    targets.append(item)
            else:
                warm_so_far.append(item)
    keep = np.sort(rng.choice(len(targets), size=min(limit, len(targets)), replace=False))
    return [histories[i] for i in keep], np.asarray(targets, dtype=np.int64)[keep]


def rank_events(
    score: Callable[[list[list[int]]], np.ndarray], histories: list[list[int]], targets: np.ndarray, cold: np.ndarray
) -> dict[str, float]:
    """HR@10 / NDCG@10 of each event's target against every film (history removed) and HR@10 among cold films."""
    full, among_cold = [], []
    for start in range(0, len(targets), 256):
        batch, goal = histories[start : start + 256], targets[start : start + 256]
        scores = np.array(score(batch), dtype=np.float64)
        rows = np.arange(len(batch))
        for row, history in enumerate(batch):
            scores[row, history] = -np.inf
        target_scores = scores[rows, goal][:, None]
        full.append((scores > target_scores).sum(axis=1))
        among_cold.append((scores[:, cold] > target_scores).sum(axis=1))
    ranks, cold_ranks = np.concatenate(full), np.concatenate(among_cold)
    return {
        "hr10": float((ranks < K).mean()),
        "ndcg10": float(np.where(ranks < K, 1.0 / np.log2(ranks + 2.0), 0.0).mean()),
        "hr10_among_cold": float((cold_ranks < K).mean()),
        "median_rank": float(np.median(ranks)),
    }


def flood_share(model: Recommender, test: EvalSet, cold: np.ndarray) -> float:
    """Share of the test users' top-10 slots (histories without cold films) that go to cold films."""
    histories = [[i for i in h if not cold[i]] for h in test.histories]
    slots = []
    for start in range(0, len(histories), 256):
        batch = histories[start : start + 256]
        scores = np.array(model.score_batch(batch), dtype=np.float64)
        for row, history in enumerate(batch):
            scores[row, history] = -np.inf
        slots.append(cold[np.argpartition(-scores, K, axis=1)[:, :K]])
    return float(np.concatenate(slots).mean())


def baseline_scorers(
    genres: np.ndarray, counts: np.ndarray, rng: np.random.Generator
) -> dict[str, Callable[[list[list[int]]], np.ndarray]]:
    """Random, popularity and genre-profile scores for a batch of histories (ties broken at random)."""
    n = len(counts)

    def profile(batch: list[list[int]]) -> np.ndarray:
        taste = np.stack([genres[h].mean(axis=0) for h in batch])  # (B, n_genres)
        return taste @ genres.T + 1e-9 * rng.random((len(batch), n))

    return {
        "random": lambda batch: rng.random((len(batch), n)),
        "popularity": lambda batch: counts[None, :] + 1e-6 * rng.random((len(batch), n)),
        "genre profile": profile,
    }


# ------------------------------------------------------------------------------------------------ main
def run(
    dataset: str, n_cold: int, min_ratings: int, max_events: int, embeddings: Path | None, with_sasrec: bool
) -> dict[str, Any]:
    """Hold films out, train, measure similar films and next-item ranking of the held-out films."""
    rng = np.random.default_rng(0)
    data, _, test = load_data(dataset, embeddings)
    n_items = data.id_map.n_items
    seqs = full_sequences(data, test)
    all_counts = np.bincount(np.concatenate(seqs), minlength=n_items)
    cold_films = pick_films(all_counts, n_cold, min_ratings, rng, np.zeros(n_items, dtype=bool))
    cold = np.zeros(n_items, dtype=bool)
    cold[cold_films] = True
    warm_films = pick_films(all_counts, n_cold, min_ratings, rng, cold)
    train = without_items(data, cold)
    counts = np.bincount(train.train["item_idx"].to_numpy(), minlength=n_items).astype(np.float64)
    content = ItemContent.from_data(train, use_text=True)
    section = load_params(ROOT / "params.yaml").section("models")

    two_tower = TwoTower.from_params(section.get("two_tower"), dataset)
    models: dict[str, Recommender] = {"two_tower": two_tower}  # its item vectors answer "similar films"
    if with_sasrec:
        models["sasrec"] = SasRec.from_params(section.get("sasrec"), dataset)
    seconds: dict[str, float] = {}
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(train, make_validator(train))
        seconds[name] = time.perf_counter() - start
        print(f"trained {name} in {seconds[name]:.0f} s", flush=True)

    # 1. Similar films.
    vectors = {"two_tower": two_tower.item_vectors()}
    if content.text is not None:
        text = content.text / np.maximum(np.linalg.norm(content.text, axis=1, keepdims=True), 1e-12)
        vectors["text embedding"] = text
    similar: dict[str, dict[str, dict[str, float]]] = {}
    for group, films in (("cold", cold_films), ("warm", warm_films)):
        truth = ratings_cosine(seqs, n_items, films)
        for name, scores in similar_scores(vectors, content.genres, counts, rng).items():
            similar.setdefault(name, {})[group] = similarity_quality(top_k(scores(films), films), truth, films)

    # 2. Next item.
    histories, targets = cold_events(seqs, cold, max_events, rng)
    scorers: dict[str, Callable[[list[list[int]]], np.ndarray]] = dict(baseline_scorers(content.genres, counts, rng))
    for name, model in models.items():
        scorers[name] = model.score_batch
    next_item = {name: rank_events(score, histories, targets, cold) for name, score in scorers.items()}
    for name, model in models.items():
        next_item[name]["top10_share_of_cold"] = flood_share(model, test, cold)
    return {
        "dataset": dataset,
        "n_items": n_items,
        "cold_films": len(cold_films),
        "cold_catalogue_share": float(cold.mean()),
        "min_ratings": min_ratings,
        "cold_ratings_removed": int(all_counts[cold].sum()),
        "cold_rating_share": float(all_counts[cold].sum() / all_counts.sum()),
        "text_embeddings": content.text is not None,
        "events": len(targets),
        "train_seconds": seconds,
        "similar": similar,
        "next_item": next_item,
    }


def print_table(result: dict[str, Any]) -> None:
    """Two small tables: similar films (cold vs warm) and next-item ranking of held-out films."""
    print(
        f"{result['dataset']}: {result['cold_films']} films held out ({result['cold_catalogue_share']:.1%} of the "
        f"catalogue) with {result['cold_ratings_removed']} ratings ({result['cold_rating_share']:.1%} of all); "
        f"text embeddings: {result['text_embeddings']}"
    )
    header = f"{'similar films':<18} {'cold overlap@10':>15} {'cold captured':>13} {'warm overlap@10':>15} "
    header += f"{'warm captured':>13}"
    print_header(header)
    for name, row in result["similar"].items():
        print(
            f"{name:<18} {row['cold']['overlap10']:>15.3f} {row['cold']['captured']:>13.3f} "
            f"{row['warm']['overlap10']:>15.3f} {row['warm']['captured']:>13.3f}"
        )
    print()
    header = f"{'next item':<14} {'HR@10':>7} {'NDCG@10':>8} {'HR@10 among cold':>16} {'median rank':>11} "
    header += f"{'cold share of top 10':>20}"
    print(f"{result['events']} events: a held-out film rated after a history of other films")
    print_header(header)
    for name, row in result["next_item"].items():
        share = row.get("top10_share_of_cold")
        print(
            f"{name:<14} {row['hr10']:>7.4f} {row['ndcg10']:>8.4f} {row['hr10_among_cold']:>16.4f} "
            f"{row['median_rank']:>11.0f} {('' if share is None else f'{share:.4f}'):>20}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the tables, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="ml-100k", choices=["ml-100k", "ml-latest-small"])
    parser.add_argument("--cold", type=int, default=150, help="films held out of training")
    parser.add_argument("--min-ratings", type=int, default=20, help="ratings a held-out film has in the full data")
    parser.add_argument("--max-events", type=int, default=4000, help="held-out ratings ranked as next items")
    parser.add_argument("--embeddings", type=Path, default=None, help="embeddings.npz (item text feature)")
    parser.add_argument("--no-sasrec", action="store_true", help="train only the Two-Tower (faster)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.dataset, args.cold, args.min_ratings, args.max_events, args.embeddings, not args.no_sasrec)
    result["load_average"] = list(os.getloadavg())
    print_table(result)
    output = args.output or RESULTS / f"cold_start-{args.dataset}.json"
    write_json(output, result)


if __name__ == "__main__":
    main()

"""Responsiveness to a dislike: how the served top 10 reacts AT ONCE to one rating, in the spirit of Wang et al.,
"Learning from Negative User Feedback and Measuring Responsiveness for Sequential Recommenders" (RecSys 2023).

For a seeded sample of MovieLens users, through the real API (`create_app`, the default model: the hybrid):
1. GET /api/recommendations?user_id=U&k=10 (before). f = the film at rank 1; S = the 20 films most similar to f
   by MiniLM text embeddings (artifacts/embeddings/embeddings.npz, cosine), leaving out f and every film the user
   already rated or marked (they can never be served). The similarity is deliberately independent of the rule under
   test, which pushes down the Two-Tower neighbours of a negative signal (product.UserView.ordered): measuring with
   the Two-Tower space would be circular.
2. POST /api/feedback rating f 1 star, then the top 10 again (after): how many S films are in it before and after,
   and the ranks the S films served before have after (11 when they left the top 10).
3. DELETE /api/feedback takes the rating back; the top 10 must be exactly the one before (a correctness figure).
   Then the same with a 5-star rating: the contrast, where the neighbours of a liked film should not sink.

Per condition: the mean number of S films in the top 10 before and after, the relative drop (per user,
1 - after/before, over the users with at least one S film before), the share of those users whose top 10 lost
every S film, each with a 95% bootstrap interval over users, the mean rank of the S films served before (f itself
leaves rank 1 once rated, so the others rise by one when nothing else moves), the rule's own Two-Tower neighbours
of f in the top 10 (a check that the rule fired, not a measure), the users whose list was not restored after
DELETE, and the p50/p95 latency of the recommendation requests right after a rating (cache misses: the feedback version
changed).

Everything runs on a copy of the SQLite database (online.simulation_db.copy_database), deleted afterwards: the product
database is never written.

Run: nice -n 10 .venv/bin/python -m benchmarks.bench_responsiveness [--users 100] [--seed 0] [--params params.yaml]
Writes benchmarks/results/responsiveness.json (with every user's lists) and docs/results/responsiveness.json (the
summary the docs render).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from flask.testing import FlaskClient
from sqlalchemy import select

from benchmarks.output import write_json
from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Layout, Params, Settings, load_params
from movie_genie.db.feedback import user_marks
from movie_genie.db.models import User
from movie_genie.errors import MovieGenieError
from movie_genie.evaluation.metrics import bootstrap_ci
from movie_genie.online.simulation_db import copy_database, migrate_copy, sqlite_path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "responsiveness.json"  # with every user's lists
DOCS_RESULTS = ROOT / "docs" / "results" / "responsiveness.json"  # the summary the docs render
K = 10
NEIGHBOURS = 20  # |S|: as many as the rule pushes down per negative (ItemSpace.NEIGHBOURS)
CONDITIONS = {"1 star": 1.0, "5 stars": 5.0}
RESAMPLES = 1000  # bootstrap resamples, as params.yaml evaluation.bootstrap_resamples


class TextSpace:
    """The independent similarity: cosine of the MiniLM text embeddings of the films."""

    def __init__(self, path: Path) -> None:
        data = np.load(path)
        vectors = data["embedding"].astype(np.float32)
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.ids = data["movie_id"].astype(np.int64)
        self.row = {int(m): i for i, m in enumerate(self.ids)}

    def nearest(self, movie_id: int, n: int, leave_out: set[int]) -> list[int]:
        """The n films closest to `movie_id`, most similar first, none of `leave_out` (nor the film itself)."""
        similarity = self.vectors @ self.vectors[self.row[movie_id]]
        ranked = (int(m) for m in self.ids[np.argsort(-similarity, kind="stable")])
        return [m for m in ranked if m != movie_id and m not in leave_out][:n]


def _app_params(params_file: Path) -> Params:
    """The served params, minus what would blur the measure: no experiment (the default model answers every
    request), no rate limit (one client sends everything), no impression log (nothing here clicks)."""
    raw = load_params(params_file).model_dump(mode="json")
    raw["experiments"] = []
    raw["serving"] = {**(raw.get("serving") or {}), "rate_limit": None, "log_impressions": False}
    return Params.model_validate(raw)


def _call(client: FlaskClient, method: str, url: str, **kwargs: Any) -> tuple[Any, float]:
    """The JSON body of a successful request and its latency in ms."""
    start = time.perf_counter()
    response = client.open(url, method=method, **kwargs)
    ms = (time.perf_counter() - start) * 1000
    if response.status_code not in (200, 201):
        raise MovieGenieError(f"{method} {url} answered {response.status_code}: {response.get_data(as_text=True)}")
    return response.get_json(), ms


def _top(client: FlaskClient, user: int) -> tuple[list[int], float, bool]:
    """The user's top K from the default model, the latency, and whether it came from the cache."""
    body, ms = _call(client, "GET", f"/api/recommendations?user_id={user}&k={K}")
    if body["meta"]["model"] != "hybrid":
        raise MovieGenieError(f"user {user} was served by {body['meta']['model']}, not the hybrid")
    return [item["movie"]["movie_id"] for item in body["data"]["items"]], ms, bool(body["meta"]["cached"])


def _user(client: FlaskClient, services: Services, text: TextSpace, user: int) -> dict[str, Any]:
    """One user: the top K before, then per condition the top K after the rating and after taking it back."""
    before, _, _ = _top(client, user)
    f = before[0]
    with services.db.session() as session:
        touched = set(user_marks(session, user).marks)
    similar = text.nearest(f, NEIGHBOURS, touched)
    in_before = [m for m in before if m in similar]
    # The rule's own neighbours of f (Two-Tower): circular as a measure, but it shows whether the rule fired.
    pushed = services.recommendations.space.near([f]) - {f}
    record: dict[str, Any] = {
        "user_id": user,
        "f": f,
        "before": before,
        "s_before": len(in_before),
        "rule_before": sum(m in pushed for m in before),
    }
    for name, stars in CONDITIONS.items():
        mark = {"user_id": user, "movie_id": f, "kind": "rating", "value": stars}
        _, write_ms = _call(client, "POST", "/api/feedback", json=mark)
        after, ms, cached = _top(client, user)
        _call(client, "DELETE", f"/api/feedback?user_id={user}&movie_id={f}&kind=rating")
        restored, _, _ = _top(client, user)
        record[name] = {
            "after": after,
            "s_after": sum(m in similar for m in after),
            "rule_after": sum(m in pushed for m in after),
            # 1-based ranks of the S films served before, after the rating (K + 1: they left the top K).
            "ranks_before": [before.index(m) + 1 for m in in_before],
            "ranks_after": [after.index(m) + 1 if m in after else K + 1 for m in in_before],
            "restored": restored == before,
            "ms": ms,
            "write_ms": write_ms,
            "cached": cached,
        }
    return record


def _interval(values: list[float], seed: int) -> dict[str, Any]:
    """Mean over users and its 95% bootstrap interval."""
    array = np.asarray(values, dtype=np.float64)
    if not array.size:
        return {"mean": None, "low": None, "high": None, "n": 0}
    low, high = bootstrap_ci(array, RESAMPLES, seed)
    return {"mean": float(array.mean()), "low": low, "high": high, "n": int(array.size)}


def _summary(records: list[dict[str, Any]], name: str, seed: int) -> dict[str, Any]:
    rows = [(r["s_before"], r[name]) for r in records]
    exposed = [(b, c) for b, c in rows if b > 0]  # only these users can lose S films
    latencies = np.asarray([c["ms"] for _, c in rows])
    return {
        "s_before": _interval([b for b, _ in rows], seed),
        "s_after": _interval([c["s_after"] for _, c in rows], seed),
        "relative_drop": _interval([1 - c["s_after"] / b for b, c in exposed], seed),
        "lost_all": _interval([float(c["s_after"] == 0) for _, c in exposed], seed),
        "mean_rank_before": float(np.mean([np.mean(c["ranks_before"]) for _, c in exposed])) if exposed else None,
        "mean_rank_after": float(np.mean([np.mean(c["ranks_after"]) for _, c in exposed])) if exposed else None,
        "rule_neighbours_before": float(np.mean([r["rule_before"] for r in records])),
        "rule_neighbours_after": float(np.mean([c["rule_after"] for _, c in rows])),
        "not_restored": [r["user_id"] for r in records if not r[name]["restored"]],
        "after_rating_cache_hits": sum(c["cached"] for _, c in rows),
        "after_rating_ms": {"p50": float(np.percentile(latencies, 50)), "p95": float(np.percentile(latencies, 95))},
        "write_ms_p50": float(np.median([c["write_ms"] for _, c in rows])),
    }


def _ci(entry: dict[str, Any]) -> str:
    if entry["mean"] is None:
        return "-"
    return f"{entry['mean']:.2f} [{entry['low']:.2f}, {entry['high']:.2f}]"


def table(result: dict[str, Any]) -> str:
    lines = [
        f"Responsiveness: {result['users']} users (seed {result['seed']}), top {K} of the hybrid, S = {NEIGHBOURS} "
        "MiniLM neighbours of the rank-1 film f",
        "",
        "| rating of f | S in top 10 before | S in top 10 after | relative drop (users) | lost every S film "
        "| rank of S before -> after | rule's own neighbours before -> after | not restored "
        "| after-rating GET p50 / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in result["conditions"].items():
        ranks = "-" if s["mean_rank_before"] is None else f"{s['mean_rank_before']:.1f} -> {s['mean_rank_after']:.1f}"
        ms = s["after_rating_ms"]
        lines.append(
            f"| {name} | {_ci(s['s_before'])} | {_ci(s['s_after'])} | {_ci(s['relative_drop'])} "
            f"({s['relative_drop']['n']}) | {_ci(s['lost_all'])} | {ranks} "
            f"| {s['rule_neighbours_before']:.2f} -> {s['rule_neighbours_after']:.2f} | {len(s['not_restored'])} "
            f"| {ms['p50']:.1f} / {ms['p95']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.chdir(ROOT)  # params.yaml's paths (data/, artifacts/) are relative to the project root
    params = _app_params(args.params)
    layout = Layout.from_params(params)
    text = TextSpace(layout.embeddings_dir / "embeddings.npz")
    source = sqlite_path(Settings.from_env(layout.data_dir).database_url)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-responsiveness-") as tmp:
        copy = Path(tmp) / "responsiveness.db"
        copy_database(source, copy)
        migrate_copy(copy)
        settings = Settings(database_url=f"sqlite:///{copy}", redis_url=None, tmdb_api_key=None, cors_origins=())
        app = create_app(settings, params)  # demo mode (the default): MovieLens users are writable
        services: Services = app.extensions[EXTENSION_KEY]
        try:
            # Without Two-Tower the rule falls back to text vectors, the measuring space: the figures would be circular.
            missing = [m for m in ("hybrid", "two_tower") if m not in services.models.models]
            if missing:
                why = "; ".join(f"{m}: {services.models.errors.get(m, 'not loaded')}" for m in missing)
                raise MovieGenieError(f"the hybrid and Two-Tower must be loaded ({why}): run the pipeline")
            with services.db.session() as session:
                candidates = sorted(session.execute(select(User.user_id).where(User.source == "movielens")).scalars())
            sample = random.Random(args.seed).sample(candidates, min(args.users, len(candidates)))
            with app.test_client() as client:
                records = [_user(client, services, text, u) for u in sample]
        finally:
            services.db.engine.dispose()
    result: dict[str, Any] = {
        "benchmark": "responsiveness",
        "command": "nice -n 10 python -m benchmarks.bench_responsiveness"
        + (f" --users {args.users}" if args.users != 100 else "")
        + (f" --seed {args.seed}" if args.seed else ""),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "database": f"a copy of {source} (deleted afterwards)",
        "users": len(records),
        "seed": args.seed,
        "k": K,
        "neighbours": NEIGHBOURS,
        "seconds": round(time.perf_counter() - start, 1),
        "conditions": {name: _summary(records, name, args.seed) for name in CONDITIONS},
        "records": records,
    }
    summary = {name: value for name, value in result.items() if name != "records"}
    for path, payload in ((RESULTS, result), (DOCS_RESULTS, summary)):
        write_json(path, payload)
    print(table(result))


if __name__ == "__main__":
    main()

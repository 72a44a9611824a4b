"""The online loop in one scripted run on the pipeline's data set (docs/online-evaluation.md):

1. **Simulated experiments**: `movie-genie simulate` runs an A/B test and a team-draft interleaving experiment for
   each pair of models (`--pair A B`, repeatable), over every test user it can enrol; the table says whether each
   names the model the offline report ranks higher, and how many simulated users it needed.
2. **App feedback through the API**: new profiles are created from a few films they like, and data set users open
   a film from their home page's first row (a click), rate it and dislike another: impressions, clicks and marks.
3. **Retrain** (`movie-genie retrain`) folds that feedback into a new version of `--retrain` models, compared with
   the serving ones on the same users.
4. **Hot reload under load**: >= 32 clients for >= 30 s while the new version is promoted and rolled back
   (benchmarks/bench_reload.py); every request must succeed.
5. **Queries** of what was logged: impressions per surface and the clicks and marks credited to them.

Steps 2-5 run in a sandbox (copies of the artifacts folder and of the SQLite database), the simulator on its own
copy: the checkout's database and serving state are not changed.

Run: .venv/bin/python -m benchmarks.bench_online_loop [--params params.yaml] [--pair hybrid popularity]
     [--pair two_tower ease] [--users 610] [--retrain ease --retrain popularity] [--clients 32] [--seconds 36]
Writes benchmarks/results/online_loop.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks.bench_reload import Sandbox, load_test, passed, table
from benchmarks.output import write_json
from movie_genie.api.app import create_app
from movie_genie.api.harness import AppHarness
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Settings, load_params
from movie_genie.db.engine import make_engine
from movie_genie.db.models import Impression, ImpressionEvent
from movie_genie.online.serving import ServingStore
from movie_genie.online.simulator import simulate
from movie_genie.training.retrain import run_retrain

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "online_loop.json"
ADMIN = "online-loop-benchmark-admin"


def _simulations(params_file: Path, pairs: list[list[str]], users: int, database_url: str) -> list[dict[str, Any]]:
    params = load_params(params_file)
    settings = Settings(database_url=database_url, redis_url=None, tmdb_api_key=None, cors_origins=())
    rows = []
    for a, b in pairs:
        for design in ("ab", "interleaving"):
            start = time.perf_counter()
            result = simulate(
                params,
                f"{a}-vs-{b}-{design}",
                AppHarness,
                users=users,
                design=design,
                variants=(a, b),
                horizon=1,
                settings=settings,
            )
            online = result.online
            decision = online["decision"]
            rows.append(
                {
                    "pair": [a, b],
                    "design": design,
                    "users": len(result.users),
                    "offline_winner": result.users_needed["offline_winner"],
                    "verdict": decision["verdict"],
                    "online_winner": decision["winner"],
                    "agree": result.users_needed["agree"],
                    "users_needed": result.users_needed["first_checkpoint"],
                    "stable_from": result.users_needed["stable_from"],
                    "per_variant": {v["variant"]: v["ctr"] for v in online["per_variant"]},
                    "interleaving": online["interleaving"],
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
            print(f"simulate {a} vs {b} ({design}): {decision['verdict']} {decision['winner'] or ''}", flush=True)
    return rows


def _app_feedback(sandbox: Sandbox, new_profiles: int, active_users: int, seed: int) -> dict[str, int]:
    """Profiles and marks made through the API as the web app makes them (demo mode: data set users may write)."""
    rng = random.Random(seed)
    settings = Settings(database_url=sandbox.database_url, redis_url=None, tmdb_api_key=None, cors_origins=())
    app = create_app(settings, load_params(sandbox.params_file))
    services: Services = app.extensions[EXTENSION_KEY]
    counts = {"profiles": 0, "clicks": 0, "ratings": 0, "dislikes": 0}
    popular = [m.movie_id for m in services.catalogue.movies.values() if m.rating_count >= 50]
    try:
        with app.test_client() as client:
            for i in range(new_profiles):
                liked = rng.sample(popular, 5)
                made = client.post("/api/users", json={"display_name": f"Loop {i + 1}", "liked_movie_ids": liked})
                assert made.status_code == 201, made.get_json()
                counts["profiles"] += 1
            users = [u for u in range(1, active_users + 1)]
            for user_id in users:
                home = client.get(f"/api/users/{user_id}/home").get_json()
                rows = [r for r in home["data"]["rows"] if not r["history"] and r["items"]]
                impression_id = home["meta"]["impression_ids"][rows[0]["id"]]
                opened = rows[0]["items"][0]["movie"]["movie_id"]
                clicked = client.post(f"/api/impressions/{impression_id}/clicks", json={"movie_id": opened})
                assert clicked.status_code == 201, clicked.get_json()
                counts["clicks"] += 1
                mark = {"user_id": user_id, "movie_id": opened, "kind": "rating", "value": 4.5}
                assert client.post("/api/feedback", json=mark).status_code in (200, 201)
                counts["ratings"] += 1
                other = rows[-1]["items"][-1]["movie"]["movie_id"]
                dislike = {"user_id": user_id, "movie_id": other, "kind": "dislike"}
                assert client.post("/api/feedback", json=dislike).status_code in (200, 201)
                counts["dislikes"] += 1
        services.online.impressions.settle()
    finally:
        if services.online.impressions.writer is not None:
            services.online.impressions.writer.close()
        services.db.engine.dispose()
    return counts


def _logged(database_url: str) -> dict[str, Any]:
    """What the sandbox database holds: impressions per surface, credited events per kind (the queries an analyst
    runs; docs/online-evaluation.md shows them in SQL)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            surfaces = connection.execute(
                select(Impression.surface, func.count()).group_by(Impression.surface).order_by(Impression.surface)
            ).all()
            events = connection.execute(
                select(ImpressionEvent.kind, func.count()).group_by(ImpressionEvent.kind).order_by(ImpressionEvent.kind)
            ).all()
    finally:
        engine.dispose()
    return {"impressions": {s: int(n) for s, n in surfaces}, "events": {k: int(n) for k, n in events}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--pair", nargs=2, action="append", default=None, metavar=("A", "B"))
    parser.add_argument("--users", type=int, default=610, help="simulated users per experiment (at most all)")
    parser.add_argument("--profiles", type=int, default=20, help="new profiles made through the API")
    parser.add_argument("--active-users", type=int, default=60, help="data set users who click, rate and dislike")
    parser.add_argument("--retrain", action="append", default=None, help="models to retrain [ease, popularity]")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=36.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pairs = args.pair or [["hybrid", "popularity"], ["two_tower", "ease"]]
    retrain = args.retrain or ["ease", "popularity"]
    result: dict[str, Any] = {
        "benchmark": "online_loop",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    with tempfile.TemporaryDirectory(prefix="bench-online-loop-") as tmp:
        sandbox = Sandbox.make(args.params, Path(tmp))
        result["simulations"] = _simulations(args.params, pairs, args.users, sandbox.database_url)
        result["feedback"] = _app_feedback(sandbox, args.profiles, args.active_users, args.seed)
        engine = make_engine(sandbox.database_url)
        try:
            start = time.perf_counter()
            serving = ServingStore(sandbox.layout).state().active
            manifest = run_retrain(load_params(sandbox.params_file), sandbox.layout, engine, retrain, serving=serving)
            result["retrain"] = {
                "version": manifest.id,
                "seconds": round(time.perf_counter() - start, 1),
                **json.loads(manifest.model_dump_json(include={"data", "models", "test_users"})),
            }
        finally:
            engine.dispose()
        result["load_test"] = load_test(
            sandbox, retrain[0], manifest.id, args.clients, args.seconds, args.workers, Path(tmp) / "serve.log"
        )
        result["logged"] = _logged(sandbox.database_url)
    write_json(RESULTS, result)

    print("\n1. Simulated experiments (every enrolled test user; horizon 1: decided once, on all of them)")
    print(f"{'pair':<22} {'design':<13} {'users':>5} {'offline':<10} {'online':<28} {'needed':>6}  agrees")
    for row in result["simulations"]:
        online = f"{row['verdict']} {row['online_winner'] or ''}".strip()
        needed = row["users_needed"] if row["users_needed"] is not None else "-"
        print(
            f"{' vs '.join(row['pair']):<22} {row['design']:<13} {row['users']:>5} {row['offline_winner'] or '-':<10} "
            f"{online:<28} {needed:>6}  {row['agree']}"
        )
    print(f"\n2. App feedback through the API: {result['feedback']}")
    r = result["retrain"]
    print(f"\n3. Retrain -> {r['version']} in {r['seconds']} s; folded: {r['data']}")
    for name, entry in r["models"].items():
        diff = entry["vs_current"]
        versus = "" if diff is None else f", minus {diff['against']}: {diff['difference']:+.4f} {diff['ci']}"
        print(f"   {name}: test NDCG@10 {entry['test']['ndcg10']:.4f}{versus}")
    print("\n4. " + table(result["load_test"]))
    print(f"\n5. Logged in the sandbox database: {result['logged']}")
    print(f"-> {RESULTS}")
    if not passed(result["load_test"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

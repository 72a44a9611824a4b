"""Reasons benchmark: what the home page's reasons say, and what finding the film that drives each pick costs.

"Because you liked X" names the liked film whose removal from the model's input lowers the pick's score the most
(leave-one-out attribution, api/services/explanations.py): each model row scores the history once more per candidate
film, in one batch. This benchmark builds the home page of a seeded sample of MovieLens users in process (the real
app on the pipeline's artefacts, cache and impression logging off, so every request does the whole work; as many
torch threads as a serving worker) three times per user, interleaved: with attribution as served (the rows share the
scores of the batch they all score, models/shared_scores.py), with attribution scored model by model (no sharing:
what it cost before), and with it switched off (no candidate films: every pick gets the fallback reason, which costs
what the old nearest-liked-film lookup cost). It reports the latency of each (p50, p95 and their ratio to "off";
the target is a p95 ratio of at most 1.5), whether sharing left every page exactly as scored model by model, and,
with attribution, what the reasons say: the share that cite a liked film, the largest share of one page's reasons
that cite the same film (the rule: at most a third), and how often no liked film cleared the bar.

Needs the pipeline's artefacts (`make pipeline`; read from the working directory's data/ and artifacts/). Run:
.venv/bin/python -m benchmarks.bench_reasons [--users 60]
Prints a table and writes benchmarks/results/reasons.json (and docs/results/reasons.json, rendered in the docs).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from movie_genie.api.app import create_app
from movie_genie.api.config import ServingConfig
from movie_genie.api.services.explanations import Explainer
from movie_genie.config import Params, Settings, load_params
from movie_genie.models import shared_scores

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "reasons.json"
DOCS_RESULTS = ROOT / "docs" / "results" / "reasons.json"


def _home(client: Any, user_id: int) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    response = client.get(f"/api/users/{user_id}/home")
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.get_data(as_text=True)
    return elapsed, response.get_json()["data"]


def reason_stats(page: dict[str, Any]) -> dict[str, Any]:
    """What one page's reasons say: how many, how many cite a film, the most cited film's share, kinds."""
    reasons = [i["reason"] for row in page["rows"] if not row["history"] for i in row["items"] if i["reason"]]
    cited = Counter(r["source_movie_id"] for r in reasons if r["source_movie_id"] is not None)
    return {
        "reasons": len(reasons),
        "citing": sum(cited.values()),
        "top_share": max(cited.values()) / len(reasons) if cited and reasons else 0.0,
        "kinds": Counter(r["kind"] for r in reasons),
    }


WAYS = ("attributed", "unshared", "off")


def run(params: Params, users: int, seed: int) -> dict[str, Any]:
    """The three ways for each sampled user, interleaved; latencies in ms, whether sharing changed any page, and the
    attributed pages' reason figures."""
    raw = params.model_dump(mode="json")
    raw["serving"] = {**raw["serving"], "cache_ttl_s": 0, "log_impressions": False}
    served = Params.model_validate(raw)
    torch.set_num_threads(ServingConfig.from_params(served).torch_threads)  # as a serving worker runs (api/serve.py)
    app = create_app(Settings.from_env(), served)
    client = app.test_client()
    sample = random.Random(seed).sample(range(1, 611), users)  # ml-latest-small's MovieLens users
    _home(client, sample[0])  # warm-up: lazy tables and first-call costs
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    stats = []
    changed = 0
    candidates, sharing = Explainer.CANDIDATES, shared_scores.sharing_scores
    try:
        for turn, user_id in enumerate(sample):
            pages = {}
            for way in WAYS[turn % 3 :] + WAYS[: turn % 3]:  # each way goes first as often as the others
                Explainer.CANDIDATES = 0 if way == "off" else candidates
                shared_scores.sharing_scores = nullcontext if way == "unshared" else sharing  # type: ignore[assignment]
                elapsed, pages[way] = _home(client, user_id)
                times[way].append(elapsed * 1000)
            stats.append(reason_stats(pages["attributed"]))
            changed += pages["attributed"]["rows"] != pages["unshared"]["rows"]
    finally:
        Explainer.CANDIDATES, shared_scores.sharing_scores = candidates, sharing
    kinds: Counter[str] = sum((s["kinds"] for s in stats), Counter())
    total = sum(s["reasons"] for s in stats)
    latency = {w: {"p50": float(np.percentile(t, 50)), "p95": float(np.percentile(t, 95))} for w, t in times.items()}
    return {
        "users": users,
        "seed": seed,
        "latency_ms": latency,
        "p95_ratio": latency["attributed"]["p95"] / latency["off"]["p95"],
        "p50_ratio": latency["attributed"]["p50"] / latency["off"]["p50"],
        "unshared_p95_ratio": latency["unshared"]["p95"] / latency["off"]["p95"],
        "unshared_p50_ratio": latency["unshared"]["p50"] / latency["off"]["p50"],
        "pages_changed_by_sharing": changed,
        "reasons": total,
        "citing_share": sum(s["citing"] for s in stats) / total,
        "max_top_share": max(s["top_share"] for s in stats),
        "mean_top_share": float(np.mean([s["top_share"] for s in stats])),
        "kinds": {k: v / total for k, v in kinds.most_common()},
    }


LABELS = {
    "attributed": "reasons by attribution (rows share scores)",
    "unshared": "reasons by attribution, scored model by model",
    "off": "attribution off",
}


def table(result: dict[str, Any]) -> str:
    """Markdown: latency each way measured (results before sharing have two), then what the reasons say."""
    latency = result["latency_ms"]
    lines = [
        f"Home page of {result['users']} MovieLens users (seed {result['seed']}), in process, cache off:",
        "",
        "| home page | p50 ms | p95 ms | p50 / off | p95 / off |",
        "|---|---|---|---|---|",
    ]
    for way, label in LABELS.items():
        if way == "attributed" and "unshared" not in latency:  # measured before the rows shared their scores
            label = "reasons by attribution"
        if way in latency:
            ms = latency[way]
            ratios = " | ".join(f"{ms[q] / latency['off'][q]:.2f}×" for q in ("p50", "p95"))
            lines.append(f"| {label} | {ms['p50']:.1f} | {ms['p95']:.1f} | {ratios} |")
    if "pages_changed_by_sharing" in result:
        changed = result["pages_changed_by_sharing"]
        lines += ["", f"Pages that sharing scores changed (rows, picks or reasons): {changed} of {result['users']}."]
    lines += [
        "",
        f"Of {result['reasons']:,} reasons, {result['citing_share']:.0%} cite a liked film; the most cited film of a "
        f"page explains at most {result['max_top_share']:.0%} of its reasons ({result['mean_top_share']:.0%} on "
        "average). Kinds: " + ", ".join(f"{k} {v:.0%}" for k, v in result["kinds"].items()) + ".",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, help="write the JSON here instead of the committed results (and docs)")
    args = parser.parse_args(argv)
    result = run(load_params(args.params), args.users, args.seed)
    result["command"] = "python -m benchmarks.bench_reasons " + " ".join(sys.argv[1:] if argv is None else argv)
    print(table(result))
    paths = [args.output] if args.output else [RESULTS, DOCS_RESULTS]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("wrote " + " and ".join(map(str, paths)))


if __name__ == "__main__":
    main()

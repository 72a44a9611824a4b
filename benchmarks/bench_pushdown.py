"""Push-down on old dislikes: would pushing down the neighbours of a person's data-set dislikes serve better lists?

Serving pushes the films nearest a negative mark below all others (product.UserView.ordered, over the Two-Tower
neighbours that api/services/item_space.py finds). This benchmark asks whether the rule should also fire for the
data set's own ratings of 2★ or less, offline, on the leave-one-out test users: the hybrid's list (history and
dislikes removed, as the report ranks) is re-ordered by the rule built from each user's latest N data-set dislikes
(K neighbours each), and its HR@10 is measured over every user, the users who liked their held-out film (4★ or more)
and those who disliked it (2★ or less). N = 0 is the list as the model serves it.

Needs the pipeline's artefacts (`make pipeline`). Run: .venv/bin/python -m benchmarks.bench_pushdown
Prints a table and writes benchmarks/results/pushdown.json (and docs/results/pushdown.json, rendered in the docs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.output import write_json
from movie_genie.api.services.item_space import nearest_rows
from movie_genie.config import Layout, load_params
from movie_genie.data.liking import split_by_liking
from movie_genie.data.split import load_split
from movie_genie.evaluation.metrics import test_set
from movie_genie.models.base import ItemVectors
from movie_genie.models.common import histories_matrix
from movie_genie.models.registry import load_models

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pushdown.json"
DOCS_RESULTS = ROOT / "docs" / "results" / "pushdown.json"
SETTINGS = ((0, 0), (50, 20), (10, 20), (10, 10), (5, 10))  # (latest dislikes N, neighbours K); (50, 20) = serving's
CANDIDATES = 110  # the top of the model's list that is re-ordered (serving asks for k + up to 100)


def main() -> None:
    """Run each setting, print the table and write the JSON."""
    params = load_params(ROOT / "params.yaml")
    layout = Layout(ROOT / params.paths.data_dir, ROOT / params.paths.artifacts_dir)
    id_map, frames = load_split(layout)
    models = load_models(layout.models_dir)
    hybrid, two_tower = models["hybrid"], models["two_tower"]
    assert isinstance(two_tower, ItemVectors), "the Two-Tower model gives the rule its item space"
    vectors = two_tower.item_vectors()
    users = test_set(frames["train"], frames["valid"], frames["test"])
    scores = np.concatenate([hybrid.score_batch(users.histories[i : i + 128]) for i in range(0, len(users), 128)])
    seen = [h + x for h, x in zip(users.histories, users.excluded or [], strict=True)]
    scores[histories_matrix(seen, id_map.n_items).toarray() > 0] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :CANDIDATES]  # (U, CANDIDATES) item indices, best first
    rated = pd.concat([frames["train"], frames["valid"]]).sort_values(["user_idx", "timestamp"], kind="stable")
    _, dislikes = split_by_liking(rated)
    disliked_by = dislikes.groupby("user_idx")["item_idx"].agg(list)
    groups = users.groups()
    rows: list[dict[str, Any]] = []
    for latest, neighbours in SETTINGS:
        hits = np.zeros(len(users))
        for i, user in enumerate(users.user_idx):
            served = list(top[i])
            negatives = disliked_by.get(int(user), [])[-latest:] if latest else []
            if negatives:
                near = set(nearest_rows(vectors, negatives, neighbours).tolist())  # the rule's own neighbourhood
                served = [m for m in served if m not in near] + [m for m in served if m in near]
            hits[i] = users.targets[i] in served[:10]
        row: dict[str, float] = {"latest_dislikes": latest, "neighbours": neighbours}
        row |= {f"hr10_{group}": float(hits[mask].mean()) for group, mask in groups.items()}
        rows.append(row)
    result = {"command": "python -m benchmarks.bench_pushdown", "users": len(users), "rows": rows}
    print(table(result))
    for path in (RESULTS, DOCS_RESULTS):
        write_json(path, result)


def table(result: dict[str, Any]) -> str:
    """Markdown: one row per setting, N = 0 (the list as served) first."""
    lines = [
        f"The hybrid's top 10 for {result['users']} test users, re-ordered by their old dislikes:",
        "",
        "| latest data-set dislikes | neighbours each | HR@10 all | liked-next HR@10 | disliked-next HR@10 |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['latest_dislikes'] or 'none (as served)'} | {row['neighbours']} | {row['hr10_all']:.4f} "
            f"| {row['hr10_liked']:.4f} | {row['hr10_disliked']:.4f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

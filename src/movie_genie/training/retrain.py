"""`movie-genie retrain`: fold the app's marks into the training data and train a new model version beside the
serving ones (training/versions.py), without touching what is served.

1. The data set's ratings (data/processed) plus every app mark, applied as serving applies them to a user's history
   (`db.feedback.interaction_effect`): a rating, like or watched is an interaction at the time it was made, a
   dislike removes the film, "not interested" changes nothing. Users created in the app join with their marks.
2. The same leave-one-out split as the pipeline: a user's newest mark becomes their test item, so a version is
   judged on what people did in the app after the data set ended.
3. The same training code and params.yaml settings as `movie-genie train`, into artifacts/versions/<id>/.
4. Each new model, and the version it would replace, evaluated on the new test split: the manifest records the
   new figures and the paired difference (same users) between the two, so a promotion is a decision on evidence.

The version folder appears complete or not at all (written beside it, renamed when done). Nothing is served until
`movie-genie models promote <id>` (or an experiment names `<model>@<id>` as a challenger).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from movie_genie.config import Layout, Params
from movie_genie.data.schema import ID_MAP_FILE, RATING_COLUMNS
from movie_genie.data.split import dataset_name, leave_one_out
from movie_genie.data.tables import read_parquet, write_parquet
from movie_genie.db.feedback import FeedbackRow, feedback_log, interaction_effect
from movie_genie.evaluation.metrics import EvalSet, EvaluationParams, MetricReport, paired_difference_ci, test_set
from movie_genie.evaluation.schema import PairedDifference, SplitMetrics
from movie_genie.files import atomic_dir
from movie_genie.models.registry import load_model
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.training.loop import align_embeddings, train_models, training_data_from_frames
from movie_genie.training.versions import (
    BASE,
    MANIFEST_FILE,
    FoldedData,
    VersionedModel,
    VersionManifest,
    VersionStore,
    new_version_id,
)

SPLIT_FOLDER = "split"


def fold_feedback(ratings: pd.DataFrame, marks: Iterable[FeedbackRow]) -> tuple[pd.DataFrame, FoldedData]:
    """The ratings with the app's marks applied in the order they were made (RATING_COLUMNS; a like or watched has
    no star rating: NaN). Users without marks keep their rows untouched."""
    by_user: dict[int, list[FeedbackRow]] = defaultdict(list)
    n_marks = 0
    for mark in marks:
        by_user[mark.user_id].append(mark)
        n_marks += 1
    rows_of = ratings.groupby("user_id", sort=False).indices
    untouched = ~ratings["user_id"].isin(list(by_user))
    parts = [ratings.loc[untouched, list(RATING_COLUMNS)]]
    for user_id, user_marks in by_user.items():
        own = ratings.iloc[rows_of.get(user_id, [])].sort_values("timestamp", kind="stable")
        # movie -> (rating, timestamp), in interaction order: a re-touched film moves to the end.
        touches = {int(m): (float(r), int(t)) for m, r, t in own[["movie_id", "rating", "timestamp"]].itertuples(False)}
        for mark in user_marks:
            effect = interaction_effect(mark.kind, mark.value)
            if effect is None:
                continue
            touches.pop(mark.movie_id, None)
            if effect == "touch":
                stars = float(mark.value) if mark.kind == "rating" and mark.value is not None else math.nan
                touches[mark.movie_id] = (stars, int(mark.created_at.timestamp()))
        parts.append(
            pd.DataFrame(
                {
                    "user_id": user_id,
                    "movie_id": list(touches),
                    "rating": [r for r, _ in touches.values()],
                    "timestamp": [t for _, t in touches.values()],
                },
                columns=list(RATING_COLUMNS),
            )
        )
    combined = pd.concat(parts, ignore_index=True).astype(
        {"user_id": "int64", "movie_id": "int64", "rating": "float32", "timestamp": "int64"}
    )
    dataset_users = set(rows_of)
    folded = FoldedData(
        ratings=len(combined),
        users=int(combined["user_id"].nunique()),
        app_events=n_marks,
        app_users=len(by_user),
        new_users=sum(1 for u in by_user if u not in dataset_users),
    )
    return combined, folded


def run_retrain(
    params: Params,
    layout: Layout,
    engine: Engine,
    names: Sequence[str] | None = None,
    echo: Callable[[str], None] = print,
    serving: Mapping[str, str] | None = None,
) -> VersionManifest:
    """Train a new version of `names` (default: every model) on the data set plus the app's marks; each is compared
    with the version it would replace (`serving`: model -> the version it serves now; BASE when not named)."""
    settings = EvaluationParams.from_params(params)
    store = VersionStore(layout)
    movies = read_parquet(layout.processed_dir / "movies.parquet")
    ratings = read_parquet(layout.processed_dir / "ratings.parquet")
    users_path = layout.processed_dir / "users.parquet"
    users = read_parquet(users_path) if users_path.is_file() else None
    with Session(engine) as session:
        combined, folded = fold_feedback(ratings, feedback_log(session))
    echo(
        f"retrain: {folded.app_events:,} app marks of {folded.app_users:,} users ({folded.new_users:,} new) folded "
        f"into {len(ratings):,} data set ratings -> {folded.ratings:,} interactions"
    )
    split = leave_one_out(combined, movies["movie_id"], params.split.min_interactions)
    dataset = dataset_name(params, layout)
    version = new_version_id()
    evaluation_set = test_set(split.train, split.valid, split.test)
    with atomic_dir(store.root / version) as folder:
        (folder / SPLIT_FOLDER).mkdir()
        for split_name, frame in split.frames().items():
            write_parquet(frame, folder / SPLIT_FOLDER / f"{split_name}.parquet")
        split.id_map.save(folder / SPLIT_FOLDER / ID_MAP_FILE)
        embeddings = align_embeddings(layout.embeddings_dir / EMBEDDINGS_FILE, split.id_map)
        data = training_data_from_frames(split.id_map, split.train, split.valid, movies, users, embeddings)
        runs = train_models(data, params.section("models"), folder, settings, names, echo, dataset)
        models: dict[str, VersionedModel] = {}
        for name, run in runs.items():
            new = settings.evaluate(load_model(folder, name), evaluation_set, split.id_map.n_items)
            vs_current = _against_serving(
                store, name, (serving or {}).get(name, BASE), new, evaluation_set, split.id_map.item_ids, settings
            )
            models[name] = VersionedModel(
                test=SplitMetrics.model_validate(new.to_dict()),
                training_seconds=run.log.seconds + run.refit_seconds,
                vs_current=vs_current,
            )
            verdict = ""
            if vs_current is not None:
                low, high = vs_current.ci
                verdict = f"; minus {vs_current.against}: {vs_current.difference:+.4f} [{low:+.4f}, {high:+.4f}]"
            echo(f"retrain: {name}@{version}: test NDCG@10 {new.ndcg10:.4f}{verdict}")
        manifest = VersionManifest(
            id=version,
            created_at=datetime.now(UTC),
            dataset=dataset,
            data=folded,
            models=models,
            test_users=len(evaluation_set),
        )
        (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return manifest


def _against_serving(
    store: VersionStore,
    name: str,
    serving: str,
    new: MetricReport,
    eval_set: EvalSet,
    item_ids: Sequence[int],
    settings: EvaluationParams,
) -> PairedDifference | None:
    """The new model's test NDCG@10 minus the serving version's on the same users (paired bootstrap); None when
    there is no serving checkpoint or it was trained on another catalogue (its scores would not line up)."""
    path = store.checkpoint(name, serving)
    if not path.is_file():
        return None
    current = load_model(path.parent, name)
    if current.id_map is None or list(current.id_map.item_ids) != list(item_ids):
        return None
    old = settings.evaluate(current, eval_set, len(item_ids))
    difference, low, high = paired_difference_ci(
        new.per_user["ndcg10"], old.per_user["ndcg10"], settings.bootstrap_resamples, settings.seed
    )
    return PairedDifference(against=f"{name}@{serving}", difference=difference, ci=[low, high])

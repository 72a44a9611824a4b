"""The `train` stage: build TrainingData from the split, tune every model on validation, refit, save checkpoints.

It lives in the evaluation layer because tuning needs the validator (metrics) and every model; models themselves
never import evaluation. Phase 1 fits each model on the training rows, tuning/early-stopping on validation, and
records its full validation metrics. Phase 2 refits the models whose config asks for it (popularity, EASE) on
training + validation with the tuned hyperparameters, as the evaluation protocol in the report says. The hybrid is
tuned with the phase-1 components (so its blend weights never see validation targets through them) and saved with
the final ones.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from movie_genie.config import Layout, Params
from movie_genie.data.idmap import IdMap
from movie_genie.data.liking import split_by_liking
from movie_genie.data.split import dataset_name, load_split
from movie_genie.data.tables import read_parquet
from movie_genie.errors import DataError, MovieGenieError
from movie_genie.evaluation.metrics import EvaluationParams, MetricReport, make_validator, training_validation_set
from movie_genie.evaluation.schema import SplitMetrics, TrainingRecord, TrainingRecords
from movie_genie.evaluation.tracking import Tracker
from movie_genie.models import distributed
from movie_genie.models.base import (
    Composite,
    MemoryBounded,
    Recommender,
    Refittable,
    TrainingData,
    TrainingLog,
)
from movie_genie.models.catalogue import MODEL_NAMES
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.registry import checkpoint_path, model_class
from movie_genie.models.seeding import seed_everything
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.training.progress import progress_path, training_model

# Phase-1 copies (fit on training rows only) of refit hybrid components, so the hybrid can be re-tuned honestly.
TUNING_DIR = "tuning"


class TrainingError(MovieGenieError):
    """The train stage cannot run as asked (unknown model, missing prerequisite model)."""


def align_movies(movies: pd.DataFrame, id_map: IdMap) -> pd.DataFrame:
    """The movies table reordered so row i describes item index i; every catalogue item must be present."""
    indexed = movies.drop_duplicates("movie_id").set_index("movie_id")
    missing = [m for m in id_map.item_ids if m not in indexed.index]
    if missing:
        raise DataError(
            f"{len(missing)} catalogue movie(s) of the split are missing from the movies table (e.g. {missing[0]}); "
            "re-run `movie-genie split` after `movie-genie enrich`"
        )
    return indexed.loc[list(id_map.item_ids)].reset_index()


def align_embeddings(path: Path, id_map: IdMap) -> np.ndarray | None:
    """Item text embeddings (n_items, d) in item order from embeddings.npz, or None when the file is absent."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as npz:
            movie_ids = np.asarray(npz["movie_id"], dtype=np.int64)
            vectors = np.asarray(npz["embedding"], dtype=np.float32)
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a valid embeddings file ({exc}); re-run `movie-genie embed`") from exc
    row_of = {int(m): i for i, m in enumerate(movie_ids)}
    rows = [row_of.get(m) for m in id_map.item_ids]
    if any(r is None for r in rows):
        missing = sum(r is None for r in rows)
        raise DataError(f"{path} lacks embeddings for {missing} catalogue movies; re-run `movie-genie embed`")
    return vectors[np.asarray(rows, dtype=np.int64)]


def training_data_from_frames(
    id_map: IdMap,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    movies: pd.DataFrame,
    users: pd.DataFrame | None = None,
    item_text_embeddings: np.ndarray | None = None,
) -> TrainingData:
    """Bundle split frames and side tables into TrainingData (train sorted by user then time, ties kept); training
    ratings that are dislikes go to `disliked`, not to the interactions the models learn from (data.liking)."""
    train = train.sort_values(["user_idx", "timestamp"], kind="stable", ignore_index=True)
    interactions, disliked = split_by_liking(train)
    return TrainingData(
        id_map=id_map,
        train=interactions,
        disliked=disliked,
        valid=valid.sort_values("user_idx", kind="stable", ignore_index=True),
        movies=align_movies(movies, id_map),
        users=users,
        item_text_embeddings=item_text_embeddings,
    )


def load_training_data(layout: Layout) -> tuple[TrainingData, pd.DataFrame]:
    """TrainingData from data/split, data/processed and (optional) artifacts/embeddings, plus the test frame."""
    id_map, frames = load_split(layout)
    movies = read_parquet(layout.processed_dir / "movies.parquet")
    users_path = layout.processed_dir / "users.parquet"
    users = read_parquet(users_path) if users_path.is_file() else None
    embeddings = align_embeddings(layout.embeddings_dir / EMBEDDINGS_FILE, id_map)
    data = training_data_from_frames(id_map, frames["train"], frames["valid"], movies, users, embeddings)
    return data, frames["test"]


@dataclass
class ModelRun:
    """What training one model produced, for its training record and the report."""

    name: str
    log: TrainingLog
    valid: MetricReport | None
    refit_seconds: float = 0.0
    refit: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    learned: dict[str, Any] = field(default_factory=dict)  # what fit chose (EASE's lambda, the hybrid's weights)
    mlflow_run_id: str | None = None  # set when the run was tracked (evaluate adds the test figures to it)

    def record(self) -> TrainingRecord:
        """Its training record (training/<name>.json)."""
        return TrainingRecord(
            name=self.name,
            seconds=self.log.seconds,
            refit=self.refit,
            refit_seconds=self.refit_seconds,
            total_seconds=self.log.seconds + self.refit_seconds,
            best_valid_ndcg10=self.log.best_valid_ndcg10,
            epochs=self.log.epochs,
            valid=None if self.valid is None else SplitMetrics.model_validate(self.valid.to_dict()),
            config=self.config,
            learned=self.learned,
            mlflow_run_id=self.mlflow_run_id,
        )


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (tuples become lists, anything else its string)."""
    return json.loads(json.dumps(values, default=str))


def build_model(name: str, models_section: dict[str, Any], dataset: str | None = None) -> Recommender:
    """A fresh, untrained model configured from its `models.<name>` section of params.yaml."""
    return model_class(name).from_params(models_section.get(name) or {}, dataset)


def train_models(
    data: TrainingData,
    models_section: dict[str, Any],
    models_dir: Path,
    settings: EvaluationParams,
    names: Sequence[str] | None = None,
    echo: Callable[[str], None] = print,
    dataset: str | None = None,
    tracker: Tracker | None = None,
    model_progress: Callable[[str], AbstractContextManager[object]] = lambda _name: nullcontext(),
) -> dict[str, ModelRun]:
    """Fit, validate, refit and save each model (every registered one, in registry order, when names is None).

    With a `tracker`, each model's run is also logged to MLflow as soon as its checkpoint is saved; each model's
    training runs inside `model_progress(name)`, which records when it starts and ends.
    """
    wanted = list(names) if names else list(MODEL_NAMES)
    # Under torchrun every rank runs this stage (BERT4Rec and Two-Tower train as one DDP job); only rank 0 writes.
    main = distributed.is_main()
    if not main:
        echo = _quiet
    for name in wanted:
        model_class(name)  # unknown names fail before any training
    for name in wanted:  # so does a catalogue too large for a model's memory budget (EASE), not minutes later
        model = build_model(name, models_section, dataset)
        if isinstance(model, MemoryBounded):
            model.check_memory(data.id_map)
    validate = make_validator(data, settings.validation_users, settings.seed, settings.batch_size)
    valid_set = training_validation_set(data)
    refit_data = with_validation_in_train(data)
    composite_components = _components_of_composites(models_section, dataset)
    tuned: dict[str, Recommender] = {}  # phase-1 models (trained on train only): the hybrid is tuned on these
    final: dict[str, Recommender] = {}
    runs: dict[str, ModelRun] = {}
    if main:
        models_dir.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        with model_progress(name):  # `movie-genie run` tells the app which models are still training
            model = build_model(name, models_section, dataset)
            final_components: dict[str, Recommender] = {}
            if isinstance(model, Composite):
                tuning_components, final_components = _component_inputs(model, tuned, final, models_dir)
                model.replace_components(tuning_components)
            seed_everything(settings.seed)
            echo(f"train: fitting {name} ...")
            log = model.fit(data, validate)
            valid_report = settings.evaluate(model, valid_set, data.id_map.n_items)
            config, learned = _json_ready(model.config.to_dict()), _json_ready(model.learned())
            run = ModelRun(name, log, valid_report, config=config, learned=learned)
            tuned[name] = model
            if main and not isinstance(model, Composite):
                # The training-only (phase-1) model, which a hybrid is tuned on so its blend never sees validation
                # targets through a component: saved for every model, so each train stage has the same outputs and
                # a later `train --model hybrid` loads it. For a model that is not refit it is the final model.
                model.save(checkpoint_path(models_dir / TUNING_DIR, name))
            if isinstance(model, Refittable) and model.refits:
                # A hybrid later in this run is tuned on the phase-1 model in memory: refit a copy of it.
                final_model = _copy_model(model) if name in composite_components else model
                seed_everything(settings.seed)
                refit_log = cast(Refittable, final_model).refit(refit_data)
                run.refit, run.refit_seconds = True, float(refit_log.seconds)
            else:
                final_model = model
            if isinstance(final_model, Composite):
                final_model.replace_components(final_components)
            if main:
                final_model.save(checkpoint_path(models_dir, name))
            final[name] = final_model
            runs[name] = run
            if tracker is not None:
                run.mlflow_run_id = tracker.log_model_run(run.record(), dataset or "unknown", settings.model_dump())
            if main:
                write_training_log(models_dir, {name: run})
            echo(
                f"train: {name}: valid NDCG@10 {valid_report.ndcg10:.4f} HR@10 {valid_report.hr10:.4f} "
                f"({run.log.seconds + run.refit_seconds:.1f} s) -> {checkpoint_path(models_dir, name)}"
            )
    return runs


def _quiet(_: str) -> None:
    """An echo that prints nothing (ranks other than 0 under torchrun)."""


def _components_of_composites(models_section: dict[str, Any], dataset: str | None) -> set[str]:
    """The models a composite (the hybrid) is built on: one of them that is refit is refit as a copy, so a composite
    later in the same run is tuned on its training-only model in memory."""
    names: set[str] = set()
    for name in MODEL_NAMES:
        model = build_model(name, models_section, dataset)
        if isinstance(model, Composite):
            names.update(model.component_names())
    return names


def _component_inputs(
    model: Composite,
    tuned: dict[str, Recommender],
    final: dict[str, Recommender],
    models_dir: Path,
) -> tuple[dict[str, Recommender], dict[str, Recommender]]:
    """A composite's components twice: as tuned on training rows only (for the blend search) and as finally saved.

    Components trained in this run come from memory; otherwise from their checkpoints, the phase-1 copy in
    `tuning/` when the component was refit on validation rows.
    """
    tuning: dict[str, Recommender] = {}
    finals: dict[str, Recommender] = {}
    for component in model.component_names():
        if component in tuned:
            tuning[component], finals[component] = tuned[component], final[component]
            continue
        path = checkpoint_path(models_dir, component)
        if not path.is_file():
            raise TrainingError(
                f"the hybrid needs a trained '{component}' model: run `movie-genie train --model {component}` "
                "first, or train everything with `movie-genie train`"
            )
        cls = model_class(component)
        finals[component] = cls.load(path)
        phase1 = checkpoint_path(models_dir / TUNING_DIR, component)
        if phase1.is_file():
            tuning[component] = cls.load(phase1)
        elif isinstance(finals[component], Refittable) and cast(Refittable, finals[component]).refits:
            # The saved model was refit on validation rows: tuning the blend on it would leak the targets.
            raise TrainingError(
                f"{path} was refit on validation rows and has no training-only copy in {models_dir / TUNING_DIR}; "
                f"retrain it with the hybrid: `movie-genie train --model {component} --model hybrid`"
            )
        else:
            tuning[component] = finals[component]
    return tuning, finals


def _copy_model(model: Recommender) -> Recommender:
    """An independent copy of a fitted model, made through its own checkpoint format."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{model.name}.pt"
        model.save(path)
        return type(model).load(path)


def write_training_log(models_dir: Path, runs: dict[str, ModelRun]) -> None:
    """Write each run's training record (a `--model` run leaves the other models' records as they are)."""
    for run in runs.values():
        TrainingRecords.write(models_dir, run.record())


def run_train(
    params: Params, layout: Layout, names: Sequence[str] | None = None, echo: Callable[[str], None] = print
) -> dict[str, ModelRun]:
    """The `movie-genie train` stage (tracked in MLflow when MLFLOW_TRACKING_URI is set)."""
    settings = EvaluationParams.from_params(params)
    tracker = Tracker.from_env(layout.data_dir, echo)
    data, _ = load_training_data(layout)
    dataset = dataset_name(params, layout)
    progress = progress_path(layout)
    return train_models(
        data,
        params.section("models"),
        layout.models_dir,
        settings,
        names,
        echo,
        dataset,
        tracker,
        model_progress=lambda name: training_model(progress, name) if distributed.is_main() else nullcontext(),
    )

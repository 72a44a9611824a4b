"""What the neural recommenders share: the fit/refit recipe, seeding, sequences, item content, batching, early stopping.

Item indices are the dense `item_idx` of the id map (0..n_items-1). Sequence models shift them by one so that
token 0 can mean padding.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
import pandas as pd
import torch

from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.models import distributed
from movie_genie.models.base import Recommender, TrainingData, TrainingLog, Validator

PAD = 0  # token id of padding in sequence models; item index i is token i + 1


class ModelConfigError(MovieGenieError):
    """A model section of params.yaml has an unknown key or a value of the wrong type."""


C = TypeVar("C")


def config_from_params(cls: type[C], section: Mapping[str, Any] | None, dataset: str | None = None) -> C:
    """Build a config dataclass from a params.yaml section: top-level defaults, then `per_dataset[dataset]` overrides.

    Unknown keys raise ModelConfigError naming the key, so a typo in params.yaml never passes silently.
    """
    section = dict(section or {})
    overrides = section.pop("per_dataset", None) or {}
    if not isinstance(overrides, Mapping):
        raise ModelConfigError(f"{cls.__name__}: per_dataset must map data set names to settings")
    values = dict(section)
    if dataset is not None and dataset in overrides:
        values.update(overrides[dataset] or {})
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ModelConfigError(f"{cls.__name__}: unknown params.yaml key(s) {unknown}; valid keys: {sorted(known)}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ModelConfigError(f"{cls.__name__}: invalid params.yaml settings: {exc}") from exc


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a torch generator for the model's own random draws."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with `count` torch intra-op threads (0 = leave the setting alone), then restore it."""
    before = torch.get_num_threads()
    if count > 0:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def evaluating(module: torch.nn.Module) -> Iterator[None]:
    """Eval mode and no autograd for the block; training mode comes back after (a free no-op when already in eval)."""
    was_training = module.training
    if was_training:
        module.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        if was_training:
            module.train()


def user_sequences(frame: pd.DataFrame, n_users: int) -> list[np.ndarray]:
    """Each user's item indices in time order (the frame is sorted by user then time); index = user_idx."""
    users = frame["user_idx"].to_numpy(dtype=np.int64)
    items = frame["item_idx"].to_numpy(dtype=np.int64)
    # A stable sort by user keeps the time order (and tie order) the split wrote.
    order = np.argsort(users, kind="stable")
    users, items = users[order], items[order]
    bounds = np.searchsorted(users, np.arange(n_users + 1))
    return [items[bounds[u] : bounds[u + 1]] for u in range(n_users)]


@dataclass
class ItemContent:
    """Per-item content features in item-index order: genres multi-hot (row-normalised), year, text embedding."""

    genres: np.ndarray  # (n_items, n_genres) float32, each row sums to 1 (or 0 without genres)
    genre_names: list[str]
    year: np.ndarray  # (n_items, 1) float32, standardised; 0 where unknown
    text: np.ndarray | None  # (n_items, d_text) float32 or None

    @classmethod
    def from_data(cls, data: TrainingData, use_text: bool = True) -> ItemContent:
        """Read genres and year from the movies table and the optional text embeddings."""
        movies = data.movies
        n_items = data.id_map.n_items
        if len(movies) != n_items:
            raise MovieGenieError(
                f"movies table has {len(movies)} rows but the id map has {n_items} items; rebuild the split"
            )
        genre_lists = [list(g) if g is not None else [] for g in movies["genres"]]
        names = sorted({g for gs in genre_lists for g in gs})
        column = {g: j for j, g in enumerate(names)}
        genres = np.zeros((n_items, max(len(names), 1)), dtype=np.float32)
        for i, gs in enumerate(genre_lists):
            for g in gs:
                genres[i, column[g]] = 1.0
        genres /= np.maximum(genres.sum(axis=1, keepdims=True), 1.0)
        years = pd.to_numeric(movies["year"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        known = np.isfinite(years)
        year = np.zeros((n_items, 1), dtype=np.float32)
        if known.any():
            mean, std = years[known].mean(), max(years[known].std(), 1.0)
            year[known, 0] = ((years[known] - mean) / std).astype(np.float32)
        text = None
        if use_text and data.item_text_embeddings is not None:
            text = np.asarray(data.item_text_embeddings, dtype=np.float32)
            if text.shape[0] != n_items:
                raise MovieGenieError(
                    f"item text embeddings have {text.shape[0]} rows, expected {n_items}; re-run `movie-genie embed`"
                )
        return cls(genres=genres, genre_names=names, year=year, text=text)


def pad_left(seqs: Sequence[np.ndarray | Sequence[int]], length: int | None = None, pad: int = PAD) -> np.ndarray:
    """Stack sequences right-aligned into (B, T) int64, padding on the left; T = longest when length is None."""
    width = length if length is not None else max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), max(width, 1)), pad, dtype=np.int64)
    for row, seq in enumerate(seqs):
        seq = np.asarray(seq, dtype=np.int64)[-width:] if width else np.empty(0, dtype=np.int64)
        if len(seq):
            out[row, out.shape[1] - len(seq) :] = seq
    return out


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of row indices with similar lengths (less padding), in a random order.

    Rows are shuffled, stably sorted by length, cut into batches, and the batches shuffled: each epoch sees
    different batch mates while each batch stays short.
    """
    order = rng.permutation(len(lengths))
    order = order[np.argsort(lengths[order], kind="stable")]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


class EarlyStopping:
    """Keep the best weights by validation score; say when `patience` checks passed without improvement."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_score = -np.inf
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_checks = 0

    def update(self, score: float, epoch: int, module: torch.nn.Module) -> bool:
        """Record a validation score; return True when training should stop."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.bad_checks = score, epoch, 0
            self.best_state = copy.deepcopy(module.state_dict())
            return False
        self.bad_checks += 1
        return self.bad_checks >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        """Load the best weights seen back into the module (no-op when nothing was recorded)."""
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def warmup_cosine(step: int, warmup: int, total: int, floor: float = 0.1) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to `floor` at `total` steps."""
    if step < warmup:
        return (step + 1) / max(warmup, 1)
    progress = min(1.0, (step - warmup) / max(total - warmup, 1))
    return floor + (1.0 - floor) * 0.5 * (1.0 + float(np.cos(np.pi * progress)))


@dataclass(frozen=True)
class TrainRun:
    """One training run's schedule: `fit` (validated, the full schedule) or `refit` (a short fine-tune)."""

    epochs: int
    lr: float
    warmup: int
    seed: int  # seeds the run's numpy draws (batch order, sampling); `generator` drives torch's
    generator: torch.Generator
    desc: str  # the progress bar's label


class TorchRecommender:
    """The fit/refit recipe BERT4Rec and Two-Tower share; each subclass builds its network and owns its loop.

    Subclass configs carry seed, lr, max_epochs, warmup_steps, torch_threads, refit_epochs and refit_lr_scale.
    """

    name: ClassVar[str]
    config: Any
    id_map: IdMap | None
    net: torch.nn.Module | None

    def _build_net(self, data: TrainingData) -> torch.nn.Module:
        raise NotImplementedError

    def _require(self) -> tuple[torch.nn.Module, IdMap]:
        raise NotImplementedError

    def _train(self, data: TrainingData, validate: Validator | None, run: TrainRun) -> TrainingLog:
        raise NotImplementedError

    def _clear_cache(self) -> None:
        """Drop cached inference tensors (item table or vectors): the weights just changed."""
        raise NotImplementedError

    def _close_epoch(
        self,
        row: dict[str, float],
        validate: Validator | None,
        due: bool,
        stopper: EarlyStopping,
        log: TrainingLog,
        bar: Any,
        start: float,
    ) -> bool:
        """Validate when `due`, log the epoch's row and show it on the progress bar; True when early stopping fires."""
        stop = False
        if validate is not None and due:
            self._clear_cache()
            # Subclasses implement the whole Recommender protocol; this base only holds their shared recipe.
            # Under DDP rank 0 validates and every rank takes its score, so all ranks stop (and restore) together.
            score = float(validate(cast(Recommender, self))) if distributed.is_main() else 0.0
            row["valid_ndcg10"] = distributed.from_main(score)
            stop = stopper.update(row["valid_ndcg10"], int(row["epoch"]), self._require()[0])
        row["seconds"] = time.perf_counter() - start
        log.epochs.append(row)
        bar.set_postfix(
            loss=f"{row['loss']:.3f}",
            ndcg10=f"{row.get('valid_ndcg10', float('nan')):.4f}",
            best=f"{max(stopper.best_score, 0.0):.4f}",
        )
        return stop

    def _finish_training(self, stopper: EarlyStopping, log: TrainingLog, bar: Any) -> None:
        """Close the bar, restore the best weights (when validated) and leave the network in eval mode."""
        bar.close()
        net = self._require()[0]
        stopper.restore(net)
        net.eval()
        self._clear_cache()
        log.best_valid_ndcg10 = None if stopper.best_state is None else float(stopper.best_score)

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Build the network and train it; early-stop on `validate` (NDCG@10) and keep the best weights."""
        cfg = self.config
        start = time.perf_counter()
        generator = seed_everything(cfg.seed)
        self.id_map = data.id_map
        self.net = self._build_net(data)
        with torch_threads(cfg.torch_threads):
            run = TrainRun(cfg.max_epochs, cfg.lr, cfg.warmup_steps, cfg.seed, generator, self.name)
            log = self._train(data, validate, run)
        log.seconds = time.perf_counter() - start
        return log

    def refit(self, data: TrainingData) -> TrainingLog:
        """Fine-tune the fitted model for `refit_epochs` on `data` (train + validation rows) before the test.

        The tuned model never saw each user's validation item; a short fine-tune at a lower learning rate teaches
        it those latest transitions without a full retrain (a retrain would double the training time).
        """
        cfg = self.config
        start = time.perf_counter()
        if self.net is None:
            return self.fit(data)
        if data.id_map.item_ids != self._require()[1].item_ids:
            raise ValueError("refit data has another catalogue than the fitted model: fit a new model instead")
        log = TrainingLog()
        if cfg.refit_epochs > 0:
            generator = seed_everything(cfg.seed + 1)
            lr = cfg.lr * cfg.refit_lr_scale
            run = TrainRun(cfg.refit_epochs, lr, 0, cfg.seed + 1, generator, f"{self.name} refit")
            with torch_threads(cfg.torch_threads):
                log = self._train(data, None, run)
        log.seconds = time.perf_counter() - start
        return log

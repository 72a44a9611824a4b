"""Hybrid: blend the candidate lists of several trained models, with fallbacks and a reason per recommendation.

Each component (by default Two-Tower, BERT4Rec and popularity; any models under the protocol work) scores the whole
catalogue; its scores are z-scored over the user's unseen items and its top-`candidates` items keep that value
(shifted so the last candidate is 0), every other item 0. The blend is the weighted sum, plus a tiny popularity term
that only orders items no component proposed. Weights are tuned on validation over a simplex grid. Histories
shorter than `short_history` use a second weight vector tuned on validation users whose histories are cut to their
last `short_history - 1` items (a simulated new user); an empty history gets popularity alone. Reasons come from the
component that contributed most: a personalised one gives "Because you watched <most similar history title>" (cosine
of SVD item factors of the training matrix), popularity gives "Popular in <the user's favourite genre of that film>"
or "Popular right now".
The checkpoint holds the blend, a title/genre table and the SHA-256 of each component's checkpoint, which `save`
writes beside it (<folder>/<component>.pt, where the train stage keeps them anyway): components are stored and
loaded once, and a component retrained after the hybrid is caught instead of silently blended with old weights.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, cast

import numpy as np
from pydantic import model_validator
from scipy.sparse.linalg import svds
from tqdm.auto import tqdm

from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.files import content_digest
from movie_genie.models import reasons
from movie_genie.models.base import (
    ModelConfig,
    Query,
    Recommendation,
    Recommender,
    RecommenderBase,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.catalogue import BERT4REC, EASE, HYBRID, POPULARITY, TWO_TOWER
from movie_genie.models.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from movie_genie.models.common import (
    NotFittedError,
    check_k,
    interaction_matrix,
    top_k_indices,
)
from movie_genie.models.registry import checkpoint_path, model_class
from movie_genie.models.shared_scores import score_batch

# Weight of the popularity tie-breaker: far below any real difference between standardised scores.
TIE_BREAK = 1e-6


class HybridConfigError(MovieGenieError):
    """The hybrid's components or weights are inconsistent (e.g. a component model is missing)."""


class HybridConfig(ModelConfig):
    """Components to blend, candidate depth, weight grid step and the short-history threshold."""

    components: tuple[str, ...] = (TWO_TOWER.name, BERT4REC.name, POPULARITY.name)
    candidates: int = 200
    weight_step: float = 0.25
    refine_step: float = 0.05  # hill-climbing step after the coarse grid (0 = grid only)
    short_history: int = 5
    factors: int = 32
    seed: int = 0

    @model_validator(mode="after")
    def _check(self) -> Self:
        if POPULARITY.name not in self.components:
            raise HybridConfigError("models.hybrid.components must include 'popularity' (the empty-history fallback)")
        if len(set(self.components)) != len(self.components) or HYBRID.name in self.components:
            raise HybridConfigError(f"models.hybrid.components must be distinct models, got {self.components}")
        if not 0 < self.weight_step <= 1 or not 0 <= self.refine_step < 1:
            raise HybridConfigError("models.hybrid: weight_step must be in (0, 1] and refine_step in [0, 1)")
        if self.candidates < 1 or self.short_history < 1:
            raise HybridConfigError("models.hybrid: candidates and short_history must be at least 1")
        return self


def _first(pair: tuple[float, dict[str, float]]) -> float:
    return pair[0]


def weight_grid(names: Sequence[str], step: float) -> list[dict[str, float]]:
    """Every weight vector on the simplex with the given step (weights >= 0 summing to 1)."""
    units = round(1 / step)
    grid = []
    for combo in itertools.product(range(units + 1), repeat=len(names)):
        if sum(combo) == units:
            grid.append({n: c / units for n, c in zip(names, combo, strict=True)})
    return grid


def standardise(scores: np.ndarray, histories: Sequence[Sequence[int]], depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-`depth` unseen items per row and their standardised scores: indices (B, C) and values (B, C).

    Each row's scores are z-scored over the user's unseen catalogue, so models with different score scales blend
    on one scale and a confident model (one far-out favourite) counts for more than a flat one. Values are shifted
    so the row's `depth`-th candidate sits at 0: an item outside a component's candidates then counts as "no
    better than its last candidate", which keeps the blend of top lists close to a blend of whole rankings.
    `scores` has shape (B, n_items); an unseen-item shortage leaves trailing values at 0.
    """
    masked = np.array(scores, dtype=np.float64)
    for row, history in enumerate(histories):
        if len(history):
            masked[row, np.asarray(history, dtype=np.int64)] = -np.inf
    masked[np.isnan(masked)] = -np.inf
    finite = np.isfinite(masked)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    mean = np.where(finite, masked, 0.0).sum(axis=1, keepdims=True) / count
    spread = np.sqrt(np.where(finite, (masked - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / count)
    depth = min(depth, masked.shape[1])
    part = np.argpartition(-masked, depth - 1, axis=1)[:, :depth]
    part_scores = np.take_along_axis(masked, part, axis=1)
    # Order candidates by score, then by item index, so ties are broken the same way on every run.
    order = np.lexsort((part, -part_scores), axis=1)
    idx = np.take_along_axis(part, order, axis=1)
    z = (np.take_along_axis(masked, idx, axis=1) - mean) / np.maximum(spread, 1e-12)
    valid = np.isfinite(z)
    floor = np.where(valid, z, np.inf).min(axis=1, keepdims=True)
    return idx, np.where(valid, z - np.where(np.isfinite(floor), floor, 0.0), 0.0)


class Hybrid(RecommenderBase):
    """A weighted blend of standardised component candidates, with reasons."""

    name: ClassVar[str] = HYBRID.name
    config_class = HybridConfig
    config: HybridConfig

    def __init__(self, config: HybridConfig | None = None, components: Mapping[str, Recommender] | None = None):
        super().__init__(config)
        self.components: dict[str, Recommender] = {}
        if components is not None:
            self.replace_components(components)
        self.genres: list[list[str]] = []
        self.popularity: np.ndarray | None = None  # (n_items,) training interaction counts, for reasons/tie-breaks
        self.item_factors: np.ndarray | None = None  # (n_items, f) L2-normalised, for "because you watched"
        # Learned by `fit` (component -> weight, for full and for short histories) and every weight vector tried.
        self.weights: dict[str, float] | None = None
        self.short_weights: dict[str, float] | None = None
        self.tuning: list[dict[str, Any]] = []
        # During fit only: component candidates per history tuple, so the weight search scores each user once.
        self._cache: dict[tuple[int, ...], dict[str, tuple[np.ndarray, np.ndarray]]] | None = None

    @classmethod
    def tiny_config(cls) -> HybridConfig:
        """The config the contract tests use (components popularity + EASE, a coarse grid)."""
        return HybridConfig(
            components=(EASE.name, POPULARITY.name), candidates=50, weight_step=0.25, refine_step=0, factors=8
        )

    def component_names(self) -> tuple[str, ...]:
        """The models it blends, by registry name."""
        return self.config.components

    def learned(self) -> dict[str, Any]:
        """The blend weights chosen on validation, for full and for short histories."""
        return {"weights": self.weights, "short_weights": self.short_weights}

    def replace_components(self, components: Mapping[str, Recommender]) -> None:
        """Use these models as components (e.g. the refit final models after tuning on the phase-1 ones)."""
        missing = [c for c in self.config.components if c not in components]
        if missing:
            raise HybridConfigError(f"the hybrid needs trained models for {missing}; train them first")
        self.components = {c: components[c] for c in self.config.components}

    # --- fitting -------------------------------------------------------------------------------------------------

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Build the title/genre table and item factors, then tune blend weights on validation."""
        start = time.perf_counter()
        if not self.components:
            raise HybridConfigError("the hybrid has no components: pass trained models to Hybrid(config, components)")
        self.id_map = data.id_map
        self.genres = [[str(g) for g in gs] for gs in data.movies["genres"]]
        matrix = interaction_matrix(data.train, data.id_map.n_users, data.id_map.n_items)
        self.popularity = np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()
        self.item_factors = self._item_factors(matrix)
        names = list(self.config.components)
        log = TrainingLog()
        if validate is None:
            equal = {n: 1.0 / len(names) for n in names}
            self.weights, self.short_weights, self.tuning = equal, equal, []
        else:
            self._cache = {}
            try:
                self.weights, best, tuning = self._search(names, validate, short=False)
                self.short_weights, short_best, short_tuning = self._search(names, validate, short=True)
                self.tuning = tuning + short_tuning
            finally:
                self._cache = None
            log.best_valid_ndcg10 = best
            log.epochs = [{"short_history_valid_ndcg10": short_best, "valid_ndcg10": best}]
        log.seconds = time.perf_counter() - start
        return log

    def _item_factors(self, matrix: Any) -> np.ndarray:
        n_users, n_items = matrix.shape
        rank = min(self.config.factors, min(n_users, n_items) - 1)
        if rank < 1:
            return np.zeros((n_items, 1), dtype=np.float32)
        rng = np.random.default_rng(self.config.seed)
        v0 = rng.random(min(n_users, n_items))
        _, sing, vt = svds(matrix.astype(np.float64), k=rank, v0=v0)
        factors = (vt.T * np.sqrt(sing)).astype(np.float32)  # (n_items, rank)
        norms = np.linalg.norm(factors, axis=1, keepdims=True)
        return np.divide(factors, norms, out=np.zeros_like(factors), where=norms > 0)

    def _search(
        self, names: list[str], validate: Validator, short: bool
    ) -> tuple[dict[str, float], float, list[dict[str, Any]]]:
        """Coarse simplex grid, then hill-climb in `refine_step` moves; return best weights, NDCG@10, all trials."""
        seen: dict[tuple[float, ...], float] = {}
        table: list[dict[str, Any]] = []
        # The number of hill-climbing trials is not known in advance: the bar counts them and shows the best so far.
        bar = tqdm(desc="hybrid weights" + (" (short histories)" if short else ""), unit="trial")

        def score(weights: dict[str, float]) -> float:
            key = tuple(round(weights[n], 6) for n in names)
            if key not in seen:
                # The validator only calls score_batch, which is all a trial offers.
                seen[key] = float(validate(cast(Recommender, _Trial(self, weights, short))))
                table.append({"short": short, "weights": weights, "valid_ndcg10": seen[key]})
                bar.update()
                bar.set_postfix(best_ndcg10=f"{max(seen.values()):.4f}")
            return seen[key]

        try:
            best_score, best = max(((score(w), w) for w in weight_grid(names, self.config.weight_step)), key=_first)
            # Move `refine_step` of weight from one component to another while validation improves.
            step = self.config.refine_step
            improved = step > 0
            while improved:
                improved = False
                for source, sink in itertools.permutations(names, 2):
                    if best[source] < step - 1e-9:
                        continue
                    trial = dict(best)
                    trial[source] = round(trial[source] - step, 6)
                    trial[sink] = round(trial[sink] + step, 6)
                    trial_score = score(trial)
                    if trial_score > best_score + 1e-12:
                        best_score, best, improved = trial_score, trial, True
        finally:
            bar.close()
        return best, best_score, table

    # --- scoring -------------------------------------------------------------------------------------------------

    def _fitted(self) -> tuple[IdMap, np.ndarray, np.ndarray]:
        if self.id_map is None or self.popularity is None or self.item_factors is None or not self.components:
            raise NotFittedError("hybrid model is not trained: call fit() or load a checkpoint")
        return self.id_map, self.popularity, self.item_factors

    def _candidates(
        self, histories: Sequence[Sequence[int]], needed: Collection[str] | None = None
    ) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Per history: component -> (candidate indices (C,), standardised values (C,)).

        Only `needed` components are run (all while tuning, when every weight vector is tried on cached output).
        """
        keys = [tuple(int(i) for i in h) for h in histories]
        cache = self._cache
        todo = [i for i, key in enumerate(keys) if cache is None or key not in cache]
        fresh: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {i: {} for i in todo}
        if todo:
            todo_histories = [list(keys[i]) for i in todo]
            for name, model in self.components.items():
                if cache is None and needed is not None and name not in needed:
                    continue  # weight 0 for every row: skip the model (BERT4Rec/Two-Tower inference is not free)
                # Shared within a request: the home page's SASRec and BERT4Rec rows explain their picks on this batch.
                scores = score_batch(model, todo_histories)
                idx, values = standardise(scores, todo_histories, self.config.candidates)
                for row, i in enumerate(todo):
                    fresh[i][name] = (idx[row], values[row])
            if cache is not None:
                cache.update({keys[i]: fresh[i] for i in todo})
        return [fresh[i] if i in fresh else cache[keys[i]] for i, _ in enumerate(keys)]  # type: ignore[index]

    def _weights_for(self, history_length: int, trial: dict[str, float] | None = None) -> dict[str, float]:
        """The blend for a history of this length: popularity alone when empty, else the `trial` weights being
        searched, else the learned weights for short or full histories."""
        if history_length == 0:
            return {POPULARITY.name: 1.0}
        if trial is not None:
            return trial
        if history_length < self.config.short_history:
            return self.short_weights or {}
        return self.weights or {}

    def _blend(
        self, histories: Sequence[Sequence[int]], trial: dict[str, float] | None = None
    ) -> tuple[np.ndarray, list[Any]]:
        """Blended scores (B, n_items) and the per-row candidates they came from."""
        id_map, popularity, _ = self._fitted()
        row_weights = [self._weights_for(len(history), trial) for history in histories]
        needed = {name for weights in row_weights for name, weight in weights.items() if weight > 0}
        candidates = self._candidates(histories, needed)
        tie_break = TIE_BREAK * popularity / max(float(popularity.max()), 1.0)
        out = np.broadcast_to(tie_break, (len(histories), id_map.n_items)).astype(np.float64)
        for row, (weights, parts) in enumerate(zip(row_weights, candidates, strict=True)):
            for name, weight in weights.items():
                if weight > 0:
                    idx, values = parts[name]
                    out[row, idx] += weight * values
        return out, candidates

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Blended scores over the catalogue: (len(histories), n_items)."""
        return self._blend(histories)[0]

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k unseen movies for any history, each with a short reason."""
        id_map, _, _ = self._fitted()
        k = check_k(k)
        idx = id_map.items_to_indices(query.history)
        scores, candidates = self._blend([idx])
        top = top_k_indices(scores[0], k, list(idx) + id_map.items_to_indices(query.exclude))
        weights = self._weights_for(len(idx))
        favourite = Counter(g for i in idx for g in self.genres[i])
        out = []
        for j in top:
            reason = self._reason(int(j), idx, candidates[0], weights, favourite)
            out.append(Recommendation(id_map.item_ids[int(j)], float(scores[0, j]), reason))
        return out

    def _reason(
        self,
        item: int,
        history: Sequence[int],
        parts: Mapping[str, tuple[np.ndarray, np.ndarray]],
        weights: Mapping[str, float],
        favourite: Counter[str],
    ) -> reasons.Reason:
        """Why `item` was recommended: the strongest contributor decides the kind of reason."""
        id_map, _, factors = self._fitted()
        contribution = {
            name: weights.get(name, 0.0) * float(values[idx == item].sum()) for name, (idx, values) in parts.items()
        }
        top = max(contribution, key=lambda n: contribution[n]) if contribution else POPULARITY.name
        if history and top != POPULARITY.name and contribution[top] > 0:
            recent = np.asarray(list(dict.fromkeys(reversed(history)))[:50], dtype=np.int64)  # newest first
            similarity = factors[recent] @ factors[item]
            source = int(recent[int(np.argmax(similarity))])
            return reasons.because_you_watched(id_map.item_ids[source])
        liked = [g for g in self.genres[item] if favourite.get(g, 0) > 0]
        if liked:
            return reasons.popular_in(max(liked, key=lambda g: (favourite[g], g)))
        return reasons.popular_right_now()

    # --- persistence ---------------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the blend and tables to `path` and each component's checkpoint beside it, recording their digests."""
        id_map, popularity, factors = self._fitted()
        digests = {}
        for name, model in self.components.items():
            component_path = checkpoint_path(Path(path).parent, name)
            model.save(component_path)
            digests[name] = content_digest(component_path)
        save_checkpoint(
            path,
            model=self.name,
            config=self.config.to_dict(),
            id_map=id_map,
            state={"popularity": popularity, "item_factors": factors},
            extra={
                "genres": self.genres,
                "component_sha256": digests,
                "weights": self.weights,
                "short_weights": self.short_weights,
                "tuning": self.tuning,
            },
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the hybrid from its checkpoint and the component checkpoints beside it."""
        return cls.load_sharing(path, {})

    @classmethod
    def load_sharing(cls, path: Path, components: Mapping[str, Recommender]) -> Self:
        """Rebuild the hybrid, reusing `components` already loaded from the checkpoints beside it (the API loads
        each model once); the rest are read from disk. Each file must still have the digest recorded at training."""
        ckpt = load_checkpoint(path, cls.name)
        config = dict(ckpt.config)
        digests = dict(ckpt.extra.get("component_sha256", {}))
        loaded: dict[str, Recommender] = {}
        for name in config["components"]:
            component_path = checkpoint_path(Path(path).parent, name)
            if not component_path.is_file() or name not in digests:
                raise CheckpointError(
                    f"the hybrid {path} needs its component checkpoint {component_path}; re-run `movie-genie train`"
                )
            # The file's recorded digest (checked against its bytes when it is loaded) is the one pinned at training.
            if content_digest(component_path) != digests[name]:
                raise CheckpointError(
                    f"{component_path} changed after the hybrid {path} was trained on it; retrain the hybrid: "
                    "`movie-genie train --model hybrid`"
                )
            given = components.get(name)
            loaded[name] = given if given is not None else model_class(name).load(component_path)
        model = cls(HybridConfig(**config), loaded)
        model.id_map = ckpt.id_map
        model.genres = [list(g) for g in ckpt.extra["genres"]]
        model.popularity = ckpt.array("popularity").astype(np.float32)
        model.item_factors = ckpt.array("item_factors").astype(np.float32)
        model.weights, model.short_weights = ckpt.extra["weights"], ckpt.extra["short_weights"]
        model.tuning = list(ckpt.extra.get("tuning", []))
        return model


class _Trial:
    """The hybrid with trial weights, as the validator sees it during the weight search.

    With `short`, histories are cut to their last `short_history - 1` items (a simulated new user); the validator
    still masks the full history.
    """

    name: ClassVar[str] = HYBRID.name

    def __init__(self, hybrid: Hybrid, weights: dict[str, float], short: bool) -> None:
        self.hybrid, self.weights = hybrid, weights
        self.keep = max(hybrid.config.short_history - 1, 1) if short else None

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Blend with the trial weights (on the last `keep` items of each history when simulating new users)."""
        if self.keep is not None:
            histories = [list(h)[-self.keep :] for h in histories]
        return self.hybrid._blend(histories, self.weights)[0]

"""Two-Tower retrieval model: a user tower over the history, an item tower over ids and content, dot-product scores.

User tower: the history's item embeddings pooled by attention with a learned recency bias per position (the latest
items count most), plus the last item on its own and, where the data set has them, user features (age, gender,
occupation; a user the model never saw simply has none). Item tower: id embedding + genres + year + the text
embedding of the description. Both outputs are L2-normalised, so a score is a cosine divided by a temperature.

Training samples (history prefix -> next item) pairs uniformly from all training positions, a fresh share each
epoch, and uses an in-batch softmax with log-Q correction: popular items appear as negatives more often than rare
ones, so their logit is lowered by log(frequency) during training (Yi et al., 2019) to keep scores unbiased.
The item vectors also answer "similar movies" and the stored training-user vectors "similar users".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)
from pydantic import model_validator
from torch import nn

from movie_genie.data.idmap import IdMap
from movie_genie.errors import MovieGenieError
from movie_genie.models.base import (
    ModelConfig,
    Query,
    Recommendation,
    SimilarUser,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.catalogue import TWO_TOWER
from movie_genie.models.checkpoint import save_checkpoint
from movie_genie.models.common import NotFittedError, check_k, recommendations_from_scores, top_k_indices
from movie_genie.models.content import ContentProjection, ItemContent, content_buffers
from movie_genie.models.sequences import (
    PAD,
    EpochPlan,
    TorchRecommender,
    TrainRun,
    evaluating,
    pad_left,
    user_sequences,
)

USER_FEATURES = ("age", "gender", "occupation")  # categorical user columns used when the users table has them
AGE_BINS = (18, 25, 35, 45, 50, 56)  # MovieLens 1M age groups; ml-100k ages are bucketed the same way


class UnknownMovieError(MovieGenieError):
    """A movie id that is not in the model's catalogue was asked about."""


class TwoTowerConfig(ModelConfig):
    """Hyperparameters (params.yaml `models.two_tower`, with per-data-set overrides)."""

    max_len: int = 50  # history items the user tower reads
    dim: int = 64
    dropout: float = 0.1  # share of history items dropped from each training row
    temperature: float = 0.07
    batch_size: int = 512
    sample_frac: float = 0.5  # share of all training positions drawn as (prefix -> next) pairs each epoch
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    max_epochs: int = 30
    eval_every: int = 1
    patience: int = 4
    logq_correction: bool = True
    refit_with_valid: bool = True  # the train stage then calls refit(train + validation) before the test
    refit_epochs: int = 2  # fine-tuning epochs of refit (0 = keep the tuned weights)
    refit_lr_scale: float = 0.3  # refit learning rate = lr * refit_lr_scale (cosine-decayed, no warm-up)
    use_content: bool = True
    use_text: bool = True
    use_user_features: bool = True
    feature_dropout: float = 0.5  # share of training rows without user features, so new users work too
    seed: int = 42
    torch_threads: int = 0  # intra-op threads while training (0 = torch's default); 1 is faster on a busy CPU
    progress: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.max_len < 1 or self.dim < 1 or self.batch_size < 2:
            raise ValueError("max_len and dim must be >= 1 and batch_size >= 2")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")
        return self


def _age_bucket(age: float) -> int:
    return int(np.searchsorted(AGE_BINS, age, side="right")) + 1  # 1..len(AGE_BINS)+1; 0 = unknown


def encode_user_features(users: pd.DataFrame | None, id_map: IdMap) -> tuple[np.ndarray, list[int]]:
    """Categorical user features as (n_users, n_features) codes (0 = unknown) and each feature's vocabulary size."""
    columns = [c for c in USER_FEATURES if users is not None and c in users.columns]
    codes = np.zeros((id_map.n_users, len(columns)), dtype=np.int64)
    sizes: list[int] = []
    if users is None or not columns:
        return codes, sizes
    rows = users.assign(_idx=users["user_id"].map(lambda u: id_map.user_index(int(u)))).dropna(subset=["_idx"])
    index = rows["_idx"].to_numpy(dtype=np.int64)
    for j, column in enumerate(columns):
        values = rows[column]
        if column == "age":
            codes[index, j] = [0 if pd.isna(a) else _age_bucket(float(a)) for a in values]
            sizes.append(len(AGE_BINS) + 2)
        else:
            vocab = {v: i + 1 for i, v in enumerate(sorted(values.dropna().astype(str).unique()))}
            codes[index, j] = [vocab.get(str(v), 0) if not pd.isna(v) else 0 for v in values]
            sizes.append(len(vocab) + 1)
    return codes, sizes


class TwoTowerNet(nn.Module):
    """Both towers. Item tokens are item index + 1 (0 = padding)."""

    def __init__(
        self,
        cfg: TwoTowerConfig,
        n_items: int,
        genres: torch.Tensor | None = None,
        year: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
        feature_sizes: Sequence[int] = (),
    ) -> None:
        super().__init__()
        d = cfg.dim
        self.n_items = n_items
        self.max_len = cfg.max_len
        self.inv_temperature = 1.0 / cfg.temperature
        # Item tower inputs.
        self.item_id = nn.Embedding(n_items, d)
        self.content = ContentProjection(d, genres, year, text)
        self.item_mlp = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        # User tower: its own history embeddings, a learned [USER] slot (so an empty history still pools), recency
        # bias per right-aligned position, attention scores, and optional categorical user features.
        self.hist_emb = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.user_slot = nn.Parameter(torch.zeros(1, 1, d))
        self.recency = nn.Parameter(torch.zeros(cfg.max_len + 1))
        self.attn = nn.Linear(d, 1)
        self.features = nn.ModuleList(nn.Embedding(size, d, padding_idx=0) for size in feature_sizes)
        self.item_dropout = cfg.dropout
        self.generator: torch.Generator | None = None  # set by fit() for seeded item dropout
        self.user_mlp = nn.Sequential(nn.LayerNorm(2 * d), nn.Linear(2 * d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
        nn.init.normal_(self.item_id.weight, std=0.05)
        nn.init.normal_(self.hist_emb.weight, std=0.05)
        with torch.no_grad():
            self.hist_emb.weight[PAD].zero_()
            # Start with a recency preference (later positions higher), which training then adjusts.
            self.recency.copy_(torch.linspace(-1.0, 0.0, cfg.max_len + 1))

    def item_vectors(self, items: torch.Tensor | None = None) -> torch.Tensor:
        """L2-normalised item tower output, (n_items, d), or (len(items), d) for the given item indices only."""
        x = self.content.add_to(self.item_id.weight if items is None else self.item_id(items), items)
        return F.normalize(x + self.item_mlp(x), dim=-1)

    def user_vectors(self, tokens: torch.Tensor, features: torch.Tensor | None = None) -> torch.Tensor:
        """L2-normalised user tower output (B, d) from right-aligned history tokens (B, T) and codes (B, F)."""
        b, t = tokens.shape
        if self.training and self.item_dropout > 0:
            # Drop whole history items (not embedding elements): cheaper on a CPU and a useful augmentation.
            dropped = torch.rand(tokens.shape, generator=self.generator) < self.item_dropout
            tokens = tokens.masked_fill(dropped, PAD)
        h = self.hist_emb(tokens)  # (B, T, d)
        h = torch.cat([h, self.user_slot.expand(b, 1, -1)], dim=1)  # (B, T + 1, d); the slot is the newest
        real = torch.cat([tokens.ne(PAD), torch.ones(b, 1, dtype=torch.bool)], dim=1)
        logits = self.attn(h).squeeze(-1) + self.recency[-(t + 1) :]  # (B, T + 1)
        weights = torch.softmax(logits.masked_fill(~real, float("-inf")), dim=1)
        pooled = (weights.unsqueeze(-1) * h).sum(1)  # (B, d)
        last = h[:, -2] if t > 0 else torch.zeros_like(pooled)  # the most recent item (zeros when padding)
        if features is not None and len(self.features):
            pooled = pooled + sum(emb(features[:, j]) for j, emb in enumerate(self.features))
        return F.normalize(self.user_mlp(torch.cat([pooled, last], dim=-1)), dim=-1)


class TwoTower(TorchRecommender):
    """Two-Tower recommender with similar-movie and similar-user look-ups."""

    name: ClassVar[str] = TWO_TOWER.name
    config_class = TwoTowerConfig
    config: TwoTowerConfig

    def __init__(self, config: TwoTowerConfig | None = None) -> None:
        super().__init__(config)
        self.net: TwoTowerNet | None = None
        self.user_features: np.ndarray | None = None  # (n_users, n_features) codes for training users
        self.user_table: np.ndarray | None = None  # (n_users, d) normalised vectors of the training users
        self._items: np.ndarray | None = None  # cached (n_items, d) item vectors for inference

    @classmethod
    def tiny_config(cls) -> TwoTowerConfig:
        """A config that trains in seconds, for the contract tests."""
        return TwoTowerConfig(max_len=20, dim=32, batch_size=256, sample_frac=0.2, max_epochs=2, progress=False)

    # ----------------------------------------------------------------------------------------------- training
    def _clear_cache(self) -> None:
        self._items = None

    def _content_only(self, unseen: torch.Tensor) -> None:
        """Zero the unseen items' id embeddings: the item tower then reads their content alone."""
        net, _ = self._require()
        net.item_id.weight[unseen] = 0.0

    def _build_net(self, data: TrainingData) -> TwoTowerNet:
        cfg = self.config
        sizes: list[int] = []
        codes = np.zeros((data.id_map.n_users, 0), dtype=np.int64)
        if cfg.use_user_features:
            codes, sizes = encode_user_features(data.users, data.id_map)
        self.user_features = codes
        if not cfg.use_content:
            return TwoTowerNet(cfg, data.id_map.n_items, feature_sizes=sizes)
        content = ItemContent.from_data(data, use_text=cfg.use_text).tensors()
        return TwoTowerNet(cfg, data.id_map.n_items, *content, feature_sizes=sizes)

    def _plan(self, data: TrainingData, run: TrainRun) -> EpochPlan:
        """A fresh uniform sample of (history prefix -> next item) pairs each epoch, in batches of `batch_size`."""
        cfg = self.config
        net, _ = self._require()
        net.generator = run.generator
        seqs = user_sequences(data.train, data.id_map.n_users)
        # Every (user, position >= 1) is a candidate pair: history = items before it, target = the item there.
        pair_user = np.concatenate([np.full(max(len(s) - 1, 0), u, dtype=np.int64) for u, s in enumerate(seqs)])
        pair_pos = np.concatenate([np.arange(1, len(s), dtype=np.int64) for s in seqs])
        if len(pair_user) == 0:
            raise ValueError("no training pairs: every user needs at least two training interactions")
        counts = np.bincount(data.train["item_idx"].to_numpy(dtype=np.int64), minlength=data.id_map.n_items)
        log_q = torch.from_numpy(np.log(np.maximum(counts, 1) / counts.sum()).astype(np.float32))
        per_epoch = max(cfg.batch_size, int(len(pair_user) * cfg.sample_frac))
        features = torch.from_numpy(self.user_features) if self.user_features is not None else None

        def batches(rng: np.random.Generator) -> list[np.ndarray]:
            chosen = rng.choice(len(pair_user), size=per_epoch, replace=False)
            # A one-row batch has no in-batch negative: skipped (before sharding, so every rank agrees).
            return [
                b for b in (chosen[s : s + cfg.batch_size] for s in range(0, per_epoch, cfg.batch_size)) if len(b) >= 2
            ]

        def loss_inputs(rows: np.ndarray, generator: torch.Generator) -> tuple[tuple[Any, ...], int]:
            users, positions = pair_user[rows], pair_pos[rows]
            hist = [seqs[u][max(0, p - cfg.max_len) : p] + 1 for u, p in zip(users, positions, strict=True)]
            targets = torch.from_numpy(np.array([seqs[u][p] for u, p in zip(users, positions, strict=True)]))
            feats = None
            if features is not None and features.shape[1]:
                keep = torch.rand(len(rows), generator=generator) >= cfg.feature_dropout
                feats = features[users] * keep[:, None]
            return (torch.from_numpy(pad_left(hist)), feats, targets, log_q), len(rows)

        return EpochPlan(math.ceil(per_epoch / cfg.batch_size), batches, loss_inputs)

    def _train(self, data: TrainingData, validate: Validator | None, run: TrainRun) -> TrainingLog:
        """The shared loop, then the training users' vectors for `similar_users`."""
        log = super()._train(data, validate, run)
        # From histories alone, like the queries of similar_users (which come without user features).
        self.user_table = self._user_vectors([s.tolist() for s in user_sequences(data.train, data.id_map.n_users)])
        return log

    def _loss(
        self, tokens: torch.Tensor, features: torch.Tensor | None, targets: torch.Tensor, log_q: torch.Tensor
    ) -> torch.Tensor:
        """In-batch softmax loss of one batch: histories (B, T), feature codes (B, F) or None, targets (B,)."""
        net, _ = self._require()
        user_vec = net.user_vectors(tokens, features)  # (B, d)
        item_vec = net.item_vectors(targets)  # (B, d): only the batch targets pass the tower
        logits = user_vec @ item_vec.T * net.inv_temperature  # (B, B): column j = row j's target
        if self.config.logq_correction:
            logits = logits - log_q[targets][None, :]
        # Another row with the same target is not a negative.
        same = targets[None, :].eq(targets[:, None]) & ~torch.eye(len(targets), dtype=torch.bool)
        return F.cross_entropy(logits.masked_fill(same, float("-inf")), torch.arange(len(targets)))

    # ---------------------------------------------------------------------------------------------- inference
    def _require(self) -> tuple[TwoTowerNet, IdMap]:
        if self.net is None or self.id_map is None:
            raise NotFittedError("TwoTower is not trained: call fit() or load() first")
        return self.net, self.id_map

    def item_vectors(self) -> np.ndarray:
        """Normalised item-tower vectors, (n_items, d), computed once and cached."""
        net, _ = self._require()
        if self._items is None:
            with evaluating(net):
                self._items = net.item_vectors().numpy()
        return self._items

    def _user_vectors(self, histories: Sequence[Sequence[int]], features: np.ndarray | None = None) -> np.ndarray:
        """Normalised user vectors (B, d) from histories of item indices (and optional feature codes)."""
        net, _ = self._require()
        rows = [np.asarray(h, dtype=np.int64)[-net.max_len :] + 1 for h in histories]
        with evaluating(net):
            tokens = torch.from_numpy(pad_left(rows, length=max(1, max((len(r) for r in rows), default=1))))
            feats = torch.from_numpy(features) if features is not None and features.shape[1] else None
            return net.user_vectors(tokens, feats).numpy()

    def _features_for(self, user_ids: Sequence[int | None] | None, count: int) -> np.ndarray | None:
        if user_ids is None or self.user_features is None or self.user_features.shape[1] == 0:
            return None
        _, id_map = self._require()
        out = np.zeros((count, self.user_features.shape[1]), dtype=np.int64)
        for row, user in enumerate(user_ids):
            index = id_map.user_index(user) if user is not None else None
            if index is not None:
                out[row] = self.user_features[index]
        return out

    def score_batch(
        self, histories: Sequence[Sequence[int]], user_ids: Sequence[int | None] | None = None
    ) -> np.ndarray:
        """Scores (len(histories), n_items) from histories of item indices; `user_ids` adds known users' features."""
        _, id_map = self._require()
        if len(histories) == 0:
            return np.zeros((0, id_map.n_items), dtype=np.float32)
        users = self._user_vectors(histories, self._features_for(user_ids, len(histories)))
        # torch, not numpy: numpy's BLAS starts its own threads, which stall on a busy CPU; torch keeps to its setting.
        return (torch.from_numpy(users) @ torch.from_numpy(self.item_vectors()).T).numpy()

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k movie ids for the history (movie ids, oldest first); a known `user_id` adds that user's features."""
        _, id_map = self._require()
        history_idx = id_map.items_to_indices(query.history)
        scores = self.score_batch([history_idx], None if query.user_id is None else [query.user_id])[0]
        return recommendations_from_scores(id_map, scores, history_idx, k, query.exclude)

    def similar_items(self, movie_id: int, k: int = 10) -> list[Recommendation]:
        """The k movies closest to `movie_id` by cosine in item-tower space (never the movie itself)."""
        _, id_map = self._require()
        index = id_map.item_index(movie_id)
        if index is None:
            raise UnknownMovieError(f"movie {movie_id} is not in the catalogue of this model")
        items = self.item_vectors()
        scores = (torch.from_numpy(items) @ torch.from_numpy(items[index])).numpy()
        return recommendations_from_scores(id_map, scores, [index], k)

    def similar_users(self, history: Sequence[int], k: int = 10) -> list[SimilarUser]:
        """Training users whose vectors are closest (cosine) to the user vector of `history` (movie ids).

        Empty when the history has no film this model knows: an empty history says nothing about taste.
        """
        _, id_map = self._require()
        k = check_k(k)
        if self.user_table is None:
            raise NotFittedError("TwoTower has no stored user vectors: call fit() or load() first")
        indices = id_map.items_to_indices(history)
        if not indices:
            return []
        query = self._user_vectors([indices])[0]
        scores = (torch.from_numpy(self.user_table) @ torch.from_numpy(query)).numpy()
        return [SimilarUser(id_map.user_ids[int(i)], float(scores[int(i)])) for i in top_k_indices(scores, k)]

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: Path) -> None:
        """Write weights, config, id map, user vectors and features, and format version to one checkpoint."""
        net, id_map = self._require()
        state: dict[str, torch.Tensor | np.ndarray] = {f"net.{k}": v for k, v in net.state_dict().items()}
        if self.user_table is not None:
            state["user_table"] = self.user_table
        if self.user_features is not None:
            state["user_features"] = self.user_features
        extra = {"feature_sizes": [int(e.weight.shape[0]) for e in net.features if isinstance(e, nn.Embedding)]}
        save_checkpoint(path, model=self.name, config=self.config.to_dict(), id_map=id_map, state=state, extra=extra)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the model from a checkpoint file alone."""
        model, ckpt = cls._restore(path)
        weights = {k[len("net.") :]: v for k, v in ckpt.state.items() if k.startswith("net.")}
        net = TwoTowerNet(
            model.config,
            ckpt.id_map.n_items,
            **content_buffers(weights, "content."),
            feature_sizes=[int(s) for s in ckpt.extra.get("feature_sizes", [])],
        )
        net.load_state_dict(weights)
        net.eval()
        model.net = net
        model.user_table = ckpt.array("user_table") if "user_table" in ckpt.state else None
        model.user_features = ckpt.array("user_features") if "user_features" in ckpt.state else None
        return model

"""BERT4Rec (Sun et al., 2019): a bidirectional transformer over each user's item sequence, trained by masking.

Training: one sequence per user per batch row (the last `max_len` training items, or a random window of a long
history), a random share of positions replaced by [MASK], and a softmax loss over the whole catalogue at every
masked position (a sampled softmax with many shared negatives above `full_softmax_max_items`). Some rows also
mask their last position, which is exactly the inference situation (the paper's fine-tuning trick).
Inference: append [MASK] to the history and read the catalogue scores at that position.

Item embeddings can fuse content: a projection of the genres multi-hot, the release year and the movie's text
embedding is added to the learned id embedding, so rarely rated films borrow signal from their descriptions.
The same item table scores the output (tied weights), which regularises well on small data sets.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, ClassVar, Self

import numpy as np
import torch
from pydantic import model_validator
from torch import nn

from movie_genie.models.base import TrainingData
from movie_genie.models.catalogue import BERT4REC
from movie_genie.models.sequences import PAD, EpochPlan, TrainRun, pad_left, user_sequences
from movie_genie.models.transformer import SequenceConfig, SequenceRecommender, SequenceTransformer


class Bert4RecConfig(SequenceConfig):
    """Hyperparameters (params.yaml `models.bert4rec`, with per-data-set overrides) beyond SequenceConfig."""

    max_len: int = 100  # tokens per sequence, including the [MASK] appended at inference
    all_windows: bool = False
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 50
    max_epochs: int = 60
    patience: int = 4
    refit_epochs: int = 3
    mask_prob: float = 0.2  # share of positions masked per training sequence
    mask_recency: float = 1.0  # < 1: mask recent positions more (weight mask_recency**distance_from_end); 1: uniform
    mask_max_prob: float = 0.8  # cap on any one position's masking probability under recency weighting
    last_mask_prob: float = 0.25  # share of rows that also mask their last position (matches inference)
    min_window: int = 5  # shortest older window kept when all_windows cuts a history

    @model_validator(mode="after")
    def _check_masking(self) -> Self:
        if self.max_len < 2:
            raise ValueError("max_len must be at least 2 (one item and the [MASK])")
        if not 0.0 < self.mask_prob < 1.0:
            raise ValueError("mask_prob must be in (0, 1)")
        if not 0.0 < self.mask_recency <= 1.0:
            raise ValueError("mask_recency must be in (0, 1]")
        return self


class Bert4RecNet(SequenceTransformer):
    """BERT4Rec's network: the shared transformer attending both ways, a [MASK] token, and BERT's output head."""

    extra_tokens = 1  # [MASK], token n_items + 1

    @property
    def mask_token(self) -> int:
        """The token of [MASK]: training hides targets behind it, inference appends it to the history."""
        return self.n_items + 1

    def _output_head(self, dim: int) -> nn.Module:
        """BERT's output head: a dense layer + GELU + LayerNorm before the tied item table."""
        return nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.LayerNorm(dim))

    def attention_mask(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, T): every position attends to every key that is an item or [MASK], never to padding."""
        return tokens.ne(PAD)[:, None, None, :]


class Bert4Rec(SequenceRecommender):
    """BERT4Rec recommender: fit on the training split, recommend from any history of movie ids."""

    name: ClassVar[str] = BERT4REC.name
    config_class = Bert4RecConfig
    net_class = Bert4RecNet
    config: Bert4RecConfig
    net: Bert4RecNet | None

    # ----------------------------------------------------------------------------------------------- training
    def _plan(self, data: TrainingData, run: TrainRun) -> EpochPlan:
        """One sequence per user per batch row (grouped by length), random positions masked in each batch."""
        cfg = self.config
        _, id_map = self._require()
        # Shift item indices by one: token 0 is padding.
        seqs = [s + 1 for s in user_sequences(data.train, id_map.n_users) if len(s) > 0]
        if not seqs:
            raise ValueError("no training interactions: the training split is empty")
        n_rows = len(self._epoch_rows(seqs, np.random.default_rng(run.seed)))

        def loss_inputs(batch: list[np.ndarray], generator: torch.Generator) -> tuple[tuple[Any, ...], int]:
            tokens = torch.from_numpy(pad_left(batch))  # (B, T) right-aligned
            inputs, mask = self._mask(tokens, generator)
            return (tokens, inputs, mask, generator), int(mask.sum())

        return EpochPlan(math.ceil(n_rows / cfg.batch_size), partial(self._row_batches, seqs), loss_inputs)

    def _loss(
        self, tokens: torch.Tensor, inputs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Mean cross-entropy at the masked positions of one batch: tokens/inputs/mask (B, T) -> scalar."""
        return self._catalogue_loss(inputs, mask, tokens[mask] - 1, generator)

    def _epoch_rows(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's training rows (token arrays of at most max_len items).

        Default: one row per user, the latest `max_len` items (or, for `random_crop_prob` of long histories, a random
        window). With `all_windows`, a long history is cut into consecutive windows ending at its latest item, the
        older cuts shifted by a random offset each epoch, so every item is trained on once per epoch (with
        `max_windows`, the latest and a random draw of the older windows).
        """
        cfg = self.config
        rows = []
        for seq in seqs:
            if len(seq) <= cfg.max_len:
                rows.append(seq)
            elif cfg.all_windows:
                windows = [seq[-cfg.max_len :]]
                end = len(seq) - cfg.max_len - int(rng.integers(0, cfg.max_len))
                while end >= cfg.min_window:
                    windows.append(seq[max(0, end - cfg.max_len) : end])
                    end -= cfg.max_len
                rows.extend(self._cap_windows(windows, rng))
            elif rng.random() < cfg.random_crop_prob:
                end = int(rng.integers(cfg.max_len, len(seq) + 1))
                rows.append(seq[end - cfg.max_len : end])
            else:
                rows.append(seq[-cfg.max_len :])
        return rows

    def _mask(self, tokens: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Replace random positions by [MASK]; return (inputs, mask) with mask (B, T) True where a loss applies."""
        assert self.net is not None
        cfg = self.config
        real = tokens.ne(PAD)
        if cfg.mask_recency < 1.0:
            # Recency-weighted masking (Petrov & Macdonald, 2022): position j from the end is masked with probability
            # proportional to mask_recency**j, scaled so a row still masks about mask_prob of its items. Targets near
            # the end look like next-item prediction, which is what inference asks, so training converges sooner.
            from_end = torch.arange(tokens.shape[1] - 1, -1, -1, dtype=torch.float32)  # (T,)
            weight = cfg.mask_recency**from_end  # (T,)
            lengths = real.sum(dim=1, keepdim=True).float()  # (B, 1)
            totals = (1 - cfg.mask_recency**lengths) / (1 - cfg.mask_recency)  # (B, 1): sum of weights per row
            prob = (cfg.mask_prob * lengths * weight / totals).clamp(max=cfg.mask_max_prob)  # (B, T)
        else:
            prob = torch.full(tokens.shape, cfg.mask_prob)
        mask = (torch.rand(tokens.shape, generator=generator) < prob) & real
        # Some rows mask their last item too: the inference situation, where [MASK] follows the whole history.
        last = torch.rand(tokens.shape[0], generator=generator) < cfg.last_mask_prob
        empty = ~mask.any(dim=1)  # every row needs at least one target
        mask[:, -1] |= last | empty
        inputs = tokens.masked_fill(mask, self.net.mask_token)
        return inputs, mask

    # ---------------------------------------------------------------------------------------------- inference
    def _inference_tokens(self, history: np.ndarray) -> np.ndarray:
        """The latest max_len - 1 items, then [MASK]: the state at the [MASK] scores the next item."""
        assert self.net is not None
        return np.append(history[-(self.config.max_len - 1) :] + 1, self.net.mask_token)

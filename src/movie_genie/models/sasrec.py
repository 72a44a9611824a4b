"""SASRec (Kang & McAuley, 2018) trained with a full softmax cross-entropy (Klenitskiy & Vasilev, RecSys 2023).

A causal (left-to-right) transformer reads each user's items oldest first; the hidden state at every position
predicts the item that comes next. The original SASRec scored one sampled negative per position with a binary
loss; "Turning Dross Into Gold Loss" showed that the same network trained with a cross-entropy over the whole
catalogue matches or beats BERT4Rec, and trains faster, because every position of every sequence is a target.
Above `full_softmax_max_items` the softmax runs over the target and negatives shared by the batch, so large
catalogues still train.

Training rows are windows of `max_len + 1` items (inputs = the first `max_len`, targets = the same shifted by one),
right-aligned; padding neither attends, is attended, nor counts in the loss. Inference reads the hidden state at the
last position of the latest `max_len` items. Item embeddings fuse content (genres, year, text embedding) as in
BERT4Rec, and the same item table scores the output (tied weights).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, ClassVar

import numpy as np
import torch

from movie_genie.models.base import TrainingData
from movie_genie.models.catalogue import SASREC
from movie_genie.models.sequences import PAD, EpochPlan, TrainRun, dislikes_after, pad_left, user_sequences
from movie_genie.models.transformer import SequenceConfig, SequenceRecommender, SequenceTransformer


class SasRecConfig(SequenceConfig):
    """Hyperparameters (params.yaml `models.sasrec`, with per-data-set overrides) beyond SequenceConfig."""

    max_len: int = 50  # items the transformer reads (a training window is max_len + 1 items: inputs and next items)
    all_windows: bool = True  # every window of a long history each epoch: every transition once or more
    batch_size: int = 16  # small batches: many optimizer steps per epoch on small data sets
    lr: float = 5e-3
    warmup_steps: int = 100
    max_epochs: int = 10
    patience: int = 3
    refit_epochs: int = 2
    # Weight of the "not to recommend" loss on films the person disliked right after a position (0 = off; full
    # softmax only): -log(1 - p(disliked film)) at the state that preceded the dislike (Wang et al., RecSys 2023).
    dislike_weight: float = 0.0


def causal_mask(tokens: torch.Tensor) -> torch.Tensor:
    """(B, 1, T, T) boolean, True where query position i may attend key j: j <= i and j is an item, or j == i.

    Every position also sees itself, so a padding position (which sees no item) still has one key: a row of
    softmax over nothing would be NaN, and a NaN value times a zero weight poisons the positions after it.
    """
    length = tokens.shape[1]
    lower = torch.ones(length, length, dtype=torch.bool).tril()  # (T, T)
    keys = tokens.ne(PAD)[:, None, None, :]  # (B, 1, 1, T)
    return (lower & keys) | torch.eye(length, dtype=torch.bool)


class SasRecNet(SequenceTransformer):
    """SASRec's network: the shared transformer with causal attention; the item table scores the states directly."""

    def attention_mask(self, tokens: torch.Tensor) -> torch.Tensor:
        """Position t attends to items at positions <= t (`causal_mask`)."""
        return causal_mask(tokens)


class SasRec(SequenceRecommender):
    """SASRec recommender with a full cross-entropy: fit on the training split, recommend from any history."""

    name: ClassVar[str] = SASREC.name
    config_class = SasRecConfig
    net_class = SasRecNet
    config: SasRecConfig
    net: SasRecNet | None

    # ----------------------------------------------------------------------------------------------- training
    def _plan(self, data: TrainingData, run: TrainRun) -> EpochPlan:
        """Windows of max_len + 1 items per batch row (grouped by length); every position predicts the next item,
        and, where the person disliked the film that followed, is taught not to recommend it."""
        cfg = self.config
        _, id_map = self._require()
        # Rows are windows over positions in one flat table of every user's tokens (token = item index + 1; 0 is
        # padding, kept as the table's last entry so that a padded position, -1, reads it). The same positions
        # read the film disliked after each item (0: none), so windows of both stay aligned.
        items = user_sequences(data.train, id_map.n_users)
        dislikes = dislikes_after(data.train, data.disliked, id_map.n_users)
        tokens = np.concatenate([*(s + 1 for s in items), [PAD]])
        disliked = np.concatenate([*(d + 1 for d in dislikes), [PAD]])
        starts = np.cumsum([0, *(len(s) for s in items)])
        # A history of one item has no transition to learn.
        seqs = [np.arange(starts[u], starts[u + 1]) for u in range(id_map.n_users) if len(items[u]) > 1]
        if not seqs:
            raise ValueError("no training sequences: no user has two training interactions")
        n_rows = len(self._epoch_rows(seqs, np.random.default_rng(run.seed)))

        def loss_inputs(batch: list[np.ndarray], generator: torch.Generator) -> tuple[tuple[Any, ...], int]:
            positions = pad_left(batch, pad=-1)  # (B, T + 1) right-aligned
            rows, avoid = torch.from_numpy(tokens[positions]), torch.from_numpy(disliked[positions])
            inputs, targets = rows[:, :-1], rows[:, 1:]  # (B, T) each: position t predicts token t + 1
            return (inputs, targets, avoid[:, :-1], generator), int(loss_mask(inputs, targets).sum())

        return EpochPlan(math.ceil(n_rows / cfg.batch_size), partial(self._row_batches, seqs), loss_inputs)

    def _loss(
        self, inputs: torch.Tensor, targets: torch.Tensor, avoid: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Mean next-item cross-entropy over every real position, plus `dislike_weight` times the mean "not to
        recommend" loss -log(1 - p) over the positions followed by a dislike: inputs/targets/avoid (B, T) tokens."""
        mask = loss_mask(inputs, targets)  # (B, T)
        # avoid[mask] - 1: the item disliked after each position, -1 for none.
        return self._catalogue_loss(
            inputs, mask, targets[mask] - 1, generator, avoid[mask] - 1, self.config.dislike_weight
        )

    def _epoch_rows(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's training rows (token arrays of at most max_len + 1 items, so at most max_len targets).

        With `all_windows`, a long history is cut into windows ending at its latest item; the older cuts end at a
        random point of the previous window each epoch, so their contexts vary and no transition is skipped (the
        latest ones may be trained twice, which is where inference looks); `max_windows` keeps the latest and a random
        draw of the others. Otherwise one row per user: the latest window or, for `random_crop_prob` of long
        histories, a random one.
        """
        cfg = self.config
        width = cfg.max_len + 1
        rows = []
        for seq in seqs:
            if len(seq) <= width:
                rows.append(seq)
            elif cfg.all_windows:
                windows = [seq[-width:]]
                # Older windows: the first ends at a random point of the latest window (repeating 0..max_len - 1 of
                # its targets, the ones nearest inference), each next one an item after the previous one starts, so
                # together their targets cover every transition while the cuts move from epoch to epoch.
                end = len(seq) - cfg.max_len + int(rng.integers(0, cfg.max_len))
                while True:
                    start = max(0, end - width)
                    windows.append(seq[start:end])
                    if start == 0:
                        break
                    end = start + 1
                rows.extend(self._cap_windows(windows, rng))
            elif rng.random() < cfg.random_crop_prob:
                end = int(rng.integers(width, len(seq) + 1))
                rows.append(seq[end - width : end])
            else:
                rows.append(seq[-width:])
        return rows

    # ---------------------------------------------------------------------------------------------- inference
    def _inference_tokens(self, history: np.ndarray) -> np.ndarray:
        """The latest max_len items: the state at the latest one scores the next item (an empty history has none)."""
        return history[-self.config.max_len :] + 1


def loss_mask(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B, T) True where a loss applies: a real input item followed by a real target (padding never counts)."""
    return inputs.ne(PAD) & targets.ne(PAD)

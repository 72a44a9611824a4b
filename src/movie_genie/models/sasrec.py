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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)
from torch import nn

from movie_genie.data.idmap import IdMap
from movie_genie.models.base import TrainingData
from movie_genie.models.checkpoint import load_checkpoint, save_checkpoint
from movie_genie.models.common import NotFittedError
from movie_genie.models.content import ContentProjection, content_buffers
from movie_genie.models.sequences import (
    PAD,
    EncoderBlock,
    EpochPlan,
    SequenceRecommender,
    TrainRun,
    config_from_params,
    dislikes_after,
    evaluating,
    pad_left,
    sampled_softmax_loss,
    user_sequences,
)


@dataclass(frozen=True)
class SasRecConfig:
    """Hyperparameters (params.yaml `models.sasrec`, with per-data-set overrides)."""

    max_len: int = 50  # items the transformer reads (a training window is max_len + 1 items: inputs and next items)
    dim: int = 64
    layers: int = 2
    heads: int = 2
    ff_mult: int = 4
    dropout: float = 0.2
    all_windows: bool = True  # train on every window of long histories each epoch (every transition once or more)
    random_crop_prob: float = 0.5  # without all_windows: share of long histories cut at a random window
    batch_size: int = 16  # small batches: many optimizer steps per epoch on small data sets
    lr: float = 5e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_epochs: int = 10
    eval_every: int = 2
    patience: int = 3  # validation checks without improvement before stopping
    refit_with_valid: bool = True  # the train stage then calls refit(train + validation) before the test
    refit_epochs: int = 2  # fine-tuning epochs of refit (0 = keep the tuned weights)
    refit_lr_scale: float = 0.3  # refit learning rate = lr * refit_lr_scale (cosine-decayed, no warm-up)
    use_content: bool = True  # genres + year (+ text embedding when available) fused into item embeddings
    use_text: bool = True
    full_softmax_max_items: int = 50_000  # larger catalogues train with a sampled softmax
    sampled_negatives: int = 4096
    # Weight of the "not to recommend" loss on films the person disliked right after a position (0 = off; full
    # softmax only): -log(1 - p(disliked film)) at the state that preceded the dislike (Wang et al., RecSys 2023).
    dislike_weight: float = 0.0
    seed: int = 42
    torch_threads: int = 0  # intra-op threads while training (0 = torch's default); 1 is faster on a busy CPU
    progress: bool = True

    def __post_init__(self) -> None:
        if self.max_len < 1:
            raise ValueError("max_len must be at least 1")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> SasRecConfig:
        """Read `models.sasrec` from params.yaml, applying `per_dataset[dataset]` overrides."""
        return config_from_params(cls, section, dataset)


def causal_mask(tokens: torch.Tensor) -> torch.Tensor:
    """(B, 1, T, T) boolean, True where query position i may attend key j: j <= i and j is an item, or j == i.

    Every position also sees itself, so a padding position (which sees no item) still has one key: a row of
    softmax over nothing would be NaN, and a NaN value times a zero weight poisons the positions after it.
    """
    length = tokens.shape[1]
    lower = torch.ones(length, length, dtype=torch.bool).tril()  # (T, T)
    keys = tokens.ne(PAD)[:, None, None, :]  # (B, 1, 1, T)
    return (lower & keys) | torch.eye(length, dtype=torch.bool)


class SasRecNet(nn.Module):
    """The network: item (+content) and position embeddings -> causal transformer -> scores over items."""

    def __init__(
        self,
        cfg: SasRecConfig,
        n_items: int,
        genres: torch.Tensor | None = None,
        year: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.n_items = n_items
        d = cfg.dim
        # Tokens: 0 = padding, 1..n_items = items.
        self.item_emb = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.pos_emb = nn.Embedding(cfg.max_len, d)
        self.content = ContentProjection(d, genres, year, text)
        self.emb_norm = nn.LayerNorm(d)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg.heads, cfg.ff_mult * d, cfg.dropout) for _ in range(cfg.layers))
        self.final_norm = nn.LayerNorm(d)
        self.out_bias = nn.Parameter(torch.zeros(n_items))  # a learned popularity prior
        nn.init.normal_(self.item_emb.weight, std=0.02)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[PAD].zero_()

    def item_table(self) -> torch.Tensor:
        """Embedding of every token, (n_items + 1, d): id embedding plus projected content for real items."""
        content = self.content.add_to(torch.zeros(self.n_items, self.item_emb.embedding_dim))
        return self.item_emb.weight + torch.cat([torch.zeros(1, content.shape[1]), content])

    def encode(self, tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, d) for right-aligned token rows (B, T); position t sees only positions <= t."""
        length = tokens.shape[1]
        # Right-aligned positions: the latest item is always position max_len - 1, whatever the padded width.
        positions = torch.arange(self.pos_emb.num_embeddings - length, self.pos_emb.num_embeddings)
        x = F.embedding(tokens, table) + self.pos_emb(positions)[None]
        x = self.emb_drop(self.emb_norm(x))
        mask = causal_mask(tokens)
        for block in self.blocks:
            x = block(x, mask)
        return self.final_norm(x)

    def logits(self, hidden: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores over the catalogue, (N, n_items), for hidden states (N, d): dot products with the item table."""
        return F.linear(hidden, table[1 : self.n_items + 1], self.out_bias)


class SasRec(SequenceRecommender):
    """SASRec recommender with a full cross-entropy: fit on the training split, recommend from any history."""

    name: ClassVar[str] = "sasrec"
    clip_grad_norm: ClassVar[float | None] = 5.0

    config_class: ClassVar[type] = SasRecConfig
    net_class: ClassVar[type] = SasRecNet
    config: SasRecConfig
    net: SasRecNet | None

    @classmethod
    def tiny_config(cls) -> SasRecConfig:
        """A config that trains in seconds, for the contract tests."""
        return SasRecConfig(
            max_len=20, dim=32, layers=1, heads=2, batch_size=32, max_epochs=2, eval_every=1, progress=False
        )

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
        net, id_map = self._require()
        table = net.item_table()
        mask = loss_mask(inputs, targets)  # (B, T)
        hidden = net.encode(inputs, table)[mask]  # (M, d): padding positions never reach the loss
        items = targets[mask] - 1  # (M,) item indices
        if id_map.n_items > self.config.full_softmax_max_items:
            table_items = table[1 : net.n_items + 1]
            return sampled_softmax_loss(
                hidden, table_items, net.out_bias, items, self.config.sampled_negatives, generator
            )
        logits = net.logits(hidden, table)  # (M, n_items)
        loss = F.cross_entropy(logits, items)
        avoided = avoid[mask]  # (M,) token disliked after each position, 0 for none
        if self.config.dislike_weight > 0 and bool(avoided.any()):
            rows = avoided.ne(PAD)
            log_p = F.log_softmax(logits[rows], dim=-1).gather(1, (avoided[rows] - 1)[:, None]).squeeze(1)
            # -log(1 - p), computed from log p without cancellation; p never reaches 1 in float32 here.
            unlikelihood = -torch.log((-torch.expm1(log_p)).clamp(min=1e-6))
            loss = loss + self.config.dislike_weight * unlikelihood.mean()
        return loss

    def _epoch_rows(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's training rows (token arrays of at most max_len + 1 items, so at most max_len targets).

        With `all_windows`, a long history is cut into windows ending at its latest item; the older cuts end at a
        random point of the previous window each epoch, so their contexts vary and no transition is skipped (the
        latest ones may be trained twice, which is where inference looks). Otherwise one row per user: the latest
        window or, for `random_crop_prob` of long histories, a random one.
        """
        cfg = self.config
        width = cfg.max_len + 1
        rows = []
        for seq in seqs:
            if len(seq) <= width:
                rows.append(seq)
            elif cfg.all_windows:
                rows.append(seq[-width:])
                # Older windows: the first ends at a random point of the latest window (repeating 0..max_len - 1 of
                # its targets, the ones nearest inference), each next one an item after the previous one starts, so
                # together their targets cover every transition while the cuts move from epoch to epoch.
                end = len(seq) - cfg.max_len + int(rng.integers(0, cfg.max_len))
                while True:
                    start = max(0, end - width)
                    rows.append(seq[start:end])
                    if start == 0:
                        break
                    end = start + 1
            elif rng.random() < cfg.random_crop_prob:
                end = int(rng.integers(width, len(seq) + 1))
                rows.append(seq[end - width : end])
            else:
                rows.append(seq[-width:])
        return rows

    # ---------------------------------------------------------------------------------------------- inference
    def _require(self) -> tuple[SasRecNet, IdMap]:
        if self.net is None or self.id_map is None:
            raise NotFittedError("SasRec is not trained: call fit() or load() first")
        return self.net, self.id_map

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores over the catalogue, (len(histories), n_items), from histories of item indices (oldest first).

        The hidden state at the latest item scores the next one; an empty history has none, so the output bias
        (the learned popularity prior) ranks alone.
        """
        net, id_map = self._require()
        if len(histories) == 0:
            return np.zeros((0, id_map.n_items), dtype=np.float32)
        rows = [np.asarray(h, dtype=np.int64)[-self.config.max_len :] + 1 for h in histories]
        with evaluating(net):
            table = self._item_table(net)
            tokens = torch.from_numpy(pad_left(rows))
            hidden = net.encode(tokens, table)[:, -1]  # (B, d) at the latest item
            hidden = hidden * tokens[:, -1:].ne(PAD)  # empty histories: zero state
            scores = net.logits(hidden, table)
        return scores.numpy()

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: Path) -> None:
        """Write weights, config, id map and format version to one checkpoint file."""
        net, id_map = self._require()
        save_checkpoint(path, model=self.name, config=asdict(self.config), id_map=id_map, state=net.state_dict())

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the model from a checkpoint file alone."""
        ckpt = load_checkpoint(path, expected_model=cls.name)
        model = cls(SasRecConfig(**ckpt.config))
        state = ckpt.state
        net = SasRecNet(model.config, ckpt.id_map.n_items, **content_buffers(state, "content."))
        net.load_state_dict(state)
        net.eval()
        model.net, model.id_map = net, ckpt.id_map
        return model


def loss_mask(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(B, T) True where a loss applies: a real input item followed by a real target (padding never counts)."""
    return inputs.ne(PAD) & targets.ne(PAD)

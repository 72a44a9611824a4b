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
    evaluating,
    pad_left,
    sampled_softmax_loss,
    user_sequences,
)


@dataclass(frozen=True)
class Bert4RecConfig:
    """Hyperparameters (params.yaml `models.bert4rec`, with per-data-set overrides)."""

    max_len: int = 100  # tokens per sequence, including the [MASK] appended at inference
    dim: int = 64
    layers: int = 2
    heads: int = 2
    ff_mult: int = 4
    dropout: float = 0.2
    mask_prob: float = 0.2  # share of positions masked per training sequence
    mask_recency: float = 1.0  # < 1: mask recent positions more (weight mask_recency**distance_from_end); 1: uniform
    mask_max_prob: float = 0.8  # cap on any one position's masking probability under recency weighting
    last_mask_prob: float = 0.25  # share of rows that also mask their last position (matches inference)
    random_crop_prob: float = 0.5  # share of long histories cut at a random window instead of the latest items
    all_windows: bool = False  # train on every max_len window of long histories each epoch (more rows per epoch)
    min_window: int = 5  # shortest older window kept when all_windows cuts a history
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    max_epochs: int = 60
    eval_every: int = 2
    patience: int = 4  # validation checks without improvement before stopping
    refit_with_valid: bool = True  # the train stage then calls refit(train + validation) before the test
    refit_epochs: int = 3  # fine-tuning epochs of refit (0 = keep the tuned weights)
    refit_lr_scale: float = 0.3  # refit learning rate = lr * refit_lr_scale (cosine-decayed, no warm-up)
    use_content: bool = True  # genres + year (+ text embedding when available) fused into item embeddings
    use_text: bool = True
    full_softmax_max_items: int = 50_000  # larger catalogues train with a sampled softmax
    sampled_negatives: int = 4096
    seed: int = 42
    torch_threads: int = 0  # intra-op threads while training (0 = torch's default); 1 is faster on a busy CPU
    progress: bool = True

    def __post_init__(self) -> None:
        if self.max_len < 2:
            raise ValueError("max_len must be at least 2 (one item and the [MASK])")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0.0 < self.mask_prob < 1.0:
            raise ValueError("mask_prob must be in (0, 1)")
        if not 0.0 < self.mask_recency <= 1.0:
            raise ValueError("mask_recency must be in (0, 1]")

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None, dataset: str | None = None) -> Bert4RecConfig:
        """Read `models.bert4rec` from params.yaml, applying `per_dataset[dataset]` overrides."""
        return config_from_params(cls, section, dataset)


class Bert4RecNet(nn.Module):
    """The network: item (+content) and position embeddings -> transformer encoder -> scores over items."""

    def __init__(
        self,
        cfg: Bert4RecConfig,
        n_items: int,
        genres: torch.Tensor | None = None,
        year: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.n_items = n_items
        self.mask_token = n_items + 1
        d = cfg.dim
        # Tokens: 0 = padding, 1..n_items = items, n_items + 1 = [MASK].
        self.item_emb = nn.Embedding(n_items + 2, d, padding_idx=PAD)
        self.pos_emb = nn.Embedding(cfg.max_len, d)
        self.content = ContentProjection(d, genres, year, text)
        self.emb_norm = nn.LayerNorm(d)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg.heads, cfg.ff_mult * d, cfg.dropout) for _ in range(cfg.layers))
        self.final_norm = nn.LayerNorm(d)
        # BERT's output head: a dense layer + GELU + LayerNorm before the tied item table.
        self.head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.LayerNorm(d))
        self.out_bias = nn.Parameter(torch.zeros(n_items))
        nn.init.normal_(self.item_emb.weight, std=0.02)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[PAD].zero_()

    def item_table(self) -> torch.Tensor:
        """Embedding of every token, (n_items + 2, d): id embedding plus projected content for real items."""
        content = self.content.add_to(torch.zeros(self.n_items, self.item_emb.embedding_dim))
        pad_and_mask = torch.zeros(1, content.shape[1])
        return self.item_emb.weight + torch.cat([pad_and_mask, content, pad_and_mask])

    def encode(self, tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, d) for right-aligned token rows (B, T); padding never attends or is attended."""
        length = tokens.shape[1]
        # Right-aligned positions: the last token is always position max_len - 1, whatever the padded width.
        positions = torch.arange(self.pos_emb.num_embeddings - length, self.pos_emb.num_embeddings)
        x = F.embedding(tokens, table) + self.pos_emb(positions)[None]
        x = self.emb_drop(self.emb_norm(x))
        # (B, 1, 1, T) boolean: True where a key may be attended (real items and [MASK], never padding).
        keys = tokens.ne(PAD)[:, None, None, :]
        for block in self.blocks:
            x = block(x, keys)
        return self.final_norm(x)

    def logits(self, hidden: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores over the catalogue, (N, n_items), for hidden states (N, d)."""
        # F.linear reads the (n_items, d) rows as they lie in memory; `@ table.T` would copy 2.5 MB per call.
        return F.linear(self.head(hidden), table[1 : self.n_items + 1], self.out_bias)


class Bert4Rec(SequenceRecommender):
    """BERT4Rec recommender: fit on the training split, recommend from any history of movie ids."""

    name: ClassVar[str] = "bert4rec"
    clip_grad_norm: ClassVar[float | None] = 5.0

    config_class: ClassVar[type] = Bert4RecConfig
    net_class: ClassVar[type] = Bert4RecNet
    config: Bert4RecConfig
    net: Bert4RecNet | None

    @classmethod
    def tiny_config(cls) -> Bert4RecConfig:
        """A config that trains in seconds, for the contract tests."""
        return Bert4RecConfig(
            max_len=20, dim=32, layers=1, heads=2, batch_size=32, max_epochs=2, eval_every=1, progress=False
        )

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
        net, id_map = self._require()
        table = net.item_table()
        hidden = net.encode(inputs, table)[mask]  # (M, d) at masked positions only
        targets = tokens[mask] - 1  # (M,) item indices
        if id_map.n_items > self.config.full_softmax_max_items:
            items = table[1 : net.n_items + 1]
            return sampled_softmax_loss(
                net.head(hidden), items, net.out_bias, targets, self.config.sampled_negatives, generator
            )
        return F.cross_entropy(net.logits(hidden, table), targets)

    def _epoch_rows(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's training rows (token arrays of at most max_len items).

        Default: one row per user, the latest `max_len` items (or, for `random_crop_prob` of long histories, a random
        window). With `all_windows`, a long history is cut into consecutive windows ending at its latest item, the
        older cuts shifted by a random offset each epoch, so every item is trained on once per epoch.
        """
        cfg = self.config
        rows = []
        for seq in seqs:
            if len(seq) <= cfg.max_len:
                rows.append(seq)
            elif cfg.all_windows:
                rows.append(seq[-cfg.max_len :])
                end = len(seq) - cfg.max_len - int(rng.integers(0, cfg.max_len))
                while end >= cfg.min_window:
                    rows.append(seq[max(0, end - cfg.max_len) : end])
                    end -= cfg.max_len
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
    def _require(self) -> tuple[Bert4RecNet, IdMap]:
        if self.net is None or self.id_map is None:
            raise NotFittedError("Bert4Rec is not trained: call fit() or load() first")
        return self.net, self.id_map

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores over the catalogue, (len(histories), n_items), from histories of item indices (oldest first)."""
        net, id_map = self._require()
        if len(histories) == 0:
            return np.zeros((0, id_map.n_items), dtype=np.float32)
        keep = self.config.max_len - 1
        rows = []
        for history in histories:
            tokens = np.asarray(history, dtype=np.int64)[-keep:] + 1 if len(history) else np.empty(0, np.int64)
            rows.append(np.append(tokens, net.mask_token))
        with evaluating(net):
            table = self._item_table(net)
            batch = torch.from_numpy(pad_left(rows))
            hidden = net.encode(batch, table)[:, -1]  # (B, d) at the appended [MASK]
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
        model = cls(Bert4RecConfig(**ckpt.config))
        state = ckpt.state
        n_items = ckpt.id_map.n_items
        net = Bert4RecNet(model.config, n_items, **content_buffers(state, "content."))
        net.load_state_dict(state)
        net.eval()
        model.net, model.id_map = net, ckpt.id_map
        return model

"""The transformer both sequence models are built on (SASRec, BERT4Rec): one config base, one network, one recommender.

The two differ only where their subclasses say so: the attention mask (causal for SASRec, every item for BERT4Rec),
BERT4Rec's extra [MASK] token and output head, the training objective (`_plan`, `_loss`, `_epoch_rows`), the tokens
read at inference (`_inference_tokens`) and the config defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)
from pydantic import model_validator
from torch import nn

from movie_genie.data.idmap import IdMap
from movie_genie.models.base import ModelConfig, TrainingData
from movie_genie.models.checkpoint import save_checkpoint
from movie_genie.models.common import NotFittedError
from movie_genie.models.content import ContentProjection, ItemContent, content_buffers
from movie_genie.models.sequences import (
    PAD,
    TorchRecommender,
    evaluating,
    full_softmax_loss,
    length_batches,
    pad_left,
    sampled_softmax_loss,
)


class SequenceConfig(ModelConfig):
    """Hyperparameters both sequence models have (params.yaml `models.sasrec` / `models.bert4rec`)."""

    max_len: int  # positions the transformer reads
    dim: int = 64
    layers: int = 2
    heads: int = 2
    ff_mult: int = 4
    dropout: float = 0.2
    all_windows: bool  # train on every window of long histories each epoch (more rows per epoch)
    # With all_windows: at most this many windows of one history per epoch, the latest and a fresh random draw of
    # the older ones (None: every window). A few long histories hold most transitions (ml-latest-small: 10% of the
    # users, 40% of them); a cap trains every user more evenly in fewer steps.
    max_windows: int | None = None
    random_crop_prob: float = 0.5  # without all_windows: share of long histories cut at a random window
    batch_size: int
    lr: float
    weight_decay: float = 0.01
    warmup_steps: int
    max_epochs: int
    eval_every: int = 2
    patience: int  # validation checks without improvement before stopping
    refit_with_valid: bool = True  # the train stage then calls refit(train + validation) before the test
    refit_epochs: int  # fine-tuning epochs of refit (0 = keep the tuned weights)
    refit_lr_scale: float = 0.3  # refit learning rate = lr * refit_lr_scale (cosine-decayed, no warm-up)
    use_content: bool = True  # genres + year (+ text embedding when available) fused into item embeddings
    use_text: bool = True
    full_softmax_max_items: int = 50_000  # larger catalogues train with a sampled softmax
    sampled_negatives: int = 4096
    seed: int = 42
    torch_threads: int = 0  # intra-op threads while training (0 = torch's default); 1 is faster on a busy CPU
    progress: bool = True

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        if self.max_len < 1:
            raise ValueError("max_len must be at least 1")
        if self.dim % self.heads:
            raise ValueError(f"dim ({self.dim}) must be divisible by heads ({self.heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        if self.max_windows is not None and self.max_windows < 1:
            raise ValueError("max_windows must be at least 1 (or null for every window)")
        return self


class EncoderBlock(nn.Module):
    """Pre-norm transformer block (self-attention + GELU feed-forward) with a boolean attention mask: BERT4Rec passes
    a key padding mask (B, 1, 1, T), SASRec a causal one (B, 1, T, T).

    Written out instead of nn.TransformerEncoderLayer to skip dropout on the (B, heads, T, T) attention weights,
    which cost as much as the matmuls on a CPU and did not help here.
    """

    def __init__(self, dim: int, heads: int, ff_dim: int, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, ff_dim)
        self.ff2 = nn.Linear(ff_dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """x: (B, T, d); keys: broadcastable to (B, heads, T, T), True where attention is allowed. Returns (B, T, d)."""
        b, t, d = x.shape
        # (3, B, heads, T, d / heads)
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=keys)
        x = x + self.drop(self.proj(attended.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.ff2(F.gelu(self.ff1(self.norm2(x)))))


class SequenceTransformer(nn.Module):
    """The network: item (+content) and position embeddings -> transformer encoder -> scores over items.

    Tokens: 0 = padding, 1..n_items = items, then `extra_tokens` of the model's own (BERT4Rec's [MASK]). The item
    table that embeds the input also scores the output (tied weights), which regularises well on small data sets.
    """

    extra_tokens: ClassVar[int] = 0

    def __init__(
        self,
        cfg: SequenceConfig,
        n_items: int,
        genres: torch.Tensor | None = None,
        year: torch.Tensor | None = None,
        text: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.n_items = n_items
        d = cfg.dim
        # The attribute names are the checkpoints' state_dict keys: renaming one breaks loading saved models.
        self.item_emb = nn.Embedding(n_items + 1 + self.extra_tokens, d, padding_idx=PAD)
        self.pos_emb = nn.Embedding(cfg.max_len, d)
        self.content = ContentProjection(d, genres, year, text)
        self.emb_norm = nn.LayerNorm(d)
        self.emb_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(d, cfg.heads, cfg.ff_mult * d, cfg.dropout) for _ in range(cfg.layers))
        self.final_norm = nn.LayerNorm(d)
        # Built in this order (the head before the initialisations below) so torch's random draws, and with them
        # the trained weights, stay the same as when each model had a network of its own.
        self.head = self._output_head(d)
        self.out_bias = nn.Parameter(torch.zeros(n_items))  # a learned popularity prior
        nn.init.normal_(self.item_emb.weight, std=0.02)
        nn.init.normal_(self.pos_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[PAD].zero_()

    def _output_head(self, dim: int) -> nn.Module:
        """What the hidden states pass through before the item table scores them: nothing by default."""
        return nn.Identity()

    def attention_mask(self, tokens: torch.Tensor) -> torch.Tensor:
        """Boolean mask broadcastable to (B, heads, T, T), True where a position may attend another."""
        raise NotImplementedError

    def item_table(self) -> torch.Tensor:
        """Embedding of every token, (n_items + 1 + extra_tokens, d): id embedding plus projected content for items."""
        d = self.item_emb.embedding_dim
        content = self.content.add_to(torch.zeros(self.n_items, d))
        return self.item_emb.weight + torch.cat([torch.zeros(1, d), content, torch.zeros(self.extra_tokens, d)])

    def encode(self, tokens: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Hidden states (B, T, d) for right-aligned token rows (B, T), attending as `attention_mask` allows."""
        length = tokens.shape[1]
        # Right-aligned positions: the last token is always position max_len - 1, whatever the padded width.
        positions = torch.arange(self.pos_emb.num_embeddings - length, self.pos_emb.num_embeddings)
        x = F.embedding(tokens, table) + self.pos_emb(positions)[None]
        x = self.emb_drop(self.emb_norm(x))
        mask = self.attention_mask(tokens)
        for block in self.blocks:
            x = block(x, mask)
        return self.final_norm(x)

    def logits(self, hidden: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """Scores over the catalogue, (N, n_items), for hidden states (N, d): dot products with the item table."""
        # F.linear reads the (n_items, d) rows as they lie in memory; `@ table.T` would copy 2.5 MB per call.
        return F.linear(self.head(hidden), table[1 : self.n_items + 1], self.out_bias)


class SequenceRecommender(TorchRecommender):
    """What the two transformer sequence models share beyond the loop: a network built with the items' content, the
    softmax loss over the catalogue, an item table cached for inference, scoring, checkpoints, and each epoch's
    rows (`_epoch_rows`, per model) grouped into batches of similar length."""

    config_class: ClassVar[type[SequenceConfig]]
    net_class: ClassVar[type[SequenceTransformer]]
    config: SequenceConfig
    net: SequenceTransformer | None
    clip_grad_norm: ClassVar[float | None] = 5.0

    def __init__(self, config: SequenceConfig | None = None) -> None:
        super().__init__(config)
        self.net = None
        self._table: torch.Tensor | None = None  # the item table, built once after training for inference

    @classmethod
    def tiny_config(cls) -> SequenceConfig:
        """A config that trains in seconds, for the contract tests."""
        # Each model's config class gives defaults to the fields SequenceConfig leaves without one.
        return cls.config_class(  # type: ignore[call-arg]
            max_len=20, dim=32, layers=1, heads=2, batch_size=32, max_epochs=2, eval_every=1, progress=False
        )

    def _build_net(self, data: TrainingData) -> SequenceTransformer:
        """The network, with genres, year and text fused into the item embeddings when the config says so."""
        cfg, n_items = self.config, data.id_map.n_items
        if not cfg.use_content:
            return self.net_class(cfg, n_items)
        return self.net_class(cfg, n_items, *ItemContent.from_data(data, use_text=cfg.use_text).tensors())

    def _require(self) -> tuple[SequenceTransformer, IdMap]:
        if self.net is None or self.id_map is None:
            raise NotFittedError(f"{type(self).__name__} is not trained: call fit() or load() first")
        return self.net, self.id_map

    # ----------------------------------------------------------------------------------------------- training
    def _epoch_rows(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        raise NotImplementedError

    def _cap_windows(self, windows: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
        """One history's windows, latest first: the latest and at most `max_windows` - 1 older ones drawn at random
        (all of them without a cap; no draw when they fit, so an uncapped epoch draws exactly as before)."""
        cap = self.config.max_windows
        if cap is None or len(windows) <= cap:
            return windows
        older = np.sort(rng.choice(np.arange(1, len(windows)), size=cap - 1, replace=False))
        return [windows[0], *(windows[i] for i in older)]

    def _row_batches(self, seqs: list[np.ndarray], rng: np.random.Generator) -> list[list[np.ndarray]]:
        """This epoch's rows in batches of similar length (less padding), in a random order."""
        rows = self._epoch_rows(seqs, rng)
        lengths = np.array([len(r) for r in rows])
        return [[rows[i] for i in batch] for batch in length_batches(lengths, self.config.batch_size, rng)]

    def _catalogue_loss(
        self,
        inputs: torch.Tensor,
        positions: torch.Tensor,
        items: torch.Tensor,
        generator: torch.Generator,
        avoid: torch.Tensor | None = None,
        avoid_weight: float = 0.0,
    ) -> torch.Tensor:
        """Mean cross-entropy of the target `items` (M,) at the True `positions` (B, T) of `inputs` (B, T), plus
        `avoid_weight` times the "not to recommend" loss of the `avoid` items (M,), -1 for none (`full_softmax_loss`);
        above `full_softmax_max_items` against sampled negatives, without the avoid term (it needs every film)."""
        net, id_map = self._require()
        table = net.item_table()
        hidden = net.head(net.encode(inputs, table)[positions])  # (M, d): no other position reaches the loss
        table_items = table[1 : net.n_items + 1]
        if id_map.n_items > self.config.full_softmax_max_items:
            return sampled_softmax_loss(
                hidden, table_items, net.out_bias, items, self.config.sampled_negatives, generator
            )
        return full_softmax_loss(hidden, table_items, net.out_bias, items, avoid, avoid_weight)

    def _clear_cache(self) -> None:
        self._table = None

    def _content_only(self, unseen: torch.Tensor) -> None:
        """Zero the unseen items' id embeddings; their output bias becomes the seen items' median."""
        net = self._require()[0]
        net.item_emb.weight[1 : net.n_items + 1][unseen] = 0.0  # token = item index + 1
        net.out_bias[unseen] = net.out_bias[~unseen].median()

    # ---------------------------------------------------------------------------------------------- inference
    def _item_table(self, net: SequenceTransformer) -> torch.Tensor:
        if self._table is None:
            with torch.inference_mode():
                self._table = net.item_table()
        return self._table

    def _inference_tokens(self, history: np.ndarray) -> np.ndarray:
        """The tokens to read for a history of item indices (oldest first); the last position's state scores."""
        raise NotImplementedError

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores over the catalogue, (len(histories), n_items), from histories of item indices (oldest first).

        The hidden state at the last token scores the next item; a row whose last token is padding (SASRec's
        empty history) has no state, so it is zeroed and the output bias (the learned popularity prior) ranks alone.
        """
        net, id_map = self._require()
        if len(histories) == 0:
            return np.zeros((0, id_map.n_items), dtype=np.float32)
        rows = [self._inference_tokens(np.asarray(h, dtype=np.int64)) for h in histories]
        with evaluating(net):
            table = self._item_table(net)
            tokens = torch.from_numpy(pad_left(rows))
            hidden = net.encode(tokens, table)[:, -1] * tokens[:, -1:].ne(PAD)  # (B, d) at the last token
            scores = net.logits(hidden, table)
        return scores.numpy()

    # ------------------------------------------------------------------------------------------- persistence
    def save(self, path: Path) -> None:
        """Write weights, config, id map and format version to one checkpoint file."""
        net, id_map = self._require()
        save_checkpoint(path, model=self.name, config=self.config.to_dict(), id_map=id_map, state=net.state_dict())

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild the model from a checkpoint file alone."""
        model, ckpt = cls._restore(path)
        net = cls.net_class(model.config, ckpt.id_map.n_items, **content_buffers(ckpt.state, "content."))
        net.load_state_dict(ckpt.state)
        net.eval()
        model.net = net
        return model

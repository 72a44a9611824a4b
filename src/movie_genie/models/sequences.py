"""What the neural recommenders share: the fit/refit recipe, seeding, sequences, item content, batching, early stopping.

Item indices are the dense `item_idx` of the id map (0..n_items-1). Sequence models shift them by one so that
token 0 can mean padding.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)
from torch import nn
from tqdm.auto import tqdm

from movie_genie.data.idmap import IdMap
from movie_genie.models import distributed
from movie_genie.models.base import (
    Query,
    Recommendation,
    Recommender,
    RecommenderBase,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.common import recommendations_from_scores
from movie_genie.models.seeding import seed_everything, torch_threads

PAD = 0  # token id of padding in sequence models; item index i is token i + 1


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


def dislikes_after(interactions: pd.DataFrame, disliked: pd.DataFrame | None, n_users: int) -> list[np.ndarray]:
    """Per user, aligned with `user_sequences(interactions)`: the item index the user disliked right after each
    interaction (their latest interaction at or before the dislike's time), or -1 where none followed.

    A sequence model's state after position t would have recommended the film that came next; when that film was a
    dislike, it is what the state should *not* recommend. Dislikes before the first interaction have no state and
    are left out; of several dislikes after the same interaction the latest is kept.
    """
    users = interactions["user_idx"].to_numpy(dtype=np.int64)
    times = interactions["timestamp"].to_numpy(dtype=np.int64)[np.argsort(users, kind="stable")]
    bounds = np.searchsorted(np.sort(users, kind="stable"), np.arange(n_users + 1))  # user u's rows: bounds[u:u+2]
    out = [np.full(bounds[u + 1] - bounds[u], -1, dtype=np.int64) for u in range(n_users)]
    if disliked is None or disliked.empty:
        return out
    rows = disliked.sort_values(["user_idx", "timestamp"], kind="stable")
    for user, item, timestamp in rows[["user_idx", "item_idx", "timestamp"]].itertuples(index=False):
        own = times[bounds[user] : bounds[user + 1]]  # the user's interaction times, in sequence order
        position = int(np.searchsorted(own, timestamp, side="right")) - 1
        if position >= 0:
            out[int(user)][position] = int(item)
    return out


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


def unseen_items(train: pd.DataFrame, n_items: int) -> torch.Tensor:
    """(n_items,) bool: True for the items that no row of `train` mentions."""
    counts = np.bincount(train["item_idx"].to_numpy(dtype=np.int64), minlength=n_items)
    return torch.from_numpy(counts == 0)


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


@dataclass(frozen=True)
class EpochPlan:
    """What a model feeds the shared training loop for one run: its batches and the arguments of its loss."""

    batches_per_epoch: int  # before sharding across ranks
    # This epoch's batches in order, drawn from the run's numpy generator (the same draw on every rank).
    batches: Callable[[np.random.Generator], Sequence[Any]]
    # One batch -> the arguments of the model's `_loss` and how many targets that loss averages over (for the log).
    loss_inputs: Callable[[Any, torch.Generator], tuple[tuple[Any, ...], int]]


class TorchRecommender(RecommenderBase):
    """The fit/refit recipe and the one training loop of the neural models (SASRec, BERT4Rec, Two-Tower).

    A subclass builds its network (`_build_net`), plans each run's batches (`_plan`) and computes the loss of one
    batch (`_loss`); the loop here does the rest: AdamW with warm-up and cosine decay, DDP under torchrun, a
    progress bar, validation every `eval_every` epochs with early stopping, and restoring the best weights.
    Subclass configs carry seed, lr, weight_decay, max_epochs, warmup_steps, eval_every, patience, torch_threads,
    progress, refit_with_valid, refit_epochs and refit_lr_scale.
    """

    net: torch.nn.Module | None
    clip_grad_norm: ClassVar[float | None] = None  # gradient norm clipping (None = none)

    def _build_net(self, data: TrainingData) -> torch.nn.Module:
        raise NotImplementedError

    def _require(self) -> tuple[torch.nn.Module, IdMap]:
        raise NotImplementedError

    def _plan(self, data: TrainingData, run: TrainRun) -> EpochPlan:
        raise NotImplementedError

    def _loss(self, *batch: Any) -> torch.Tensor:
        raise NotImplementedError

    def _clear_cache(self) -> None:
        """Drop cached inference tensors (item table or vectors): the weights just changed."""
        raise NotImplementedError

    def _content_only(self, unseen: torch.Tensor) -> None:
        """Make the vectors of the `unseen` items (bool mask (n_items,)) come from their content alone."""
        raise NotImplementedError

    def _place_unseen(self, unseen: torch.Tensor | None) -> None:
        """Items no training row mentions (a new film, or one held out) are placed by their content alone.

        Their id embeddings never met a positive: at best noise from the initialisation, at worst (a full softmax)
        pushed away from every user state, so a new film could never be recommended. Without them, genres, year and
        text place the film among the films it resembles. A no-op when every item (or none) was seen.
        """
        if unseen is not None and bool(unseen.any()) and not bool(unseen.all()):
            with torch.no_grad():
                self._content_only(unseen)

    def _train(self, data: TrainingData, validate: Validator | None, run: TrainRun) -> TrainingLog:
        """Train for `run.epochs` epochs (fewer when early stopping fires) and keep the best validated weights."""
        cfg = self.config
        net, _ = self._require()
        start = time.perf_counter()
        rng = np.random.default_rng(run.seed)
        self._clear_cache()
        plan = self._plan(data, run)
        total_steps = distributed.steps(plan.batches_per_epoch) * run.epochs
        optimizer = torch.optim.AdamW(net.parameters(), lr=run.lr, weight_decay=cfg.weight_decay, foreach=True)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: warmup_cosine(step, run.warmup, total_steps)
        )
        step_loss = distributed.training_step(net, self._loss)
        distributed.seed_rank(run.generator, run.seed)
        stopper = EarlyStopping(cfg.patience)
        unseen = unseen_items(data.train, self._require()[1].n_items) if cfg.use_content else None
        log = TrainingLog()
        main = distributed.is_main()
        bar = tqdm(range(1, run.epochs + 1), desc=run.desc, unit="epoch", disable=not (cfg.progress and main))
        for epoch in bar:
            net.train()
            total, count = 0.0, 0
            # Under DDP each rank takes its share of every epoch's batches.
            for batch in distributed.shard(plan.batches(rng)):
                inputs, targets = plan.loss_inputs(batch, run.generator)
                loss = step_loss(*inputs)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(net.parameters(), self.clip_grad_norm)
                optimizer.step()
                schedule.step()
                total += float(loss.detach()) * targets
                count += targets
            loss_sum, count_sum = distributed.summed(total, count)  # over all ranks
            row = {"epoch": float(epoch), "loss": loss_sum / max(count_sum, 1)}
            stop = False
            if validate is not None and (epoch % cfg.eval_every == 0 or epoch == run.epochs):
                # Validate (and keep) the weights as they will be served: unseen items placed by their content.
                self._place_unseen(unseen)
                self._clear_cache()
                # Subclasses implement the whole Recommender protocol; this base only holds their shared recipe.
                # Under DDP rank 0 validates and every rank takes its score, so all ranks stop (and restore) together.
                score = float(validate(cast(Recommender, self))) if main else 0.0
                row["valid_ndcg10"] = distributed.from_main(score)
                stop = stopper.update(row["valid_ndcg10"], epoch, net)
            row["seconds"] = time.perf_counter() - start
            log.epochs.append(row)
            bar.set_postfix(
                loss=f"{row['loss']:.3f}",
                ndcg10=f"{row.get('valid_ndcg10', float('nan')):.4f}",
                best=f"{max(stopper.best_score, 0.0):.4f}",
            )
            if stop:
                break
        bar.close()
        stopper.restore(net)
        self._place_unseen(unseen)
        net.eval()
        self._clear_cache()
        log.best_valid_ndcg10 = None if stopper.best_state is None else float(stopper.best_score)
        return log

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k movie ids after the history (movie ids, oldest first); unknown ids ignored, seen ids never returned."""
        _, id_map = self._require()
        history_idx = id_map.items_to_indices(query.history)
        scores = self.score_batch([history_idx])[0]
        return recommendations_from_scores(id_map, scores, history_idx, k, query.exclude)

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        raise NotImplementedError

    def learned(self) -> dict[str, Any]:
        """The weights are the learned state; nothing else is tuned."""
        return {}

    @property
    def refits(self) -> bool:
        """Whether the train stage fine-tunes on train + validation (`refit_with_valid`)."""
        return bool(self.config.refit_with_valid)

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


def sampled_softmax_loss(
    hidden: torch.Tensor,
    items: torch.Tensor,
    bias: torch.Tensor,
    targets: torch.Tensor,
    n_negatives: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Cross-entropy of each target against `n_negatives` items shared by the batch, drawn uniformly (so no log-Q
    term is needed); a drawn target is never its own negative. For catalogues too large for a full softmax.

    hidden (M, d) output states, items (n_items, d) item table, bias (n_items,), targets (M,) item indices.
    """
    negatives = torch.randint(0, items.shape[0], (n_negatives,), generator=generator)
    pos = (hidden * items[targets]).sum(-1, keepdim=True) + bias[targets, None]  # (M, 1)
    neg = hidden @ items[negatives].T + bias[negatives]  # (M, K)
    neg = neg.masked_fill(negatives[None, :].eq(targets[:, None]), float("-inf"))
    return F.cross_entropy(torch.cat([pos, neg], dim=1), torch.zeros(len(targets), dtype=torch.long))


# Rows of logits computed at a time by `full_softmax_loss`: 64 x 9,742 films is 2.5 MB, which stays in cache
# while it is exponentiated and multiplied back (the whole (M, n_items) matrix is ~30 MB per step).
SOFTMAX_CHUNK_ROWS = 64


class _FullSoftmaxLoss(torch.autograd.Function):
    """The full-catalogue loss with its gradient computed in the forward pass, a block of rows at a time.

    Autograd would keep the (M, n_items) logits and their log-softmax, then read them again in the backward pass;
    here each block's logits become the block's gradient at once (softmax minus one-hot), are multiplied back into
    the gradients of the states, the item table and the bias, and are dropped. Same loss, same gradients; for 800
    positions x 9,742 films about 1.6x less time on one CPU core (the matrix products are the same: the passes over
    memory, and the page faults of a fresh 30 MB matrix every step, are what it saves).
    """

    @staticmethod
    def forward(
        ctx: Any,
        hidden: torch.Tensor,
        items: torch.Tensor,
        bias: torch.Tensor,
        targets: torch.Tensor,
        avoid: torch.Tensor,
        avoid_weight: float,
    ) -> torch.Tensor:
        """hidden (M, d), items (n_items, d), bias (n_items,), targets (M,), avoid (M,) item or -1 -> scalar."""
        n_rows = hidden.shape[0]
        avoided = avoid.ge(0)
        n_avoided = int(avoided.sum())
        grads = any(ctx.needs_input_grad[:3])  # False under no_grad: the value alone
        grad_hidden, grad_items, grad_bias = torch.zeros_like(hidden), torch.zeros_like(items), torch.zeros_like(bias)
        cross_entropy = hidden.new_zeros(())
        unlikelihood = hidden.new_zeros(())
        for start in range(0, n_rows, SOFTMAX_CHUNK_ROWS):
            rows = slice(start, start + SOFTMAX_CHUNK_ROWS)
            h, target = hidden[rows], targets[rows]
            block = torch.arange(h.shape[0])
            logits = torch.addmm(bias, h, items.T)  # (c, n_items)
            lse = torch.logsumexp(logits, dim=1)  # (c,)
            cross_entropy += (lse - logits[block, target]).sum()
            has, item = avoided[rows], avoid[rows].clamp(min=0)
            log_p_avoid = logits[block, item] - lse  # (c,), read before the logits become probabilities
            if n_avoided and avoid_weight > 0:
                # -log(1 - p), from log p without cancellation; clamped like the loss, so a saturated p has no gradient.
                not_p = (-torch.expm1(log_p_avoid)).clamp(min=1e-6)
                unlikelihood += (-torch.log(not_p) * has).sum()
            if not grads:
                continue
            grad = logits.sub_(lse[:, None]).exp_()  # (c, n_items): the softmax, in place
            # d(-log p_t)/dz = p - onehot(t); d(-log(1 - p_a))/dz = p_a / (1 - p_a) * (onehot(a) - p).
            weight = torch.full_like(lse, 1.0 / n_rows)
            if n_avoided and avoid_weight > 0:
                p_avoid = log_p_avoid.exp()
                ratio = torch.where((1 - p_avoid) > 1e-6, p_avoid / (1 - p_avoid).clamp(min=1e-6), 0.0)
                avoid_scale = avoid_weight / n_avoided * ratio * has  # (c,)
                weight -= avoid_scale
                grad *= weight[:, None]
                grad[block, item] += avoid_scale
            else:
                grad *= weight[:, None]
            grad[block, target] -= 1.0 / n_rows
            grad_hidden[rows] = grad @ items
            grad_items.addmm_(grad.T, h)
            grad_bias += grad.sum(dim=0)
        ctx.save_for_backward(grad_hidden, grad_items, grad_bias)
        loss = cross_entropy / n_rows
        if n_avoided and avoid_weight > 0:
            loss = loss + avoid_weight * unlikelihood / n_avoided
        return loss

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """The gradients the forward pass computed, scaled by the gradient of the loss (1 for a loss on its own)."""
        grad_hidden, grad_items, grad_bias = ctx.saved_tensors
        return grad_hidden * grad_output, grad_items * grad_output, grad_bias * grad_output, None, None, None


def full_softmax_loss(
    hidden: torch.Tensor,
    items: torch.Tensor,
    bias: torch.Tensor,
    targets: torch.Tensor,
    avoid: torch.Tensor | None = None,
    avoid_weight: float = 0.0,
) -> torch.Tensor:
    """Mean cross-entropy of each target against the whole catalogue, plus `avoid_weight` times the mean "not to
    recommend" loss -log(1 - p) of the `avoid` items over the rows that have one.

    hidden (M, d) output states, items (n_items, d) item table, bias (n_items,), targets (M,) item indices, avoid
    (M,) item indices or -1 for none. Equal to `F.cross_entropy(F.linear(hidden, items, bias), targets)` (+ the
    avoid term) in value and gradient, without holding the (M, n_items) logits (`_FullSoftmaxLoss`).
    """
    if avoid is None:
        avoid = torch.full_like(targets, -1)
    loss: torch.Tensor = _FullSoftmaxLoss.apply(hidden, items, bias, targets, avoid, avoid_weight)
    return loss

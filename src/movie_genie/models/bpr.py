"""Matrix factorisation trained with BPR (Rendle et al., UAI 2009): the course's chapter 0 model, written from scratch.

Each film has two vectors, `item_in` (what having watched it says about a person) and `item_out` (what it offers),
and a bias. A person is the mean of the `item_in` vectors of their history, so any history has a vector, a person
the model never saw included (a user table would have no row for them; NSVD/FISM-style). The score of film i is
user . item_out[i] + bias[i], and training pushes every watched film above a random one (the BPR loss). A teaching
baseline: reported beside the others, never a home-page row nor a fallback.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the PyTorch convention)

from movie_genie.data.idmap import IdMap
from movie_genie.models.base import (
    ModelConfig,
    Query,
    Recommendation,
    RecommenderBase,
    TrainingData,
    TrainingLog,
    Validator,
)
from movie_genie.models.catalogue import BPR
from movie_genie.models.checkpoint import save_checkpoint
from movie_genie.models.common import NotFittedError, histories_matrix, interaction_matrix, recommendations_from_scores
from movie_genie.models.seeding import seed_everything, torch_threads


class BprConfig(ModelConfig):
    """Hyperparameters of BPR-MF (params.yaml `models.bpr`)."""

    dim: int = 64  # length of each film vector
    epochs: int = 30  # passes over the training interactions (one random negative per interaction each time)
    batch_size: int = 4096
    lr: float = 0.01  # Adam's step size
    l2: float = 0.0001  # weight of the squared norms of the vectors in a batch (keeps rare films' vectors small)
    eval_every: int = 5  # epochs between validation checks; the best weights are kept
    refit_with_valid: bool = True  # train again on train + validation, for the best number of epochs
    seed: int = 42
    torch_threads: int = 1


class BprNet(torch.nn.Module):
    """The two film tables and the bias; a user is the mean of their films' `item_in` rows."""

    def __init__(self, n_items: int, dim: int) -> None:
        super().__init__()
        self.item_in = torch.nn.Parameter(torch.randn(n_items, dim) * 0.01)  # (I, d)
        self.item_out = torch.nn.Parameter(torch.randn(n_items, dim) * 0.01)  # (I, d)
        self.bias = torch.nn.Parameter(torch.zeros(n_items))  # (I,)

    def users(self, histories: torch.Tensor) -> torch.Tensor:
        """(B, d) user vectors from a (B, I) sparse or dense matrix whose rows average each history (rows sum to 1)."""
        return histories @ self.item_in


def bpr_loss(
    net: BprNet, users: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor, l2: float
) -> torch.Tensor:
    """-log sigmoid(s_ui - s_uj), averaged over the batch, plus l2 times the squared norms: users (B, d), films (B,)."""
    pos_out, neg_out = net.item_out[positives], net.item_out[negatives]  # (B, d) each
    s_pos = (users * pos_out).sum(1) + net.bias[positives]  # (B,)
    s_neg = (users * neg_out).sum(1) + net.bias[negatives]  # (B,)
    penalty = users.pow(2).sum(1) + pos_out.pow(2).sum(1) + neg_out.pow(2).sum(1)  # (B,)
    return -F.logsigmoid(s_pos - s_neg).mean() + l2 * penalty.mean()


class Bpr(RecommenderBase):
    """BPR-MF: a film scores by the dot product of its vector with the mean vector of the history, plus its bias."""

    name: ClassVar[str] = BPR.name
    config_class = BprConfig
    config: BprConfig
    # What fit learns (unset until fit or load), declared as EASE and popularity declare theirs:
    net: BprNet | None = None
    best_epoch: int = 0  # the validation check that kept the weights (refit trains this many epochs)

    @classmethod
    def tiny_config(cls) -> BprConfig:
        """A config that trains in about a second on the contract tests' slice."""
        return BprConfig(dim=16, epochs=4, eval_every=2)

    def _fitted(self) -> tuple[IdMap, BprNet]:
        if self.id_map is None or self.net is None:
            raise NotFittedError("bpr model is not trained: call fit() or load a checkpoint")
        return self.id_map, self.net

    def fit(self, data: TrainingData, validate: Validator | None = None) -> TrainingLog:
        """Train `epochs` epochs, checking validation NDCG@10 every `eval_every` and keeping the best weights."""
        return self._train(data, self.config.epochs, validate)

    @property
    def refits(self) -> bool:
        """Whether the train stage refits on train + validation (`refit_with_valid`)."""
        return self.config.refit_with_valid

    def refit(self, data: TrainingData) -> TrainingLog:
        """Train afresh on `data` (train + validation) for the number of epochs validation chose."""
        return self._train(data, self.best_epoch or self.config.epochs, None)

    def _train(self, data: TrainingData, epochs: int, validate: Validator | None) -> TrainingLog:
        start, cfg, log = time.perf_counter(), self.config, TrainingLog()
        generator = seed_everything(cfg.seed)
        n_items = data.id_map.n_items
        self.id_map, self.net = data.id_map, BprNet(n_items, cfg.dim)
        matrix = interaction_matrix(data.train, data.id_map.n_users, n_items).tocoo()  # (U, I) binary
        users, items = torch.from_numpy(matrix.row).long(), torch.from_numpy(matrix.col).long()  # (N,) each
        counts = torch.from_numpy(np.asarray(matrix.sum(axis=1)).ravel()).float()  # (U,) films per user
        # Row u of `means` averages the films of u's history except the positive itself (it must not predict itself).
        rows = torch.sparse_coo_tensor(
            torch.stack([users, items]), torch.ones(len(users)), (len(counts), n_items), check_invariants=True
        )
        optimiser = torch.optim.Adam(self.net.parameters(), lr=cfg.lr)
        best, best_state = -1.0, None
        with torch_threads(cfg.torch_threads):
            for epoch in range(1, epochs + 1):
                order, total = torch.randperm(len(users), generator=generator), 0.0
                for batch in order.split(cfg.batch_size):
                    u, i = users[batch], items[batch]  # (B,) each
                    j = torch.randint(0, n_items, (len(batch),), generator=generator)  # (B,) random negatives
                    sums = torch.sparse.mm(rows, self.net.item_in)[u] - self.net.item_in[i]  # (B, d)
                    loss = bpr_loss(self.net, sums / (counts[u] - 1).clamp(min=1)[:, None], i, j, cfg.l2)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total += float(loss.detach()) * len(batch)
                entry = {"epoch": float(epoch), "loss": total / len(users)}
                if validate is not None and (epoch % cfg.eval_every == 0 or epoch == epochs):
                    entry["valid_ndcg10"] = score = float(validate(self))
                    if score > best:
                        best, self.best_epoch = score, epoch
                        best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
                log.epochs.append(entry)
        if best_state is not None:
            self.net.load_state_dict(best_state)
            log.best_valid_ndcg10 = best
        else:
            self.best_epoch = epochs
        log.seconds = time.perf_counter() - start
        return log

    def learned(self) -> dict[str, Any]:
        """The epoch whose weights validation kept (the refit trains that many)."""
        return {"best_epoch": self.best_epoch}

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """(len(histories), n_items) scores: the mean history vector times every film vector, plus the biases."""
        id_map, net = self._fitted()
        rows = histories_matrix(histories, id_map.n_items).astype(np.float32)  # (B, I) binary
        lengths = np.maximum(np.asarray(rows.sum(axis=1)).ravel(), 1.0)  # (B,) an empty history: a zero vector
        means = torch.from_numpy((rows.multiply(1.0 / lengths[:, None])).toarray().astype(np.float32))  # (B, I)
        with torch.inference_mode():
            return (net.users(means) @ net.item_out.T + net.bias).numpy()

    def recommend(self, query: Query, k: int = 10) -> list[Recommendation]:
        """Top-k unseen films for any history of movie ids (unknown ids ignored; empty: the biases alone)."""
        id_map, _ = self._fitted()
        history = id_map.items_to_indices(query.history)
        return recommendations_from_scores(id_map, self.score_batch([history])[0], history, k, query.exclude)

    def save(self, path: Path) -> None:
        """The three tables, config, best epoch and id map in one checkpoint."""
        id_map, net = self._fitted()
        state = {name: value.detach() for name, value in net.state_dict().items()}
        extra = {"best_epoch": self.best_epoch}
        save_checkpoint(path, model=self.name, config=self.config.to_dict(), id_map=id_map, state=state, extra=extra)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Rebuild from the checkpoint file alone."""
        model, ckpt = cls._restore(path)
        assert model.id_map is not None
        model.net = BprNet(model.id_map.n_items, model.config.dim)
        model.net.load_state_dict({k: torch.from_numpy(ckpt.array(k)) for k in ("item_in", "item_out", "bias")})
        model.best_epoch = int(ckpt.extra.get("best_epoch", 0))
        return model

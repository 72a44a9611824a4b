"""Run by test_distributed.py under torchrun: two DDP ranks train BERT4Rec and Two-Tower on a real ml-100k slice.

    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/models/ddp_worker.py OUT DATASETS

Each rank writes OUT/<model>.rank<r>.pt (its final weights, training log and share of a batch list); rank 0 also
saves the model's checkpoint OUT/<model>.pt, as the train stage does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.split import leave_one_out
from movie_genie.evaluation.metrics import make_validator
from movie_genie.models import distributed
from movie_genie.models.base import TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.common import with_validation_in_train
from movie_genie.models.two_tower import TwoTower
from movie_genie.training.loop import training_data_from_frames

USERS = 300  # the first users of ml-100k, as in tests/models/conftest.py


def ml100k_slice(datasets: Path) -> TrainingData:
    """The first USERS users of ml-100k, split leave-one-out by time."""
    with Archive(datasets / "ml-100k") as archive:
        tables = read_movielens(archive)
    users = sorted(tables.ratings["user_id"].unique())[:USERS]
    ratings = tables.ratings[tables.ratings["user_id"].isin(users)].reset_index(drop=True)
    split = leave_one_out(ratings, tables.movies["movie_id"], min_interactions=3)
    return training_data_from_frames(split.id_map, split.train, split.valid, tables.movies, tables.users)


def main(out: Path, datasets: Path) -> None:
    """Fit (with early stopping on validation) and refit each model as one DDP job; dump every rank's result."""
    with distributed.process_group():
        data = ml100k_slice(datasets)
        validate = make_validator(data)
        for cls in (Bert4Rec, TwoTower):
            model = cls(cls.tiny_config().changed(torch_threads=1))
            log = model.fit(data, validate)
            model.refit(with_validation_in_train(data))
            assert model.net is not None
            dump = {
                "world_size": distributed.world_size(),
                "shard": distributed.shard(list(range(5))),
                "epochs": [{k: v for k, v in row.items() if k != "seconds"} for row in log.epochs],
                "state": model.net.state_dict(),
            }
            torch.save(dump, out / f"{cls.name}.rank{distributed.rank()}.pt")
            if distributed.is_main():
                model.save(out / f"{cls.name}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))

"""Multi-process training with PyTorch DDP under `torchrun`: joining the process group, sharding, agreeing.

    torchrun --standalone --nproc-per-node 2 -m movie_genie.cli train --model bert4rec --model two_tower

torchrun starts one copy of the command per process and gives each RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT.
Every rank reads the same data and seeds the same generators, so all ranks draw the same batch order each epoch;
each rank trains on its own share of those batches (`shard`) and DistributedDataParallel averages the gradients in
backward, so the replicas take identical optimizer steps and stay identical. Validation runs on rank 0 alone and its
score is broadcast (`from_main`), so every rank makes the same early-stopping decision and none waits forever on
another. Only rank 0 writes files (`is_main`). Without torchrun (no WORLD_SIZE, or 1) nothing here does anything.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from movie_genie.errors import MovieGenieError

T = TypeVar("T")

LAUNCH = "torchrun --standalone --nproc-per-node N -m movie_genie.cli train ..."


class DistributedError(MovieGenieError):
    """The process group cannot be joined: torchrun's environment is wrong or the other ranks never came."""


def active() -> bool:
    """True inside a process group of two or more ranks."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if active() else 0


def world_size() -> int:
    """How many processes train together (1 without a process group)."""
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """True on the rank that validates, reports and writes files (rank 0, or the only process)."""
    return rank() == 0


def _env_int(name: str) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise DistributedError(f"{name}={value!r} is not an integer; launch with `{LAUNCH}`") from None


def init_from_env(timeout: timedelta | None = None) -> bool:
    """Join torchrun's process group when WORLD_SIZE > 1; False for one process.

    The backend is gloo: the models of this version train on the CPU (nccl would need CUDA tensors). `timeout`
    bounds the wait for the other ranks (torch's default when None).
    """
    if "WORLD_SIZE" not in os.environ:
        return False
    world = _env_int("WORLD_SIZE")
    me = _env_int("RANK") if "RANK" in os.environ else 0
    if world < 1 or not 0 <= me < world:
        raise DistributedError(f"bad torchrun environment: RANK={me}, WORLD_SIZE={world} (need 0 <= RANK < WORLD_SIZE)")
    if world == 1 or dist.is_initialized():
        return False
    if not dist.is_available():
        raise DistributedError("this torch build has no torch.distributed: train with one process")
    try:
        dist.init_process_group("gloo", init_method="env://", rank=me, world_size=world, timeout=timeout)
    except (RuntimeError, ValueError) as exc:  # DistStoreError/DistNetworkError are RuntimeErrors
        raise DistributedError(
            f"could not join the gloo process group as rank {me} of {world}: {exc}. "
            f"Launch every rank together with `{LAUNCH}`"
        ) from exc
    return True


@contextmanager
def process_group(timeout: timedelta | None = None) -> Iterator[None]:
    """Run the block inside torchrun's process group (a no-op for one process); leave the group after."""
    joined = init_from_env(timeout=timeout)
    try:
        yield
    finally:
        if joined:
            dist.destroy_process_group()


class Objective(nn.Module):
    """A network's training loss as a module, forward(*batch) -> loss, so that DDP can wrap it.

    DDP averages gradients only for what its own forward() computed; the training loops call the network's parts
    (item table, encoder, towers) directly, so each model hands its loss function here instead.
    """

    def __init__(self, net: nn.Module, loss: Callable[..., torch.Tensor]) -> None:
        super().__init__()
        self.net = net  # registered as a submodule, so DDP finds (and syncs) its parameters
        self.loss = loss

    def forward(self, *batch: Any) -> torch.Tensor:
        """The loss of one batch."""
        return self.loss(*batch)


def training_step(net: nn.Module, loss: Callable[..., torch.Tensor]) -> nn.Module:
    """`loss` as a module: wrapped in DistributedDataParallel inside a process group, plain for one process.

    Buffers (content features) never change, so DDP does not re-broadcast them before every step.
    """
    objective = Objective(net, loss)
    return DistributedDataParallel(objective, forward_sync_buffers=False) if active() else objective


def steps(n_batches: int) -> int:
    """Optimizer steps each rank takes for an epoch of `n_batches` batches."""
    return math.ceil(n_batches / world_size())


def shard(batches: Sequence[T]) -> list[T]:
    """This rank's share of the epoch's batches (identical on every rank): every world_size-th one.

    The list wraps around so every rank takes the same number of steps; a rank with fewer would leave the others
    waiting in their gradient all-reduce forever.
    """
    world = world_size()
    if world == 1 or not batches:
        return list(batches)
    padded = [batches[i % len(batches)] for i in range(steps(len(batches)) * world)]
    return padded[rank() :: world]


def seed_rank(generator: torch.Generator, seed: int) -> None:
    """Give each rank its own masking/dropout draws (rank r: seed + r); a single process keeps its stream as is."""
    if active():
        generator.manual_seed(seed + rank())
        torch.manual_seed(seed + rank())


def from_main(value: float) -> float:
    """Rank 0's value on every rank (the value itself for one process)."""
    if not active():
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())


def summed(*values: float) -> list[float]:
    """Each value summed over all ranks (unchanged for one process), e.g. loss totals for the epoch log."""
    if not active():
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor)
    return tensor.tolist()

"""Multi-process training (PyTorch DDP, gloo on the CPU) under torchrun: replicas agree, checkpoints work, clear errors.

Two real processes train BERT4Rec and Two-Tower on an ml-100k slice (tests/models/ddp_worker.py); the documented
`torchrun ... -m movie_genie.cli train` command runs on a small real pipeline folder.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.distributed as dist
import yaml
from click.testing import CliRunner

from movie_genie.cli import cli
from movie_genie.models.base import Query, TrainingData
from movie_genie.models.bert4rec import Bert4Rec
from movie_genie.models.distributed import DistributedError, init_from_env
from movie_genie.models.two_tower import TwoTower

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("ddp_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
MODELS = [Bert4Rec, TwoTower]
TORCHRUN_ENV = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "TORCHELASTIC_USE_AGENT_STORE")


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env["OMP_NUM_THREADS"] = "1"  # one intra-op thread per rank on a 2-core machine
    return subprocess.run([*TORCHRUN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def ddp_out(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models fit (early stopping) and refit by two DDP ranks: each rank's dump and rank 0's checkpoints."""
    out = tmp_path_factory.mktemp("ddp")
    result = _torchrun([str(WORKER), str(out), str(shared_datasets)], ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out


def _dumps(out: Path, name: str) -> list[dict[str, Any]]:
    return [torch.load(out / f"{name}.rank{rank}.pt", weights_only=True) for rank in (0, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.name)
def test_replicas_hold_identical_weights(ddp_out: Path, cls: type[Bert4Rec] | type[TwoTower]) -> None:
    first, second = _dumps(ddp_out, cls.name)
    assert first["world_size"] == second["world_size"] == 2
    # The ranks trained on different halves of each epoch's batches, the same number each (the list wraps around).
    assert len(first["shard"]) == len(second["shard"]) == 3
    assert set(first["shard"]) | set(second["shard"]) == set(range(5)) and first["shard"] != second["shard"]
    # Validation scores are rank 0's on both, losses summed over both: one log, and training made progress.
    assert first["epochs"] == second["epochs"]
    assert first["epochs"][-1]["loss"] < first["epochs"][0]["loss"]
    assert first["state"].keys() == second["state"].keys()
    for key, value in first["state"].items():
        assert torch.equal(value, second["state"][key]), f"{cls.name} replicas differ in {key}"


@pytest.mark.slow
@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.name)
def test_checkpoint_loads_and_recommends_like_a_single_process_one(
    ddp_out: Path, cls: type[Bert4Rec] | type[TwoTower], ml100k_slice: TrainingData, tmp_path: Path
) -> None:
    model = cls.load(ddp_out / f"{cls.name}.pt")
    assert model.net is not None
    replica = _dumps(ddp_out, cls.name)[0]["state"]
    state = model.net.state_dict()
    assert all(torch.equal(state[key], value) for key, value in replica.items())  # rank 0 saved what the ranks hold

    single = cls(cls.tiny_config().changed(torch_threads=1))  # the worker's config, in this one process
    single.fit(ml100k_slice)
    single.save(tmp_path / f"{cls.name}.pt")
    reference = cls.load(tmp_path / f"{cls.name}.pt")
    assert reference.net is not None and reference.config == model.config
    assert {k: v.shape for k, v in reference.net.state_dict().items()} == {k: v.shape for k, v in state.items()}

    id_map = ml100k_slice.id_map
    catalogue = set(id_map.item_ids)
    train = ml100k_slice.train
    for user_idx in (0, 7, 42):
        history = [id_map.item_ids[i] for i in train.loc[train["user_idx"] == user_idx, "item_idx"]]
        recs = model.recommend(Query(history), k=10)
        ids = [r.movie_id for r in recs]
        assert len(ids) == len(set(ids)) == 10
        assert set(ids) <= catalogue and not set(ids) & set(history)
        assert all(a.score >= b.score for a, b in itertools.pairwise(recs))
        assert [r.movie_id for r in cls.load(ddp_out / f"{cls.name}.pt").recommend(Query(history), k=10)] == ids
        assert len(reference.recommend(Query(history), k=10)) == 10
    scores = model.score_batch([[0, 5, 9]])
    assert scores.shape == (1, id_map.n_items) and np.isfinite(scores).all()


@pytest.mark.slow
def test_torchrun_train_command_writes_once_from_rank_zero(shared_datasets: Path, tmp_path: Path) -> None:
    """The documented command: `torchrun ... -m movie_genie.cli train --model two_tower` on a real split."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(tmp_path / "data"), "artifacts_dir": str(tmp_path / "artifacts")}
    raw["dataset"] = {**raw["dataset"], "name": "ml-100k", "source": None, "metadata_csv": None}
    tiny = {**TwoTower.tiny_config().to_dict(), "max_epochs": 1, "refit_epochs": 1, "torch_threads": 1}
    raw["models"] = {**raw["models"], "two_tower": tiny}
    raw["evaluation"] = {**raw["evaluation"], "validation_users": 100, "bootstrap_resamples": 10}
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    for stage in (["data", "--source", str(shared_datasets / "ml-100k")], ["enrich"], ["split"]):
        result = CliRunner().invoke(cli, ["--params", str(params), *stage], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    result = _torchrun(["-m", "movie_genie.cli", "--params", str(params), "train", "--model", "two_tower"], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.count("train: two_tower: valid NDCG@10") == 1  # rank 0 reports, rank 1 stays quiet
    assert result.stdout.count("train: 1 model(s)") == 1
    models_dir = tmp_path / "artifacts" / "models"
    assert (models_dir / "training" / "two_tower.json").is_file()
    assert len(TwoTower.load(models_dir / "two_tower.pt").recommend(Query([1, 50, 181]), k=5)) == 5


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No torchrun variables from the outside; tests set their own."""
    for name in TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize(("world", "rank"), [("0", "0"), ("2", "2"), ("2", "-1"), ("two", "0")])
def test_a_bad_world_size_or_rank_is_a_clear_error(clean_env: pytest.MonkeyPatch, world: str, rank: str) -> None:
    clean_env.setenv("WORLD_SIZE", world)
    clean_env.setenv("RANK", rank)
    with pytest.raises(DistributedError, match="WORLD_SIZE"):
        init_from_env()
    assert not dist.is_initialized()


def test_one_process_needs_no_process_group(clean_env: pytest.MonkeyPatch) -> None:
    assert init_from_env() is False
    clean_env.setenv("WORLD_SIZE", "1")
    clean_env.setenv("RANK", "0")
    assert init_from_env() is False
    assert not dist.is_initialized()


def test_a_rank_whose_peers_never_come_gets_a_clear_gloo_error(clean_env: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a free port: nobody else joins there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}.items():
        clean_env.setenv(name, value)
    with pytest.raises(DistributedError, match=r"could not join the gloo process group as rank 0 of 2.*torchrun"):
        init_from_env(timeout=timedelta(seconds=2))
    assert not dist.is_initialized()


def test_cli_prints_a_bad_torchrun_environment_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in TORCHRUN_ENV}
    env.update(WORLD_SIZE="2", RANK="2")
    movie_genie = Path(sys.executable).with_name("movie-genie")
    result = subprocess.run(
        [str(movie_genie), "train"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2
    assert "error: bad torchrun environment: RANK=2, WORLD_SIZE=2" in result.stderr
    assert "Traceback" not in result.stderr

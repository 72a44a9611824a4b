"""The self-describing checkpoint format every model uses (docs/models/index.md).

A checkpoint is one `torch.save`d dict:

    {"format": "movie-genie-checkpoint", "version": 1, "model": "<name>", "config": {...plain values...},
     "id_map": IdMap.to_dict(), "state": {"<key>": torch.Tensor, ...}, "extra": {...plain values...}}

`config` and `extra` hold only JSON-like values (str, int, float, bool, None, lists, dicts, bytes) and `state`
only tensors, so files load with `torch.load(weights_only=True)`: reading a checkpoint never runs pickled code.
Numpy arrays passed in `state` are converted to tensors on save; `Checkpoint.array(key)` gives them back.
Writes are atomic (temp file, then rename), so a crash never leaves a half-written checkpoint, and record the file's
SHA-256 beside it (`<name>.pt.sha256`, files.py); loading checks it first, so a damaged file (flipped bytes, a
truncated copy) is refused instead of serving wrong scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from movie_genie.data.idmap import IdMap
from movie_genie.errors import ArtifactMissingError, MovieGenieError
from movie_genie.files import DamagedFileError, atomic_path, verify_digest

FORMAT = "movie-genie-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(MovieGenieError):
    """A checkpoint file exists but cannot be used (corrupt, another model's, or a newer format version)."""


class DamagedCheckpointError(CheckpointError):
    """A checkpoint's bytes differ from the digest recorded when it was saved (flipped bytes, truncated)."""


@dataclass
class Checkpoint:
    """The decoded contents of a checkpoint file."""

    model: str
    config: dict[str, Any]
    id_map: IdMap
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    def array(self, key: str) -> np.ndarray:
        """A state tensor as a numpy array (a copy-free view for CPU tensors)."""
        if key not in self.state:
            raise CheckpointError(f"{self.model} checkpoint has no '{key}' tensor; re-run `movie-genie train`")
        return self.state[key].detach().cpu().numpy()


def _to_tensor(value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"checkpoint state values must be tensors or numpy arrays, got {type(value).__name__}")


def save_checkpoint(
    path: Path,
    *,
    model: str,
    config: Mapping[str, Any],
    id_map: IdMap,
    state: Mapping[str, torch.Tensor | np.ndarray] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write a checkpoint atomically; `config`/`extra` must be plain values, `state` tensors or arrays."""
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model,
        "config": dict(config),
        "id_map": id_map.to_dict(),
        "state": {k: _to_tensor(v) for k, v in (state or {}).items()},
        "extra": dict(extra or {}),
    }
    with atomic_path(path, digest=True) as tmp, tmp.open("wb") as out:
        # A file object, not the path: torch names the archive inside after a path (here a random temporary name),
        # which made two saves of one model differ and DVC see a stage's unchanged output as modified.
        torch.save(payload, out)


def load_checkpoint(path: Path, expected_model: str | None = None) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`; check its format, version and (optionally) model name."""
    path = Path(path)
    if not path.is_file():
        raise ArtifactMissingError(f"checkpoint {path} not found: run `movie-genie train` first")
    try:
        verify_digest(path)
    except DamagedFileError as exc:
        raise DamagedCheckpointError(f"{exc}; re-run `movie-genie train`") from exc
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt/truncated files
        raise CheckpointError(f"{path} is not a readable checkpoint ({exc}); re-run `movie-genie train`") from exc
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a Movie Genie checkpoint; re-run `movie-genie train`")
    version = int(raw.get("version", -1))
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format {version}, newer than this code's {FORMAT_VERSION}: upgrade movie-genie"
        )
    name = str(raw["model"])
    if expected_model is not None and name != expected_model:
        raise CheckpointError(f"{path} holds a '{name}' model, not '{expected_model}'")
    return Checkpoint(
        model=name,
        config=dict(raw["config"]),
        id_map=IdMap.from_dict(raw["id_map"]),
        state=dict(raw["state"]),
        extra=dict(raw.get("extra", {})),
        version=version,
    )

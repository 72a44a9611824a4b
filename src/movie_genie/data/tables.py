"""Parquet IO for the canonical tables: typed by `schema.FIELD_TYPES`, written atomically as a whole folder."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movie_genie.data.schema import DATASET_INFO_FILE, FIELD_TYPES, LIST_COLUMNS, TABLES
from movie_genie.errors import ArtifactMissingError, DataError
from movie_genie.files import atomic_dir

# Integer columns that may be missing for some rows; read back as pandas' nullable Int64 instead of float64.
NULLABLE_INT_COLUMNS = frozenset({"year", "runtime", "tmdb_id", "age"})


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Convert a table to Arrow with the canonical type of every known column (unknown columns are inferred)."""
    arrays = [pa.array(frame[c], type=FIELD_TYPES.get(c), from_pandas=True) for c in frame.columns]
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write one table with canonical column types."""
    pq.write_table(to_arrow(frame), path)


def read_parquet(path: Path) -> pd.DataFrame:
    """Read one table: nullable ints as Int64, list columns as Python lists of str."""
    if not path.exists():
        raise ArtifactMissingError(f"{path} not found: run the pipeline stage that writes it (see dvc.yaml)")
    frame = pq.read_table(path).to_pandas()
    for column in frame.columns:
        if column in NULLABLE_INT_COLUMNS:
            frame[column] = frame[column].astype("Int64")
        elif column in LIST_COLUMNS:
            frame[column] = [list(v) if v is not None else [] for v in frame[column]]
    return frame


def write_tables(target: Path, tables: Mapping[str, pd.DataFrame], info: Mapping[str, Any]) -> None:
    """Write movies/ratings/users/tags.parquet and dataset.json into `target`, atomically."""
    missing = [name for name in TABLES if name not in tables]
    if missing:
        raise ValueError(f"write_tables needs every table of {TABLES}; missing {missing}")
    with atomic_dir(target) as tmp:
        for name in TABLES:
            write_parquet(tables[name], tmp / f"{name}.parquet")
        (tmp / DATASET_INFO_FILE).write_text(json.dumps(dict(info), indent=2) + "\n", encoding="utf-8")


def read_tables(source: Path) -> dict[str, pd.DataFrame]:
    """Read the four canonical tables of a folder written by `write_tables`."""
    return {name: read_parquet(source / f"{name}.parquet") for name in TABLES}


def read_info(source: Path) -> dict[str, Any]:
    """Read dataset.json of a canonical/processed folder."""
    path = source / DATASET_INFO_FILE
    if not path.exists():
        raise ArtifactMissingError(f"{path} not found: run `movie-genie data` first")
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON ({exc}); run `movie-genie data` again") from exc
    return info

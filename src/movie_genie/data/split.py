"""Leave-one-out split by time (docs/pipeline.md, "split"): per user, the last interaction is test, the one before is
validation, the rest is training. Users with too few interactions stay in training only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movie_genie.config import Layout, Params
from movie_genie.data.idmap import IdMap
from movie_genie.data.movielens import sort_ratings
from movie_genie.data.schema import ID_MAP_FILE, RATING_COLUMNS, SPLIT_COLUMNS
from movie_genie.data.tables import read_info, read_parquet
from movie_genie.errors import ArtifactMissingError, DataError


@dataclass(frozen=True)
class Split:
    """train/valid/test frames (SPLIT_COLUMNS) and the id map they are indexed with."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    id_map: IdMap
    duplicates_dropped: int

    def frames(self) -> dict[str, pd.DataFrame]:
        """Split name -> frame."""
        return {"train": self.train, "valid": self.valid, "test": self.test}


def leave_one_out(ratings: pd.DataFrame, movie_ids: pd.Series | np.ndarray, min_interactions: int) -> Split:
    """Split ratings by time per user; `movie_ids` is the whole catalogue (the id map's items).

    Ties in time keep file order, so "last" is the later row in the file. A user who rated the same movie twice
    keeps only the later rating: otherwise a held-out movie could also sit in that user's training rows.
    """
    if min_interactions < 3:
        raise DataError(
            f"split.min_interactions must be at least 3 (one train, one valid, one test); got {min_interactions}"
        )
    ordered = sort_ratings(ratings[list(RATING_COLUMNS)])
    deduped = ordered.loc[~ordered.duplicated(["user_id", "movie_id"], keep="last")].reset_index(drop=True)
    id_map = IdMap.build(deduped["user_id"].unique(), movie_ids)
    unknown = np.setdiff1d(deduped["movie_id"].unique(), np.asarray(id_map.item_ids))
    if len(unknown):
        raise DataError(f"ratings name {len(unknown)} movie id(s) missing from movies (e.g. {int(unknown[0])})")

    users = deduped["user_id"].to_numpy()
    per_user = deduped.groupby("user_id", sort=False)["user_id"].transform("size").to_numpy()
    position = deduped.groupby("user_id", sort=False).cumcount().to_numpy()
    from_end = per_user - 1 - position  # 0 = the user's last interaction
    eligible = per_user >= min_interactions
    is_test = eligible & (from_end == 0)
    is_valid = eligible & (from_end == 1)

    # The id map's ids are sorted, so a binary search gives each row's dense index without a Python loop.
    indexed = deduped.assign(
        user_idx=np.searchsorted(np.asarray(id_map.user_ids, dtype=np.int64), users).astype(np.int64),
        item_idx=np.searchsorted(np.asarray(id_map.item_ids, dtype=np.int64), deduped["movie_id"]).astype(np.int64),
    )[list(SPLIT_COLUMNS)]
    return Split(
        train=indexed.loc[~(is_test | is_valid)].reset_index(drop=True),
        valid=indexed.loc[is_valid].reset_index(drop=True),
        test=indexed.loc[is_test].reset_index(drop=True),
        id_map=id_map,
        duplicates_dropped=len(ordered) - len(deduped),
    )


def load_split(layout: Layout) -> tuple[IdMap, dict[str, pd.DataFrame]]:
    """The id map and train/valid/test frames written by `movie-genie split`."""
    id_map_path = layout.split_dir / ID_MAP_FILE
    if not id_map_path.is_file():
        raise ArtifactMissingError(f"{id_map_path} not found: run `movie-genie split` first")
    frames = {name: read_parquet(layout.split_dir / f"{name}.parquet") for name in ("train", "valid", "test")}
    return IdMap.load(id_map_path), frames


def dataset_name(params: Params, layout: Layout) -> str:
    """The data set the processed tables hold (their dataset.json), else params.yaml's `dataset.name`."""
    try:
        return str(read_info(layout.processed_dir).get("name") or params.dataset.name)
    except (ArtifactMissingError, OSError, ValueError):
        return params.dataset.name

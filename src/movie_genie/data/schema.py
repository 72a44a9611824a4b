"""The canonical schema every MovieLens layout is read into (DESIGN.md §3), and the split's file names.

Tables are Parquet files in the processed folder:
- movies:  movie_id:int64, title:str, year:Int64 (nullable), genres:list<str>, and optional metadata
           columns (overview, tagline, keywords:list<str>, cast:list<str>, directors:list<str>, runtime:Int64,
           language, poster_path, imdb_id, tmdb_id).
- ratings: user_id:int64, movie_id:int64, rating:float32, timestamp:int64 (seconds), sorted by user then time,
           ties kept in file order.
- users:   user_id:int64 plus whatever demographics the layout has (age, gender, occupation, zip_code).
- tags:    user_id, movie_id, tag:str, timestamp (only where the layout has tags).

The split folder holds train/valid/test.parquet (rating columns plus dense user_idx/item_idx) and id_map.json.
"""

from __future__ import annotations

MOVIE_COLUMNS = ("movie_id", "title", "year", "genres")
METADATA_COLUMNS = (
    "overview",
    "tagline",
    "keywords",
    "cast",
    "directors",
    "runtime",
    "language",
    "poster_path",
    "imdb_id",
    "tmdb_id",
)
RATING_COLUMNS = ("user_id", "movie_id", "rating", "timestamp")
TAG_COLUMNS = ("user_id", "movie_id", "tag", "timestamp")

TABLES = ("movies", "ratings", "users", "tags")
SPLITS = ("train", "valid", "test")
ID_MAP_FILE = "id_map.json"
DATASET_INFO_FILE = "dataset.json"

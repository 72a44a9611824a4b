"""The canonical schema every MovieLens layout is read into (docs/pipeline.md, "data"), and the split's file names.

Tables are Parquet files in the processed folder:
- movies:  movie_id:int64, title:str, year:Int64 (nullable), genres:list<str>, and optional metadata
           columns (overview, tagline, keywords:list<str>, cast:list<str>, directors:list<str>, runtime:Int64
           (minutes), release_date (ISO "YYYY-MM-DD" text), language (ISO 639-1), poster_path (TMDB image path),
           imdb_id ("tt0114709"), tmdb_id:Int64).
- ratings: user_id:int64, movie_id:int64, rating:float32, timestamp:int64 (seconds), sorted by user then time,
           ties kept in file order.
- users:   user_id:int64 plus whatever demographics the layout has (age, gender, occupation, zip_code).
- tags:    user_id, movie_id, tag:str, timestamp (only where the layout has tags).

The split folder holds train/valid/test.parquet (rating columns plus dense user_idx/item_idx) and id_map.json.
"""

from __future__ import annotations

import pyarrow as pa

MOVIE_COLUMNS = ("movie_id", "title", "year", "genres")
METADATA_COLUMNS = (
    "overview",
    "tagline",
    "keywords",
    "cast",
    "directors",
    "runtime",
    "release_date",
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
SPLIT_COLUMNS = (*RATING_COLUMNS, "user_idx", "item_idx")

# The Parquet type of every column any table may hold; `tables.write_tables` writes with exactly these types so
# readers get the same schema whichever layout the data came from (and empty list columns stay list<string>).
FIELD_TYPES: dict[str, pa.DataType] = {
    "movie_id": pa.int64(),
    "user_id": pa.int64(),
    "title": pa.string(),
    "year": pa.int64(),
    "genres": pa.list_(pa.string()),
    "overview": pa.string(),
    "tagline": pa.string(),
    "keywords": pa.list_(pa.string()),
    "cast": pa.list_(pa.string()),
    "directors": pa.list_(pa.string()),
    "runtime": pa.int64(),
    "release_date": pa.string(),
    "language": pa.string(),
    "poster_path": pa.string(),
    "imdb_id": pa.string(),
    "tmdb_id": pa.int64(),
    "rating": pa.float32(),
    "timestamp": pa.int64(),
    "tag": pa.string(),
    "age": pa.int64(),
    "gender": pa.string(),
    "occupation": pa.string(),
    "zip_code": pa.string(),
    "user_idx": pa.int64(),
    "item_idx": pa.int64(),
}
LIST_COLUMNS = frozenset(name for name, kind in FIELD_TYPES.items() if pa.types.is_list(kind))

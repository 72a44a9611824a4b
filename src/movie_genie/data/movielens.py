"""Readers for the three MovieLens layouts (ml-100k, ml-1m, ml-latest*/ml-25m/ml-32m) into the canonical tables.

Every reader returns `CanonicalTables` (schema.py): cleaned titles, genres as lists, ratings sorted by user then
time with ties kept in file order. Bad input raises DataError naming the file and line.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from movie_genie.data.archive import Archive
from movie_genie.data.schema import RATING_COLUMNS, TAG_COLUMNS
from movie_genie.data.titles import clean_title
from movie_genie.errors import DataError

# u.item's 19 genre flags, in file order (ml-100k README / u.genre). "unknown" means "no genre" and is dropped.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
NO_GENRE = frozenset({"unknown", "(no genres listed)", ""})
# users.dat stores occupations as codes 0-20 (ml-1m README).
ML1M_OCCUPATIONS = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer", "programmer",
    "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer", "tradesman/craftsman",
    "unemployed", "writer",
)  # fmt: skip

PROGRESS_BYTES = 20_000_000  # show a progress bar only for files big enough to take a while (ml-1m and up)
LAYOUT_FILES = {"ml-100k": ("u.data", "u.item", "u.user"), "ml-1m": ("ratings.dat", "movies.dat", "users.dat")}
CSV_FILES = ("ratings.csv", "movies.csv")


class _Counting(io.RawIOBase):
    """A binary stream that advances a progress bar by the bytes read through it."""

    def __init__(self, raw: IO[bytes], bar: tqdm) -> None:
        self._raw, self._bar = raw, bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._bar.update(len(data))
        return len(data)


@dataclass(frozen=True)
class Column:
    """One column of a delimited file: its name in the file, its canonical name and its kind."""

    source: str
    name: str
    kind: str = "str"  # "int" | "float" | "str" | "optint" (int or empty)


_PANDAS_DTYPES = {"int": "int64", "float": "float64", "str": "str", "optint": "Int64"}


def _check_value(kind: str, value: str) -> str | None:
    """Why `value` is not a valid `kind`, or None when it is."""
    try:
        if kind == "int" or (kind == "optint" and value != ""):
            int(value)
        elif kind == "float" and np.isnan(float(value)):
            return "a number, not NaN"
    except ValueError:
        return "an integer" if kind in ("int", "optint") else "a number"
    return None


def _rows(text: IO[str], sep: str, quoted: bool) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every row, splitting the way the file's format does."""
    if quoted:
        reader = csv.reader(text, delimiter=sep)
        for row in reader:
            yield reader.line_num, row
    else:
        for line_number, line in enumerate(text, start=1):
            yield line_number, line.rstrip("\r\n").split(sep)


def _locate_bad_row(
    archive: Archive, member: str, columns: Sequence[Column], sep: str, header: bool, encoding: str, quoted: bool
) -> DataError | None:
    """Re-read a file that pandas rejected, line by line, and describe its first malformed row."""
    with archive.open(member) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="" if quoted else None)
        for line, row in _rows(text, sep, quoted):
            if (header and line == 1) or not row or row == [""]:
                continue
            if len(row) != len(columns):
                return DataError(
                    f"{member}, line {line}: expected {len(columns)} fields separated by {sep!r}, found {len(row)} "
                    f"({sep.join(row)[:120]!r}); fix or remove that line, or use an original GroupLens file"
                )
            for column, value in zip(columns, row, strict=True):
                problem = _check_value(column.kind, value.strip())
                if problem:
                    return DataError(
                        f"{member}, line {line}: column {column.source} should be {problem}, found {value!r}; "
                        "fix or remove that line, or use an original GroupLens file"
                    )
    return None


def _locate_bad_encoding(archive: Archive, member: str, encoding: str, exc: UnicodeDecodeError) -> DataError:
    """Find the first line that does not decode and describe it."""
    with archive.open(member) as raw:
        for line_number, line in enumerate(raw, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as bad:
                return DataError(
                    f"{member}, line {line_number}: not valid {encoding} text (byte {line[bad.start : bad.end]!r}); "
                    f"the file must be {encoding}-encoded like the GroupLens original"
                )
    return DataError(f"{member}: not valid {encoding} text ({exc}); the file must be {encoding}-encoded")


def read_delimited(
    archive: Archive,
    member: str,
    columns: Sequence[Column],
    *,
    sep: str,
    header: bool,
    encoding: str = "utf-8",
    quoted: bool = False,
) -> pd.DataFrame:
    """Read one delimited member into a frame with canonical column names; DataError on any malformed row.

    The fast path is pandas' C parser; only when it fails is the file re-read line by line to name the bad line.
    Multi-character separators (ml-1m's '::') are replaced by a tab first so the C parser can be used.
    """
    source_names = [c.source for c in columns]
    dtypes = {c.source: _PANDAS_DTYPES[c.kind] for c in columns}
    na_values = {c.source: [""] for c in columns if c.kind == "optint"}
    try:
        if len(sep) > 1:
            data: io.BytesIO | None = io.BytesIO(archive.read_bytes(member).replace(sep.encode(encoding), b"\t"))
        else:
            data = None
        size = archive.size(member)
        with (
            archive.open(member) as handle,
            tqdm(total=size, desc=member, unit="B", unit_scale=True, disable=size < PROGRESS_BYTES) as bar,
            warnings.catch_warnings(),
        ):
            # A row with more fields than the header only warns in pandas; here it is a malformed row.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            stream = data if data is not None else handle
            frame = pd.read_csv(
                stream if bar.disable else io.BufferedReader(_Counting(stream, bar)),
                sep="\t" if len(sep) > 1 else sep,
                header=0 if header else None,
                names=None if header else source_names,
                dtype=dtypes,
                encoding=encoding,
                keep_default_na=False,
                na_values=na_values,
                quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
                engine="c",
                index_col=False,
            )
    except UnicodeDecodeError as exc:
        raise _locate_bad_encoding(archive, member, encoding, exc) from exc
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise (
            _locate_bad_row(archive, member, columns, sep, header, encoding, quoted)
            or DataError(f"{member}: could not be parsed ({exc}); use an original GroupLens file")
        ) from exc
    if header:
        missing = [c for c in source_names if c not in frame.columns]
        if missing:
            raise DataError(
                f"{member}: missing column(s) {', '.join(missing)} (found {', '.join(map(str, frame.columns))}); "
                "use an original GroupLens file"
            )
        if len(frame.columns) != len(columns):
            raise DataError(f"{member}: expected columns {', '.join(source_names)}, found {list(frame.columns)}")
    frame = frame[source_names].rename(columns={c.source: c.name for c in columns})
    for column in columns:
        if column.kind == "float" and frame[column.name].isna().any():
            line = int(np.flatnonzero(frame[column.name].isna().to_numpy())[0]) + 1 + int(header)
            raise DataError(f"{member}, line {line}: column {column.source} is empty or NaN")
    return frame


@dataclass(frozen=True)
class CanonicalTables:
    """The four canonical tables of one data set (schema.py)."""

    movies: pd.DataFrame
    ratings: pd.DataFrame
    users: pd.DataFrame
    tags: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """Table name -> frame, as `tables.write_tables` expects."""
        return {"movies": self.movies, "ratings": self.ratings, "users": self.users, "tags": self.tags}

    def counts(self) -> dict[str, int]:
        """Row counts per table (for dataset.json and the CLI summary)."""
        return {name: len(frame) for name, frame in self.as_dict().items()}


def movies_from_titles(
    movie_ids: Sequence[int], raw_titles: Sequence[str], genres: Sequence[list[str]]
) -> pd.DataFrame:
    """Build the movies table from raw MovieLens titles (cleaned here) and genre lists."""
    cleaned = [clean_title(t) for t in raw_titles]
    return pd.DataFrame(
        {
            "movie_id": np.asarray(movie_ids, dtype=np.int64),
            "title": [t for t, _ in cleaned],
            "year": pd.array([y for _, y in cleaned], dtype="Int64"),
            "genres": [[g for g in gs if g not in NO_GENRE] for gs in genres],
        }
    )


def sort_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """Sort by user, then timestamp; np.lexsort is stable, so ties keep their file order."""
    order = np.lexsort((ratings["timestamp"].to_numpy(), ratings["user_id"].to_numpy()))
    return ratings.iloc[order].reset_index(drop=True)


def finish(
    movies: pd.DataFrame, ratings: pd.DataFrame, users: pd.DataFrame, tags: pd.DataFrame | None, source: str
) -> CanonicalTables:
    """Check cross-table consistency, fix dtypes and order, and bundle the tables."""
    duplicated = movies["movie_id"][movies["movie_id"].duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: movie id {int(duplicated.iloc[0])} appears more than once in the movie list")
    unknown = np.setdiff1d(ratings["movie_id"].unique(), movies["movie_id"].to_numpy())
    if len(unknown):
        raise DataError(
            f"{source}: {len(unknown)} rated movie id(s) are missing from the movie list (e.g. {int(unknown[0])}); "
            "the files do not belong together"
        )
    ratings = ratings.astype({"user_id": "int64", "movie_id": "int64", "rating": "float32", "timestamp": "int64"})
    tags = tags if tags is not None else pd.DataFrame({c: pd.Series(dtype="object") for c in TAG_COLUMNS})
    return CanonicalTables(
        movies=movies.sort_values("movie_id", kind="stable").reset_index(drop=True),
        ratings=sort_ratings(ratings[list(RATING_COLUMNS)]),
        users=users.sort_values("user_id", kind="stable").reset_index(drop=True),
        tags=tags[list(TAG_COLUMNS)].reset_index(drop=True),
    )


def detect_layout(archive: Archive) -> str:
    """Which MovieLens layout an archive holds: 'ml-100k', 'ml-1m' or 'csv' (ml-latest*, ml-25m, ml-32m)."""
    if archive.has("u.data"):
        return "ml-100k"
    if archive.has("ratings.dat"):
        return "ml-1m"
    if archive.has("ratings.csv"):
        return "csv"
    raise DataError(
        f"{archive.path} holds no MovieLens ratings file (u.data, ratings.dat or ratings.csv); "
        "pass --source a GroupLens zip or folder"
    )


# Every layout's ratings file and movie list hold the same columns in the same order; only their names and the
# file format (separator, header, encoding, quoting: read_delimited's `options`) differ.
def read_ratings(archive: Archive, member: str, names: tuple[str, str, str, str], **options: Any) -> pd.DataFrame:
    """A ratings file: user id, movie id, rating and unix timestamp, named in the file as in `names`."""
    user, movie, rating, timestamp = names
    columns = [Column(user, "user_id", "int"), Column(movie, "movie_id", "int"), Column(rating, "rating", "float"),
               Column(timestamp, "timestamp", "int")]  # fmt: skip
    return read_delimited(archive, member, columns, **options)


def _read_movie_list(archive: Archive, member: str, names: tuple[str, str, str], **options: Any) -> pd.DataFrame:
    """The movies table from a movies.dat / movies.csv: id, raw title and "A|B|C" genres, named as in `names`."""
    movie_id, title, genres = names
    columns = [Column(movie_id, "movie_id", "int"), Column(title, "raw_title"), Column(genres, "genres")]
    items = read_delimited(archive, member, columns, **options)
    return movies_from_titles(
        items["movie_id"].tolist(), items["raw_title"].tolist(), [g.split("|") for g in items["genres"]]
    )


def read_ml100k(archive: Archive) -> CanonicalTables:
    """ml-100k: u.data (tab), u.item ('|', Latin-1, 19 genre flags), u.user ('|')."""
    archive.require(*LAYOUT_FILES["ml-100k"])
    ratings = read_ratings(archive, "u.data", ("user", "item", "rating", "timestamp"), sep="\t", header=False)
    item_columns = [
        Column("movie id", "movie_id", "int"),
        Column("movie title", "raw_title"),
        Column("release date", "release_date"),
        Column("video release date", "video_release_date"),
        Column("IMDb URL", "imdb_url"),
        *(Column(g, f"genre_{i}", "int") for i, g in enumerate(ML100K_GENRES)),
    ]
    items = read_delimited(archive, "u.item", item_columns, sep="|", header=False, encoding="latin-1")
    flags = items[[f"genre_{i}" for i in range(len(ML100K_GENRES))]].to_numpy() == 1
    movies = movies_from_titles(
        items["movie_id"].tolist(),
        items["raw_title"].tolist(),
        [[g for g, on in zip(ML100K_GENRES, row, strict=True) if on] for row in flags],
    )
    users = read_delimited(
        archive,
        "u.user",
        [Column("user id", "user_id", "int"), Column("age", "age", "int"), Column("gender", "gender"),
         Column("occupation", "occupation"), Column("zip code", "zip_code")],
        sep="|",
        header=False,
    )  # fmt: skip
    return finish(movies, ratings, users, None, str(archive.path))


def read_ml1m(archive: Archive) -> CanonicalTables:
    """ml-1m: ratings.dat, movies.dat (Latin-1), users.dat, all '::'-separated."""
    archive.require(*LAYOUT_FILES["ml-1m"])
    ratings = read_ratings(archive, "ratings.dat", ("UserID", "MovieID", "Rating", "Timestamp"), sep="::", header=False)
    movies = _read_movie_list(
        archive, "movies.dat", ("MovieID", "Title", "Genres"), sep="::", header=False, encoding="latin-1"
    )
    users = read_delimited(
        archive,
        "users.dat",
        [Column("UserID", "user_id", "int"), Column("Gender", "gender"), Column("Age", "age", "int"),
         Column("Occupation", "occupation", "int"), Column("Zip-code", "zip_code")],
        sep="::",
        header=False,
    )  # fmt: skip
    bad = users.loc[~users["occupation"].between(0, len(ML1M_OCCUPATIONS) - 1), "occupation"]
    if len(bad):
        raise DataError(f"users.dat: occupation code {int(bad.iloc[0])} is not one of 0-20 (ml-1m README)")
    users["occupation"] = [ML1M_OCCUPATIONS[int(c)] for c in users["occupation"]]
    return finish(movies, ratings, users[["user_id", "age", "gender", "occupation", "zip_code"]], None, "ml-1m")


def read_csv_layout(archive: Archive) -> CanonicalTables:
    """ml-latest-small / ml-latest / ml-25m / ml-32m: ratings.csv, movies.csv and, when present, tags/links.csv."""
    archive.require(*CSV_FILES)
    names = ("userId", "movieId", "rating", "timestamp")
    ratings = read_ratings(archive, "ratings.csv", names, sep=",", header=True, quoted=True)
    movies = _read_movie_list(archive, "movies.csv", ("movieId", "title", "genres"), sep=",", header=True, quoted=True)
    if archive.has("links.csv"):
        links = read_delimited(
            archive,
            "links.csv",
            [Column("movieId", "movie_id", "int"), Column("imdbId", "imdb_id"), Column("tmdbId", "tmdb_id", "optint")],
            sep=",",
            header=True,
            quoted=True,
        )
        links["imdb_id"] = [f"tt{i}" if i else None for i in links["imdb_id"]]
        movies = movies.merge(links, on="movie_id", how="left", validate="one_to_one")
        movies["tmdb_id"] = movies["tmdb_id"].astype("Int64")
    tags = None
    if archive.has("tags.csv"):
        tags = read_delimited(
            archive,
            "tags.csv",
            [Column("userId", "user_id", "int"), Column("movieId", "movie_id", "int"), Column("tag", "tag"),
             Column("timestamp", "timestamp", "int")],
            sep=",",
            header=True,
            quoted=True,
        )  # fmt: skip
    # These layouts carry no demographics: the users are the people who rated.
    users = pd.DataFrame({"user_id": np.unique(ratings["user_id"].to_numpy()).astype(np.int64)})
    return finish(movies, ratings, users, tags, str(archive.path))


READERS: dict[str, Callable[[Archive], CanonicalTables]] = {
    "ml-100k": read_ml100k,
    "ml-1m": read_ml1m,
    "csv": read_csv_layout,
}


def read_movielens(archive: Archive) -> CanonicalTables:
    """Read any GroupLens MovieLens zip or folder, whatever its layout."""
    return READERS[detect_layout(archive)](archive)

"""Database benchmark: `db load` of real ml-100k and the API's repository queries, on SQLite and PostgreSQL.

Baselines measured in the same run, on the same database:
- load: inserting the same ratings one ORM object at a time (what a naive loader does), as rows/s;
- movie_stats(100): aggregating those movies' rows of the ratings table (GROUP BY) instead of the stored aggregates;
- every query: a trivial `SELECT 1` round trip (the floor of any request that touches the database).

Run: .venv/bin/python benchmarks/bench_db.py [--postgres-url URL] [--repeat N]
Prints a table and writes benchmarks/results/db.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from benchmarks.output import write_json
from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.tables import write_tables
from movie_genie.db.engine import make_engine, make_session_factory
from movie_genie.db.feedback import add_feedback, user_history
from movie_genie.db.load import load_processed
from movie_genie.db.models import FeedbackEvent, Rating, User
from movie_genie.db.movies import browse_movies, get_movie, get_movies, list_genres, movie_stats
from movie_genie.db.users import create_user, get_user, list_users

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "db.json"
NAIVE_ROWS = 5000  # the row-at-a-time baseline is slow: time it on a prefix and report rows/s


def _shared_ml100k() -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return (Path(env) if env else ROOT.parent / "shared" / "datasets") / "ml-100k"


def _processed(workdir: Path) -> Path:
    """ml-100k as processed tables: the pipeline's data/processed if it holds ml-100k, else read the shared copy."""
    own = ROOT / "data" / "processed"
    info = own / "dataset.json"
    if info.exists() and json.loads(info.read_text()).get("name") == "ml-100k":
        return own
    with Archive(_shared_ml100k()) as archive:
        tables = read_movielens(archive)
    target = workdir / "processed"
    write_tables(target, tables.as_dict(), {"name": "ml-100k", **tables.counts()})
    return target


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    fn()  # warm caches and compiled statements
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[int(0.95 * (len(samples) - 1))]}


def _naive_rows_per_s(engine: Engine, processed: Path) -> float:
    """Baseline: the first NAIVE_ROWS ratings re-inserted one ORM object and one flush at a time."""
    import pandas as pd

    ratings = pd.read_parquet(processed / "ratings.parquet").head(NAIVE_ROWS)
    ratings["seq"] = ratings.groupby("user_id").cumcount() + 1_000_000  # no clash with the loaded rows' seq
    factory = make_session_factory(engine)
    with factory() as session:
        session.execute(delete(Rating).where(Rating.seq >= 1_000_000))
        session.execute(delete(Rating).where(Rating.user_id.in_(ratings["user_id"].unique().tolist())))
        start = time.perf_counter()
        for row in ratings.itertuples(index=False):
            session.add(Rating(user_id=int(row.user_id), movie_id=int(row.movie_id), rating=float(row.rating),
                               timestamp=int(row.timestamp), seq=int(row.seq)))  # fmt: skip
            session.flush()
        elapsed = time.perf_counter() - start
        session.rollback()
    return NAIVE_ROWS / elapsed


def _groupby_stats(session: Session, ids: list[int]) -> None:
    """Baseline of movie_stats: aggregate the ratings table for the ids."""
    session.execute(
        select(Rating.movie_id, func.count(), func.avg(Rating.rating))
        .where(Rating.movie_id.in_(ids))
        .group_by(Rating.movie_id)
    ).all()


def bench_backend(name: str, engine: Engine, processed: Path, repeat: int) -> dict[str, Any]:
    """Load, reload and query one database; return the measurements."""
    start = time.perf_counter()
    report = load_processed(engine, processed, dataset_name="ml-100k", progress=False)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    load_processed(engine, processed, dataset_name="ml-100k", progress=False)
    reload_s = time.perf_counter() - start
    naive = _naive_rows_per_s(engine, processed)
    bulk = report.ratings / load_s

    factory = make_session_factory(engine)
    popular = [100, 50, 181, 258, 294, 286, 288, 1, 300, 121] * 10
    ids = sorted(set(range(1, 101)))
    with factory() as session:
        user = create_user(session, "Benchmark", [50, 181])
        queries: dict[str, Callable[[], Any]] = {
            "SELECT 1 (baseline)": lambda: session.execute(text("SELECT 1")).scalar(),
            "list_users (20, stats)": lambda: list_users(session, 1, 20),
            "get_user (recent 20)": lambda: get_user(session, 13, recent=20),
            "user_history (636 ratings)": lambda: user_history(session, 13),
            "browse popularity (20)": lambda: browse_movies(session, per_page=20),
            "browse Drama by rating (20)": lambda: browse_movies(session, genre="Drama", sort="rating"),
            "get_movie": lambda: get_movie(session, 50),
            "get_movies (100)": lambda: get_movies(session, popular),
            "movie_stats (100)": lambda: movie_stats(session, ids),
            "GROUP BY ratings (100) (baseline)": lambda: _groupby_stats(session, ids),
            "list_genres": lambda: list_genres(session),
            "add_feedback (commit)": lambda: add_feedback(session, user.user_id, 1, "rating", 4.0),
        }
        timings = {label: _timed(fn, repeat) for label, fn in queries.items()}
        session.execute(delete(FeedbackEvent).where(FeedbackEvent.user_id == user.user_id))
        session.execute(delete(User).where(User.user_id == user.user_id))
        session.commit()
    floor = timings["SELECT 1 (baseline)"]["median_ms"]
    for t in timings.values():
        t["x_select1"] = t["median_ms"] / floor
    return {
        "backend": name,
        "ratings": report.ratings,
        "load_s": load_s,
        "reload_unchanged_s": reload_s,
        "bulk_rows_per_s": bulk,
        "naive_rows_per_s": naive,
        "bulk_vs_naive": bulk / naive,
        "movie_stats_vs_groupby": timings["GROUP BY ratings (100) (baseline)"]["median_ms"]
        / timings["movie_stats (100)"]["median_ms"],
        "queries": timings,
    }


def _postgres(url: str) -> tuple[Engine, Callable[[], None]] | None:
    admin = make_url(url).set(drivername="postgresql")
    name = f"movie_genie_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=5) as c:
            c.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL at {admin.render_as_string(hide_password=True)} not reachable ({exc}); skipping it")
        return None
    engine = make_engine(make_url(url).set(database=name))

    def drop() -> None:
        engine.dispose()
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]

    return engine, drop


def main() -> None:
    """Run the benchmark on SQLite and (when reachable) PostgreSQL; print a table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        processed = _processed(Path(tmp))
        sqlite = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        results.append(bench_backend("sqlite", sqlite, processed, args.repeat))
        sqlite.dispose()
        pg = _postgres(args.postgres_url)
        if pg is not None:
            engine, drop = pg
            try:
                results.append(bench_backend("postgresql", engine, processed, args.repeat))
            finally:
                drop()

    for r in results:
        print(f"\n== {r['backend']}: db load of ml-100k ({r['ratings']:,} ratings) ==")
        print(f"  first load           {r['load_s']:8.2f} s   ({r['bulk_rows_per_s']:,.0f} ratings/s)")
        print(f"  reload, unchanged    {r['reload_unchanged_s']:8.2f} s")
        print(
            f"  naive ORM baseline   {r['naive_rows_per_s']:>11,.0f} rows/s  -> bulk load is {r['bulk_vs_naive']:.1f}x"
        )
        print(f"  {'query':<36} {'median ms':>10} {'p95 ms':>8} {'x SELECT 1':>11}")
        for label, t in r["queries"].items():
            print(f"  {label:<36} {t['median_ms']:10.2f} {t['p95_ms']:8.2f} {t['x_select1']:11.1f}")
        print(f"  movie_stats(100) is {r['movie_stats_vs_groupby']:.1f}x faster than aggregating the ratings table")
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "repeat": args.repeat}
    write_json(RESULTS, {"meta": meta, "results": results})


if __name__ == "__main__":
    main()

"""`movie-genie data|enrich|split` end to end, as a user runs them: outputs, summaries, errors, no partial output."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from movie_genie.cli import main
from movie_genie.data.idmap import IdMap
from movie_genie.data.tables import read_parquet
from movie_genie.data.tmdb import TmdbClient

from .conftest import TINY_CSV, make_zip


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the console script in-process; returns (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["movie-genie", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with default params and an empty download cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOVIE_GENIE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "params.yaml").write_text("dataset:\n  name: ml-100k\nsplit:\n  min_interactions: 3\n")
    return tmp_path


def test_default_pipeline_with_empty_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_tmdb(*args: object, **kwargs: object) -> None:
        raise AssertionError("the default pipeline must never call the TMDB API")

    monkeypatch.setattr(TmdbClient, "__init__", no_tmdb)
    code, out, err = run(monkeypatch, capsys, "data")
    assert code == 0, err
    assert "data: ml-100k from " in out and "100,000 ratings, 943 users, 1,682 movies" in out
    info = json.loads((project / "data" / "canonical" / "dataset.json").read_text())
    assert (info["name"], info["ratings"], info["users"], info["movies"]) == ("ml-100k", 100_000, 943, 1_682)

    code, out, err = run(monkeypatch, capsys, "enrich")
    assert code == 0 and "no metadata CSV configured" in out, err
    canonical, processed = project / "data" / "canonical", project / "data" / "processed"
    for name in ("movies", "ratings", "users", "tags"):
        assert (processed / f"{name}.parquet").read_bytes() == (canonical / f"{name}.parquet").read_bytes()

    code, out, err = run(monkeypatch, capsys, "split")
    assert code == 0, err
    assert "split: train 98,114 / valid 943 / test 943 rows; 943 users, 1,682 items" in out
    id_map = IdMap.load(project / "data" / "split" / "id_map.json")
    assert id_map.n_items == 1_682 and id_map.n_users == 943
    assert len(read_parquet(project / "data" / "split" / "test.parquet")) == 943
    assert sorted(p.name for p in (project / "data").iterdir()) == ["canonical", "processed", "split"]


def test_source_and_metadata_options(
    project: Path, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(shared_datasets / "ml-latest-small.zip")
    code, out, err = run(monkeypatch, capsys, "data", "--source", source)  # params say ml-100k; the zip names itself
    assert code == 0, err
    assert (
        "data: ml-latest-small from local copy ml-latest-small.zip: 100,836 ratings, 610 users, 9,742 movies, " in out
    )
    assert "3,683 tags" in out
    code, out, err = run(
        monkeypatch, capsys, "enrich", "--metadata-csv", str(shared_datasets / "ml-latest-small-tmdb.csv")
    )
    assert code == 0, err
    assert "overview        9,523 / 9,742  ( 97.8 %)" in out
    movies = read_parquet(project / "data" / "processed" / "movies.parquet")
    assert movies["overview"].notna().sum() == 9_523
    info = json.loads((project / "data" / "processed" / "dataset.json").read_text())
    assert info["metadata"]["fields"]["overview"] == 9_523


def test_errors_exit_2_and_leave_no_partial_output(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(monkeypatch, capsys, "data", "--dataset", "ml-5k")
    assert code == 2 and "unknown data set 'ml-5k'; choose one of: ml-100k" in err and "Traceback" not in err

    bad = make_zip(
        tmp_path / "bad.zip", "ml-bad", {**TINY_CSV, "ratings.csv": "userId,movieId,rating,timestamp\n1,1,x,1\n"}
    )
    code, _, err = run(monkeypatch, capsys, "data", "--source", str(bad))
    assert code == 2 and "ratings.csv, line 2: column rating should be a number" in err
    assert not (project / "data").exists() or sorted(p.name for p in (project / "data").iterdir()) == []

    code, _, err = run(monkeypatch, capsys, "enrich")
    assert code == 2 and "run `movie-genie data` first" in err
    code, _, err = run(monkeypatch, capsys, "split")
    assert code == 2 and "ratings.parquet not found" in err


REPO = Path(__file__).resolve().parents[2]
SHIPPED = Path("datasets/ml-latest-small/ml-latest-small.zip")


@pytest.fixture
def shipped_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with the repository's default params and a copy of the shipped data set, no network."""
    (tmp_path / SHIPPED.parent).mkdir(parents=True)
    (tmp_path / SHIPPED).write_bytes((REPO / SHIPPED).read_bytes())
    (tmp_path / "params.yaml").write_bytes((REPO / "params.yaml").read_bytes())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOVIE_GENIE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("pooch.retrieve", lambda *a, **k: pytest.fail("the default data set must not be downloaded"))
    return tmp_path


def test_default_data_set_is_the_shipped_ml_latest_small(
    shipped_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(monkeypatch, capsys, "data")
    assert code == 0, err
    assert f"data: ml-latest-small from the copy shipped in {SHIPPED}: 100,836 ratings, 610 users, 9,742 movies" in out
    assert "3,683 tags" in out
    assert not (shipped_project / "cache").exists()


def test_a_tampered_shipped_zip_stops_with_a_message_and_is_kept(
    shipped_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    zip_path = shipped_project / SHIPPED
    tampered = bytearray(zip_path.read_bytes())
    tampered[-100] ^= 0xFF  # one flipped byte in the zip's directory
    zip_path.write_bytes(bytes(tampered))
    code, _, err = run(monkeypatch, capsys, "data")
    assert code == 2
    assert "does not match the copy shipped with Movie Genie (sha256 expected d97e25cd" in err
    assert "git checkout -- datasets/ml-latest-small" in err
    assert "Traceback" not in err
    assert zip_path.read_bytes() == bytes(tampered)  # a tracked file is never deleted
    assert not (shipped_project / "data").exists()  # nothing half-written

"""`movie-genie embed | index | search` on a tiny project folder of real movies."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from movie_genie.cli import cli
from movie_genie.data.tables import write_tables

IDS = (1, 3114, 589, 1240, 2985, 60069, 2761, 260, 1196, 356, 318, 296, 2571, 480, 32031)


@pytest.fixture(scope="module")
def project(latest_small, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A params.yaml whose data folder holds processed tables for 15 real movies."""
    root = tmp_path_factory.mktemp("project")
    movies = latest_small.movies[latest_small.movies["movie_id"].isin(IDS)].reset_index(drop=True)
    keep = latest_small.ratings["movie_id"].isin(IDS)
    tables = {
        "movies": movies,
        "ratings": latest_small.ratings[keep],
        "users": latest_small.ratings.loc[keep, ["user_id"]].drop_duplicates(),
        "tags": latest_small.tags[latest_small.tags["movie_id"].isin(IDS)],
    }
    write_tables(root / "data" / "processed", tables, {"name": "ml-latest-small slice"})
    (root / "params.yaml").write_text(
        f"paths:\n  data_dir: {root / 'data'}\n  artifacts_dir: {root / 'artifacts'}\n", encoding="utf-8"
    )
    return root


def _run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["--params", str(project / "params.yaml"), *args], catch_exceptions=True)


@pytest.fixture(scope="module")
def built(project, sentence_model) -> dict[str, str]:
    """Run embed twice (the second reuses everything) and index once; return their outputs."""
    outputs = {}
    for name, args in (("search_first", ("search", "robots")), ("embed", ("embed",)), ("embed_again", ("embed",))):
        result = _run(project, *args)
        outputs[name] = (
            result.output if result.exception is None else f"{type(result.exception).__name__}: {result.exception}"
        )
    result = _run(project, "index")
    assert result.exit_code == 0, result.output
    outputs["index"] = result.output
    return outputs


def test_search_before_index_names_the_missing_stage(built) -> None:
    assert built["search_first"].startswith("IndexMissingError") and "movie-genie index" in built["search_first"]


def test_embed_reuses_unchanged_documents(built, project) -> None:
    assert f"{len(IDS)} movies ({len(IDS)} encoded, 0 reused)" in built["embed"]
    assert f"(0 encoded, {len(IDS)} reused)" in built["embed_again"]
    assert (project / "artifacts" / "embeddings" / "embeddings.npz").exists()


def test_index_then_search(built, project) -> None:
    assert "IndexFlatIP" in built["index"] and (project / "artifacts" / "index" / "manifest.json").exists()
    found = _run(project, "search", "action movies with robots", "--k", "3")
    assert found.exit_code == 0, found.output
    lines = found.output.splitlines()
    assert lines[0].startswith('3 films for "action movies with robots" (hybrid')
    assert len(lines) == 4 and lines[1].lstrip().startswith("1.")

    typo = _run(project, "search", "termnator", "--mode", "title", "--k", "1")
    assert "The Terminator (1984)" in typo.output

    animated = _run(project, "search", "toys", "--genre", "Animation", "--year-max", "2000")
    assert "Toy Story" in animated.output and "Terminator" not in animated.output


def test_bad_input_is_reported_not_raised(built, project) -> None:
    result = _run(project, "search", "robots", "--year-min", "2010", "--year-max", "1990")
    assert "swap them" in str(result.exception)
    result = _run(project, "search", "robots", "--mode", "nope")
    assert result.exit_code == 2 and "Invalid value" in result.output

"""The simulator (`movie-genie simulate`, online/simulator.py) on the session's real artefacts: held-out test films
replayed as traffic through the real endpoints, on a copy of the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from movie_genie.api.harness import AppHarness
from movie_genie.cli import cli
from movie_genie.config import ConfigError
from movie_genie.db.engine import make_engine, make_session_factory, session_scope
from movie_genie.db.feedback import user_history
from movie_genie.db.models import Impression, ImpressionEvent, Rating
from movie_genie.online.experiments import assign
from movie_genie.online.simulator import Simulation, checkpoints, resolve_experiment, simulate
from tests.artefacts import Artefacts

VARIANTS = ("ease", "popularity")


def _simulate(
    artefacts: Artefacts, experiment: str, design: str, *, users: int, seed: int, workdir: Path | None = None
) -> Simulation:
    """`simulate` of EASE against popularity through the in-process app on the session's artefacts."""
    return simulate(
        artefacts.params,
        experiment,
        AppHarness,
        design=design,
        variants=VARIANTS,
        users=users,
        seed=seed,
        settings=artefacts.settings(),
        workdir=workdir,
    )


@pytest.fixture(scope="module")
def ab_run(artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory) -> tuple[Simulation, Path]:
    """An A/B experiment between EASE and popularity, 100 simulated users; the database copy kept."""
    workdir = tmp_path_factory.mktemp("simulate-ab")
    return _simulate(artefacts, "sim-ab", "ab", users=100, seed=3, workdir=workdir), workdir / "simulate.db"


def test_ab_traffic_goes_through_the_real_endpoints(ab_run: tuple[Simulation, Path], artefacts: Artefacts) -> None:
    result, copy = ab_run
    assert len(result.users) == 100 and len({u.user_id for u in result.users}) == 100
    # The experiment assigned each user, as in production.
    experiment = result.experiment
    assert all(u.variant == assign(experiment, u.user_id) for u in result.users)
    clicked = [u for u in result.users if u.position is not None]
    assert clicked and all(1 <= (u.position or 0) <= result.k and u.team is None for u in clicked)
    per_variant = {v["variant"]: v for v in result.online["per_variant"]}
    assert set(per_variant) == set(VARIANTS)
    assert sum(v["impressions"] for v in per_variant.values()) == 100
    assert sum(v["clicks"] for v in per_variant.values()) == len(clicked)
    # The rows the endpoints wrote, in the copy: one impression per user, one click event per hit.
    factory = make_session_factory(make_engine(f"sqlite:///{copy}"))
    with session_scope(factory) as session:
        impressions = session.execute(select(Impression)).scalars().all()
        assert len(impressions) == 100
        assert {i.experiment for i in impressions} == {"sim-ab"}
        assert all(i.request_id.startswith("simulate-3-") for i in impressions)
        events = session.execute(select(ImpressionEvent)).scalars().all()
        assert sorted((e.kind, e.movie_id, e.position) for e in events) == sorted(
            ("click", u.target, u.position) for u in clicked
        )
        # The leak guard: no simulated user's test film is in the history the API reads.
        for user in result.users:
            history = user_history(session, user.user_id).movie_ids
            assert user.target not in history and len(history) == user.history_size
    assert result.leak_guard["test_ratings_removed"] == 100 and result.leak_guard["history_size_mismatches"] == []
    assert all(u.served_history_size == u.history_size for u in result.users)
    # The product database was not written: no simulated impression, every test rating still there.
    product = make_session_factory(make_engine(artefacts.database_url))
    with session_scope(product) as session:
        assert session.execute(select(func.count()).where(Impression.experiment == "sim-ab")).scalar_one() == 0
        user = result.users[0]
        still = select(Rating.movie_id).where(Rating.user_id == user.user_id, Rating.movie_id == user.target)
        assert session.execute(still).scalar_one_or_none() == user.target


def test_checkpoints_and_the_offline_comparison(ab_run: tuple[Simulation, Path]) -> None:
    result, _ = ab_run
    assert [c["users"] for c in result.checkpoints] == [25, 50, 100] == checkpoints(100)
    assert result.offline is not None and result.offline["ranking"][0] == "ease"
    assert result.users_needed["offline_winner"] == "ease"
    table = result.table()
    assert "retrospective" in table and "not a sequential test" in table and "Offline report" in table


def test_interleaving_credits_ease_over_popularity(artefacts: Artefacts) -> None:
    """Every test user of the slice (300): EASE's films get clearly more clicks than popularity's, as offline."""
    result = _simulate(artefacts, "sim-interleaving", "interleaving", users=300, seed=0)
    interleaving = result.online["interleaving"]
    assert interleaving["wins"]["ease"] > 1.5 * interleaving["wins"]["popularity"]
    assert interleaving["p_value"] < 0.05
    assert result.online["decision"]["verdict"] == "better" and result.online["decision"]["winner"] == "ease"
    assert result.users_needed["agree"] == "yes" and result.users_needed["first_checkpoint"] is not None
    assert {u.variant for u in result.users} == {"interleaved"}
    assert {u.team for u in result.users if u.position is not None} == set(VARIANTS)


def test_the_same_seed_gives_the_same_output(artefacts: Artefacts, tmp_path: Path) -> None:
    """Two CLI runs with one seed write identical JSON and print identical tables; another seed samples others."""
    env = {"DATABASE_URL": artefacts.database_url}
    base = ["--params", str(artefacts.params_file), "simulate", "--experiment", "sim-repro", "--design"]
    outputs = []
    for run, seed in (("a", 5), ("b", 5), ("c", 6)):
        args = [*base, "interleaving", "--variants", *VARIANTS, "--users", "60", "--seed", str(seed)]
        result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / f"{run}.json")], env=env)
        assert result.exit_code == 0, result.output
        outputs.append((result.output.rsplit("simulate: ->", 1)[0], (tmp_path / f"{run}.json").read_text()))
    assert outputs[0] == outputs[1]
    assert outputs[0][1] != outputs[2][1]
    assert "Online report" in outputs[0][0] and "Checkpoints" in outputs[0][0]


def test_an_unknown_experiment_is_a_config_error(artefacts: Artefacts) -> None:
    with pytest.raises(ConfigError, match="no experiment 'nope'"):
        resolve_experiment(artefacts.params, "nope")
    with pytest.raises(ConfigError, match="two --variants"):
        resolve_experiment(artefacts.params, "x", design="ab")
    made, source = resolve_experiment(artefacts.params, "x", design="ab", variants=VARIANTS)
    assert (made.variants, made.horizon, source) == (VARIANTS, 1, "command line")

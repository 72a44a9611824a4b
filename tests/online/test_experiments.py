"""Online evaluation's pure parts: assignment, team-draft interleaving, credit, intervals and the decision."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, date, datetime

import pytest

from movie_genie.config import ConfigError, Params
from movie_genie.db.impressions import Outcome
from movie_genie.online.experiments import (
    INTERLEAVED,
    Experiment,
    assign,
    credit,
    load_experiments,
    newcombe,
    online_report,
    team_draft,
    wilson,
)

AB = Experiment(name="ease-vs-pop", design="ab", variants=("ease", "popularity"), horizon=100)
TEAMS = ("ease", "popularity")


def test_assignment_is_stable_and_balanced_over_10k_users() -> None:
    first = [assign(AB, u) for u in range(1, 10_001)]
    assert first == [assign(AB, u) for u in range(1, 10_001)]  # the same answer every time
    counts = Counter(first)
    assert set(counts) == {"ease", "popularity"}
    # Binomial(10k, 0.5): sd 50, so 300 off is 6 sd.
    assert abs(counts["ease"] - 5_000) < 300


def test_assignment_depends_on_the_experiment_and_honours_traffic_and_split() -> None:
    other = AB.model_copy(update={"name": "another"})
    same = sum(assign(AB, u) == assign(other, u) for u in range(1, 10_001))
    assert 4_700 < same < 5_300  # independent experiments: agreement by chance only
    quarter = AB.model_copy(update={"traffic": 0.25, "split": 0.8})
    counts = Counter(assign(quarter, u) for u in range(1, 10_001))
    assert abs(counts[None] - 7_500) < 300
    assert abs(counts["ease"] - 2_000) < 250
    interleaving = Experiment(name="x", design="interleaving", variants=TEAMS)
    assert {assign(interleaving, u) for u in range(1, 100)} == {INTERLEAVED}


def test_a_known_hash_pins_the_assignment() -> None:
    # sha256("ease-vs-pop:1") decides: a change to the hash would move every running experiment's users.
    digest = hashlib.sha256(b"ease-vs-pop:1").digest()
    arm = int.from_bytes(digest[8:16], "big") / 2**64
    assert assign(AB, 1) == ("ease" if arm < 0.5 else "popularity")


def test_team_draft_never_repeats_and_alternates_fairly() -> None:
    rng = random.Random(0)
    for _ in range(200):
        a = rng.sample(range(30), 20)
        b = rng.sample(range(30), 20)
        merged = team_draft(a, b, 20, TEAMS, rng)
        movies = [m for m, _ in merged]
        assert len(movies) == len(set(movies)) == 20
        picks = Counter(t for _, t in merged)
        # After every pair of picks the teams are even: never more than one pick apart at any prefix.
        for n in range(1, len(merged) + 1):
            prefix = Counter(t for _, t in merged[:n])
            assert abs(prefix[TEAMS[0]] - prefix[TEAMS[1]]) <= 1
        assert picks[TEAMS[0]] == picks[TEAMS[1]] == 10
        # Each team's films appear in that team's own order.
        for team, ranked in zip(TEAMS, (a, b), strict=True):
            mine = [m for m, t in merged if t == team]
            assert mine == sorted(mine, key=ranked.index)


def test_team_draft_coin_is_fair_and_a_short_list_leaves_the_rest_to_the_other() -> None:
    rng = random.Random(1)
    first = Counter(team_draft([1, 2], [3, 4], 2, TEAMS, rng)[0][1] for _ in range(2_000))
    assert abs(first[TEAMS[0]] - 1_000) < 150
    merged = team_draft([1], [2, 3, 4, 5], 10, TEAMS, random.Random(2))
    assert sorted(m for m, _ in merged) == [1, 2, 3, 4, 5]
    assert [t for m, t in merged if m in (3, 4, 5)] == [TEAMS[1]] * 3
    # The same film at the top of both lists is shown once, credited to the team that picked it.
    merged = team_draft([7, 8], [7, 9], 3, TEAMS, random.Random(3))
    assert [m for m, _ in merged].count(7) == 1


def test_credit_goes_to_the_team_with_more_clicks() -> None:
    assert credit(["ease", "ease", "popularity"], TEAMS) == "ease"
    assert credit(["popularity"], TEAMS) == "popularity"
    assert credit(["ease", "popularity"], TEAMS) is None
    assert credit([], TEAMS) is None


def test_wilson_interval() -> None:
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 20)
    assert low == 0.0 and 0 < high < 0.2


def test_the_ab_difference_interval_stays_honest_with_no_clicks() -> None:
    # 4 clicks in 27 against none in 23: the Wald interval [0.014, 0.282] would declare a winner on a zero
    # variance; Newcombe's interval, from both Wilson intervals, does not.
    difference = newcombe(0, 23, 4, 27)
    assert difference.value == pytest.approx(4 / 27)
    assert difference.low is not None and difference.high is not None
    assert difference.low < 0 < difference.high
    # Newcombe (1998), table II, example (e): 56/70 - 48/80 = 0.2, interval [0.0524, 0.3339].
    known = newcombe(48, 80, 56, 70)
    assert (known.low, known.high) == (pytest.approx(0.0524, abs=1e-4), pytest.approx(0.3339, abs=1e-4))


def _outcome(
    i: int, variant: str, first_click: int | None, rated: bool = False, teams: tuple[str, ...] = ()
) -> Outcome:
    return Outcome(f"{i:032x}", i, variant, first_click, 1 if first_click else 0, rated, teams)


def test_ab_report_figures_and_fixed_horizon_decision() -> None:
    rows = [_outcome(i, "ease", 1 if i % 2 else None, rated=i % 4 == 1) for i in range(200)]
    rows += [_outcome(1000 + i, "popularity", 2 if i % 10 == 0 else None) for i in range(200)]
    report = online_report(AB, rows)
    ease, pop = report.per_variant
    assert (ease.variant, ease.impressions, ease.clicked_impressions) == ("ease", 200, 100)
    assert ease.ctr.value == 0.5 and ease.rating_rate.value == 0.25
    assert ease.mrr.value == pytest.approx(0.5)
    assert pop.ctr.value == pytest.approx(0.1) and pop.mrr.value == pytest.approx(0.05)
    assert ease.ctr.low is not None and ease.ctr.low < 0.5 < (ease.ctr.high or 0)
    assert report.decision.horizon_reached and report.decision.verdict == "better"
    assert report.decision.winner == "ease" and "Fixed horizon" in report.decision.rule
    # Before the horizon nothing is declared, however large the gap.
    early = online_report(AB.model_copy(update={"horizon": 500}), rows)
    assert early.decision.verdict == "not yet decidable" and early.decision.winner is None


def test_interleaving_report_counts_wins_and_tests_them() -> None:
    experiment = Experiment(name="il", design="interleaving", variants=TEAMS, horizon=50)
    rows = [_outcome(i, INTERLEAVED, 1, teams=("ease",)) for i in range(45)]
    rows += [_outcome(100 + i, INTERLEAVED, 2, teams=("popularity",)) for i in range(15)]
    rows += [_outcome(200 + i, INTERLEAVED, 1, teams=("ease", "popularity")) for i in range(5)]
    rows += [_outcome(300 + i, INTERLEAVED, None) for i in range(10)]
    report = online_report(experiment, rows)
    assert report.interleaving is not None
    assert report.interleaving.wins == {"ease": 45, "popularity": 15}
    assert (report.interleaving.ties, report.interleaving.no_clicks) == (5, 10)
    assert report.interleaving.share_first.value == pytest.approx(0.75)
    assert report.interleaving.p_value is not None and report.interleaving.p_value < 0.001
    assert report.decision.verdict == "better" and report.decision.winner == "ease"


def test_experiments_from_params_are_validated() -> None:
    params = Params.model_validate(
        {"experiments": [{"name": "a", "design": "ab", "variants": ["ease", "popularity"], "stop": "2020-01-01"}]}
    )
    (experiment,) = load_experiments(params)
    assert not experiment.active(datetime(2021, 1, 1, tzinfo=UTC))
    assert experiment.active(datetime(2019, 12, 31, tzinfo=UTC))
    assert experiment.stop == date(2020, 1, 1)
    assert load_experiments(Params.model_validate({})) == ()
    for bad in (
        {"name": "a", "design": "ab", "variants": ["ease", "nope"]},
        {"name": "a", "design": "ab", "variants": ["ease", "ease"]},
        {"name": "a", "design": "split", "variants": ["ease", "popularity"]},
    ):
        with pytest.raises(ConfigError):
            load_experiments(Params.model_validate({"experiments": [bad]}))

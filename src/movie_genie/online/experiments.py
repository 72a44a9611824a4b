"""Online evaluation: experiments (defined in params.yaml), who sees which variant, team-draft interleaving, and
the report of what users did with the lists they were shown (impressions, db/impressions.py).

    experiments = load_experiments(params)                  # params.yaml `experiments:` list
    variant = assign(experiment, user_id)                   # stable: sha256 of experiment name and user id
    merged = team_draft(list_a, list_b, k, teams, seed)     # [(movie_id, team), ...]
    report = online_report(experiment, outcomes)            # per variant: CTR, rating rate, MRR, 95% intervals

Everything here is pure: the API reads the rows and serves the lists.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from movie_genie.config import ConfigError, Params
from movie_genie.db.impressions import Outcome
from movie_genie.models.catalogue import MODEL_NAMES

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval
Design = Literal["ab", "interleaving"]
# The one arm of an interleaving experiment: every enrolled user sees both rankers' films in one list.
INTERLEAVED = "interleaved"


class Experiment(BaseModel):
    """One experiment on GET /api/recommendations (when the request names no model).

    `ab`: each enrolled user sees one variant's list. `interleaving`: each enrolled user sees both rankers' lists
    merged by team draft, and a click credits the ranker that contributed the film. `traffic` is the share of users
    enrolled (the rest see the default model); `split` the share of enrolled users on the first variant (A/B).
    `horizon`: impressions per variant (A/B) or interleaved impressions with a preference, after which the report
    decides (fixed horizon: read once, not while peeking).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    design: Design
    # Each a model name (the version it serves) or name@version (a retrained challenger; `movie-genie retrain`).
    variants: tuple[str, str]
    traffic: float = Field(default=1.0, gt=0.0, le=1.0)
    split: float = Field(default=0.5, gt=0.0, lt=1.0)
    start: date | None = None
    stop: date | None = None
    horizon: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        unknown = [v for v in self.variants if v.partition("@")[0] not in MODEL_NAMES]
        if unknown:
            raise ValueError(
                f"unknown model(s) {unknown}: a variant is a model name ({', '.join(MODEL_NAMES)}), or a model at a "
                "version, e.g. ease@v20261130-081502 (`movie-genie models list`)"
            )
        if self.variants[0] == self.variants[1]:
            raise ValueError("the two variants must be different models")
        if self.start and self.stop and self.stop <= self.start:
            raise ValueError("stop must be after start")
        return self

    def active(self, now: datetime | None = None) -> bool:
        """Whether the experiment runs at `now` (UTC): from `start` (inclusive) to `stop` (exclusive)."""
        today = (now or datetime.now(UTC)).date()
        return (self.start is None or today >= self.start) and (self.stop is None or today < self.stop)


def load_experiments(params: Params) -> tuple[Experiment, ...]:
    """The `experiments:` list of params.yaml (empty when absent); ConfigError names the bad entry."""
    raw = (params.model_extra or {}).get("experiments") or []
    if not isinstance(raw, list):
        raise ConfigError("params.yaml: `experiments` must be a list of experiments")
    try:
        experiments = tuple(Experiment.model_validate(entry) for entry in raw)
    except ValidationError as exc:
        raise ConfigError(f"params.yaml: invalid `experiments` entry:\n{exc}") from exc
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ConfigError(f"params.yaml: experiment names must be unique, got {names}")
    return experiments


def _uniforms(experiment: str, user_id: int) -> tuple[float, float]:
    """Two independent numbers in [0, 1) from sha256("<experiment>:<user id>"): enrolment and variant."""
    digest = hashlib.sha256(f"{experiment}:{int(user_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:16], "big") / 2**64


def assign(experiment: Experiment, user_id: int) -> str | None:
    """The variant the user is in (None: not enrolled). Stable: the same user gets the same answer in every worker
    and every run, and another experiment's assignment is independent of this one. For interleaving, an enrolled
    user's variant is the experiment's one arm, "interleaved"."""
    enrol, arm = _uniforms(experiment.name, user_id)
    if enrol >= experiment.traffic:
        return None
    if experiment.design == "interleaving":
        return INTERLEAVED
    return experiment.variants[0] if arm < experiment.split else experiment.variants[1]


def team_draft(
    a: Sequence[int], b: Sequence[int], k: int, teams: tuple[str, str], rng: random.Random
) -> list[tuple[int, str]]:
    """Team-draft interleaving (Radlinski, Kurup and Joachims 2008): the team with fewer picks so far (a coin flip
    when even) adds its highest-ranked film not yet in the list; returns up to k (movie id, team) pairs, no film
    twice. A team whose list is used up leaves the rest to the other."""
    merged: list[tuple[int, str]] = []
    seen: set[int] = set()
    lists = (list(a), list(b))
    cursor = [0, 0]
    picks = [0, 0]

    def next_of(side: int) -> int | None:
        ranked = lists[side]
        while cursor[side] < len(ranked) and ranked[cursor[side]] in seen:
            cursor[side] += 1
        return ranked[cursor[side]] if cursor[side] < len(ranked) else None

    while len(merged) < k:
        candidates = (next_of(0), next_of(1))
        if candidates[0] is None and candidates[1] is None:
            break
        side = 0 if picks[0] < picks[1] or (picks[0] == picks[1] and rng.random() < 0.5) else 1
        if candidates[side] is None:
            side = 1 - side
        movie = candidates[side]
        assert movie is not None
        merged.append((movie, teams[side]))
        seen.add(movie)
        picks[side] += 1
    return merged


def credit(clicked_teams: Sequence[str], teams: tuple[str, str]) -> str | None:
    """The team an interleaved impression credits: the one whose films got more clicks (None: a tie or no click)."""
    counts = Counter(t for t in clicked_teams if t in teams)
    if counts[teams[0]] == counts[teams[1]]:
        return None
    return teams[0] if counts[teams[0]] > counts[teams[1]] else teams[1]


def wilson(successes: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


class Estimate(BaseModel):
    """A figure with its 95% interval."""

    value: float | None = Field(description="null when there is nothing to estimate from")
    low: float | None = None
    high: float | None = None


class VariantReport(BaseModel):
    """What users did with one variant's lists."""

    variant: str
    users: int
    impressions: int
    clicked_impressions: int = Field(description="impressions with at least one click")
    clicks: int
    ctr: Estimate = Field(description="clicked impressions / impressions (Wilson interval)")
    rating_rate: Estimate = Field(description="impressions after which a film of the list was rated (Wilson)")
    mrr: Estimate = Field(description="mean over impressions of 1 / position of the first click (0: none; normal)")


class InterleavingReport(BaseModel):
    """Credit per interleaved impression: the ranker whose films got more clicks wins it."""

    teams: list[str]  # a list, not a tuple: the web app's typed client reads it as string[]
    wins: dict[str, int]
    ties: int = Field(description="interleaved impressions with clicks but no preference")
    no_clicks: int
    share_first: Estimate = Field(description="wins of the first ranker / impressions with a preference (Wilson)")
    p_value: float | None = Field(description="two-sided exact binomial test of share_first = 0.5")


class Decision(BaseModel):
    """The fixed-horizon decision, with the rule it applies."""

    rule: str
    horizon_reached: bool
    verdict: Literal["not yet decidable", "no difference", "better"]
    winner: str | None = None
    difference: Estimate | None = Field(default=None, description="A/B: CTR of the second minus the first variant")


class OnlineReport(BaseModel):
    """The online report of one experiment."""

    experiment: str
    design: Design
    variants: list[str]  # a list, not a tuple: the web app's typed client reads it as string[]
    active: bool
    start: date | None
    stop: date | None
    per_variant: list[VariantReport]
    interleaving: InterleavingReport | None = None
    decision: Decision
    notes: list[str]


def _variant_report(variant: str, outcomes: Sequence[Outcome]) -> VariantReport:
    n = len(outcomes)
    clicked = sum(1 for o in outcomes if o.clicks)
    rated = sum(1 for o in outcomes if o.rated)
    reciprocal = [1.0 / o.first_click if o.first_click else 0.0 for o in outcomes]
    mrr = Estimate(value=None)
    if n:
        mean = sum(reciprocal) / n
        sd = math.sqrt(sum((r - mean) ** 2 for r in reciprocal) / (n - 1)) if n > 1 else 0.0
        half = Z95 * sd / math.sqrt(n)
        mrr = Estimate(value=mean, low=max(0.0, mean - half), high=min(1.0, mean + half))

    def proportion(k: int) -> Estimate:
        low, high = wilson(k, n)
        return Estimate(value=k / n if n else None, low=low if n else None, high=high if n else None)

    return VariantReport(
        variant=variant,
        users=len({o.user_id for o in outcomes}),
        impressions=n,
        clicked_impressions=clicked,
        clicks=sum(o.clicks for o in outcomes),
        ctr=proportion(clicked),
        rating_rate=proportion(rated),
        mrr=mrr,
    )


def newcombe(k1: int, n1: int, k2: int, n2: int) -> Estimate:
    """p2 - p1 with Newcombe's hybrid score 95% interval (method 10 of Newcombe 1998), made from each proportion's
    Wilson interval. The Wald interval collapses when a proportion is 0 or 1 (zero variance): with 0 clicks in 23
    against 4 in 27 it would declare a winner; this one does not."""
    p1, p2 = k1 / n1, k2 / n2
    low1, high1 = wilson(k1, n1)
    low2, high2 = wilson(k2, n2)
    return Estimate(
        value=p2 - p1,
        low=p2 - p1 - math.sqrt((p2 - low2) ** 2 + (high1 - p1) ** 2),
        high=p2 - p1 + math.sqrt((high2 - p2) ** 2 + (p1 - low1) ** 2),
    )


def _ab_decision(experiment: Experiment, per_variant: list[VariantReport]) -> Decision:
    first, second = per_variant
    rule = (
        f"Fixed horizon: read once both variants have {experiment.horizon} impressions (or more). Then the second "
        "variant's click-through minus the first's gets a 95% Newcombe interval (built from each variant's Wilson "
        "interval, so it stays valid with few or no clicks); an interval wholly above 0 declares "
        "the second better, wholly below 0 the first, otherwise no difference. Before the horizon nothing is "
        "declared, whatever the interim figures say (reading them early and stopping on them is not valid)."
    )
    reached = min(first.impressions, second.impressions) >= experiment.horizon
    if not reached or first.ctr.value is None or second.ctr.value is None:
        return Decision(rule=rule, horizon_reached=reached, verdict="not yet decidable")
    difference = newcombe(first.clicked_impressions, first.impressions, second.clicked_impressions, second.impressions)
    assert difference.low is not None and difference.high is not None
    if difference.low > 0:
        return Decision(rule=rule, horizon_reached=True, verdict="better", winner=second.variant, difference=difference)
    if difference.high < 0:
        return Decision(rule=rule, horizon_reached=True, verdict="better", winner=first.variant, difference=difference)
    return Decision(rule=rule, horizon_reached=True, verdict="no difference", difference=difference)


def _interleaving(experiment: Experiment, outcomes: Sequence[Outcome]) -> tuple[InterleavingReport, Decision]:
    teams = experiment.variants
    winners = [credit(o.clicked_teams, teams) for o in outcomes if o.clicks]
    wins = {t: sum(1 for w in winners if w == t) for t in teams}
    decided = wins[teams[0]] + wins[teams[1]]
    low, high = wilson(wins[teams[0]], decided)
    p_value = float(stats.binomtest(wins[teams[0]], decided, 0.5).pvalue) if decided else None
    report = InterleavingReport(
        teams=list(teams),
        wins=wins,
        ties=len(winners) - decided,
        no_clicks=len(outcomes) - len(winners),
        share_first=Estimate(value=wins[teams[0]] / decided if decided else None, low=low, high=high),
        p_value=p_value,
    )
    rule = (
        f"Fixed horizon: read once {experiment.horizon} interleaved impressions have a preference (one ranker's "
        "films got more clicks). Then a two-sided exact binomial test of the first ranker's share of wins against "
        "0.5: p < 0.05 declares the ranker with more wins better, otherwise no difference. Before the horizon "
        "nothing is declared."
    )
    if decided < experiment.horizon or p_value is None:
        return report, Decision(rule=rule, horizon_reached=False, verdict="not yet decidable")
    if p_value < 0.05:
        winner = teams[0] if wins[teams[0]] > wins[teams[1]] else teams[1]
        return report, Decision(rule=rule, horizon_reached=True, verdict="better", winner=winner)
    return report, Decision(rule=rule, horizon_reached=True, verdict="no difference")


def online_report(experiment: Experiment, outcomes: Sequence[Outcome], now: datetime | None = None) -> OnlineReport:
    """Per variant: impressions, click-through, rating-after-impression and MRR of clicks with 95% intervals; for
    interleaving the credit per impression and a binomial test; the fixed-horizon decision and its rule."""
    notes = [
        "Intervals treat impressions as independent; impressions of one user are correlated, so the intervals "
        "are somewhat too narrow when users see many lists.",
        "A click is an opened film card (POST /api/impressions/{id}/clicks); a rating counts for the impression "
        "that showed the film (the one named by the request, else the user's newest one that showed it).",
    ]
    interleaving: InterleavingReport | None = None
    if experiment.design == "ab":
        per_variant = [_variant_report(v, [o for o in outcomes if o.variant == v]) for v in experiment.variants]
        decision = _ab_decision(experiment, per_variant)
    else:
        per_variant = [_variant_report(INTERLEAVED, [o for o in outcomes if o.variant == INTERLEAVED])]
        interleaving, decision = _interleaving(experiment, [o for o in outcomes if o.variant == INTERLEAVED])
    return OnlineReport(
        experiment=experiment.name,
        design=experiment.design,
        variants=list(experiment.variants),
        active=experiment.active(now),
        start=experiment.start,
        stop=experiment.stop,
        per_variant=per_variant,
        interleaving=interleaving,
        decision=decision,
        notes=notes,
    )

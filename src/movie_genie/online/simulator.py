"""The simulator (`movie-genie simulate`): held-out interactions replayed as traffic through the real API, so that an
experiment's online report can be compared with the offline report, and each design's sample size seen.

    result = simulate(params, "ease-vs-popularity", AppHarness, users=300, seed=0)   # a params.yaml experiment
    result = simulate(params, "sim", AppHarness, design="interleaving", variants=("ease", "popularity"))
    print(result.table())

What a run does, in order:

1. The database the settings name (DATABASE_URL, default data/movie_genie.db) is COPIED into a scratch folder: the
   simulation never writes to the product database. Only SQLite is supported (a PostgreSQL database would have to
   be copied by its owner; load a SQLite one with `DATABASE_URL=sqlite:///... movie-genie db load`).
2. Simulated users: a seeded sample of the users who have a test target in data/split and whom the experiment
   enrols (its `traffic`; the others would see the default model and never count). Each user's history is their
   train and valid rows, the target their test row.
3. The leak guard, on the copy: the database holds every rating of the data set, the test one included, and the
   API reads a user's history from the database. For each simulated user the copy keeps only the ratings of their
   train and valid rows (the test rating is deleted) and none of their app feedback; the impressions tables start
   empty. Every answer's `meta.history_size` is then checked against its train + valid rows that are not dislikes.
4. The real app (`create_app`, every model and index loaded as `movie-genie serve` loads them) on the copy, with
   the one experiment active (start and stop dates dropped), no rate limit, no Redis. Each user, in the sampled
   order, calls GET /api/recommendations?user_id=U&k=K with no model named, exactly as the web app does, so the
   experiment assigns the variant (A/B) or interleaves both rankers; when the target is in the served list, the
   user clicks it: POST /api/impressions/{id}/clicks. Team draft's coin is seeded, so a run is reproducible.
5. GET /api/experiments/{name}/report: the online report as the API gives it. Next to it, the offline report's
   figures of the two models (artifacts/report/report.json), and the fixed-horizon rule applied at checkpoints
   (25, 50, 100, 200, ... users) to the first users only: the smallest checkpoint at which it names the offline
   winner. That is a retrospective look at a few checkpoints of one run, not a sequential test: stopping a real
   experiment at the first checkpoint that "wins" inflates the false-positive rate.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from flask.testing import FlaskClient
from sqlalchemy import select

from movie_genie.config import ConfigError, Layout, Params, Settings
from movie_genie.data.liking import split_by_liking
from movie_genie.db.engine import make_engine
from movie_genie.db.impressions import Outcome
from movie_genie.db.models import User
from movie_genie.errors import ArtifactMissingError, DataError, MovieGenieError
from movie_genie.evaluation.schema import REPORT_FILE, EvaluationReport
from movie_genie.online.experiments import Experiment, OnlineReport, assign, load_experiments, online_report
from movie_genie.online.simulation_db import copy_database, guard_leaks, migrate_copy, sqlite_path


class AppUnderTest(Protocol):
    """What a simulation needs of the real app: its test client and the few services it seeds, settles or reads.
    The API implements it (api/harness.py); this package never imports the API, which sits above it."""

    def client(self) -> AbstractContextManager[FlaskClient]: ...

    def unavailable(self, names: Sequence[str]) -> str | None:
        """Why some of `names` are not loaded ("model: reason; ..."), or None when all are."""

    def seed_interleaving(self, seed: int) -> None:
        """Seed team draft's coin, so that a run is reproducible."""

    def settle(self) -> None:
        """Write every buffered impression, as a worker's next flush does."""

    def outcomes(self, experiment: str) -> list[Outcome]:
        """The experiment's outcomes as the impressions tables hold them."""

    def close(self) -> None:
        """Release the app's writer and database connections."""


AppFactory = Callable[[Settings, Params], AppUnderTest]

FIRST_CHECKPOINT = 25
# A simulated user's request id: the impressions rows say which traffic was simulated.
REQUEST_ID = "simulate-{seed}-{index}"


def checkpoints(users: int) -> list[int]:
    """25, 50, 100, 200, ... below `users`, then `users` itself."""
    points, n = [], FIRST_CHECKPOINT
    while n < users:
        points.append(n)
        n *= 2
    return [*points, users]


def resolve_experiment(
    params: Params,
    name: str,
    design: str | None = None,
    variants: Sequence[str] | None = None,
    horizon: int | None = None,
) -> tuple[Experiment, str]:
    """The experiment to simulate and where it came from: params.yaml's `experiments` entry `name`, or (with
    `design` and `variants`) one defined here, enrolling everyone, half on each variant for A/B. An experiment
    defined here is read once at the end of the simulation: its horizon is 1 unless given, so the report decides
    on all the simulated traffic."""
    defined = {e.name: e for e in load_experiments(params)}
    if design is None and variants is None:
        if name not in defined:
            known = ", ".join(defined) or "none are defined"
            raise ConfigError(
                f"no experiment {name!r} in params.yaml `experiments` ({known}): add one, or define it for the "
                "simulation with --design ab|interleaving --variants MODEL_A MODEL_B"
            )
        found = defined[name]
        return (found.model_copy(update={"horizon": horizon}) if horizon else found), "params.yaml"
    if name in defined:
        raise ConfigError(f"experiment {name!r} is defined in params.yaml: drop --design/--variants to simulate it")
    if design is None or variants is None or len(variants) != 2:
        raise ConfigError("an experiment defined for the simulation needs --design and two --variants")
    try:
        made = Experiment(name=name, design=design, variants=tuple(variants), horizon=horizon or 1)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"invalid experiment for the simulation:\n{exc}") from exc
    return made, "command line"


@dataclass(frozen=True)
class SimulatedUser:
    """One simulated user: their held-out target, what they were served and whether they clicked it."""

    user_id: int
    target: int
    history_size: int  # train + valid rows that are interactions (not dislikes)
    served_history_size: int  # meta.history_size of the answer: what the API read from the database
    variant: str
    position: int | None  # of the target in the served list (None: not shown, no click)
    team: str | None  # interleaving: the ranker that contributed the clicked target


@dataclass
class Simulation:
    """A finished simulation: what was run, the online report, the offline figures and the checkpoints."""

    experiment: Experiment
    source: str
    seed: int
    k: int
    requested_users: int
    database: str
    leak_guard: dict[str, Any]
    users: list[SimulatedUser]
    online: dict[str, Any]  # GET /api/experiments/{name}/report, `data`
    offline: dict[str, Any] | None
    checkpoints: list[dict[str, Any]]
    users_needed: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON written to artifacts/simulate/<experiment>.json (nothing in it depends on the clock)."""
        return {
            "experiment": self.experiment.model_dump(mode="json"),
            "experiment_source": self.source,
            "seed": self.seed,
            "k": self.k,
            "requested_users": self.requested_users,
            "simulated_users": len(self.users),
            "database": self.database,
            "leak_guard": self.leak_guard,
            "online": self.online,
            "offline": self.offline,
            "checkpoints": self.checkpoints,
            "users_needed": self.users_needed,
            "notes": self.notes,
            "users": [asdict(u) for u in self.users],
        }

    def write(self, path: Path) -> None:
        """Write the JSON (indented, keys in a fixed order)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    def table(self) -> str:
        """The printed summary."""
        e = self.experiment
        lines = [
            f"Simulated experiment {e.name} ({e.design}: {e.variants[0]} vs {e.variants[1]}; from {self.source}), "
            f"{len(self.users)} users, seed {self.seed}, k {self.k}",
            f"Database: {self.database}",
            f"Leak guard: {self.leak_guard['summary']}",
            "",
            f"Online report (GET /api/experiments/{e.name}/report)",
            f"  {'variant':<14}{'users':>7}{'impressions':>13}{'clicks':>8}{'CTR':>8}  95% interval     MRR",
        ]
        for v in self.online["per_variant"]:
            ctr, mrr = v["ctr"], v["mrr"]
            lines.append(
                f"  {v['variant']:<14}{v['users']:>7}{v['impressions']:>13}{v['clicks']:>8}{_f(ctr['value']):>8}  "
                f"[{_f(ctr['low'])}, {_f(ctr['high'])}]   {_f(mrr['value'])}"
            )
        leaving = self.online.get("interleaving")
        if leaving:
            a, b = leaving["teams"]
            share = leaving["share_first"]
            lines.append(
                f"  wins: {a} {leaving['wins'][a]}, {b} {leaving['wins'][b]}, ties {leaving['ties']}, "
                f"no click {leaving['no_clicks']}; {a}'s share {_f(share['value'])} "
                f"[{_f(share['low'])}, {_f(share['high'])}], p = {_p(leaving['p_value'])}"
            )
        decision = self.online["decision"]
        diff = decision.get("difference")
        lines.append(
            f"  decision (horizon {e.horizon}): {decision['verdict']}"
            + (f": {decision['winner']}" if decision.get("winner") else "")
            + (
                f"; CTR {e.variants[1]} - {e.variants[0]} = {_f(diff['value'])} [{_f(diff['low'])}, {_f(diff['high'])}]"
                if diff
                else ""
            )
        )
        lines.append("")
        if self.offline is None:
            lines.append("Offline report: none (run `movie-genie evaluate`)")
        else:
            off = self.offline
            lines.append(f"Offline report ({off['path']}, test split, {off['n_users']} users, full ranking)")
            lines.append(f"  {'model':<14}{'HR@10':>7}  95% interval    {'NDCG@10':>7}  95% interval")
            for name in e.variants:
                m = off["models"].get(name)
                if m is None:
                    lines.append(f"  {name:<14}  not in the report")
                    continue
                lines.append(
                    f"  {name:<14}{_f(m['hr10']):>7}  [{_f(m['ci_hr10'][0])}, {_f(m['ci_hr10'][1])}]  "
                    f"{_f(m['ndcg10']):>7}  [{_f(m['ci_ndcg10'][0])}, {_f(m['ci_ndcg10'][1])}]"
                )
            if off.get("paired"):
                lines.append(f"  paired: {off['paired']}")
            lines.append(f"  offline ranking (NDCG@10): {' > '.join(off['ranking'])}")
        lines.append("")
        lines.append(
            "Checkpoints: the fixed-horizon rule applied to the first N users only, as if the horizon had been set "
            "there (retrospective, one run; not a sequential test)"
        )
        for c in self.checkpoints:
            lines.append(f"  {c['users']:>6} users  {c['summary']:<52} {c['verdict']}")
        needed = self.users_needed
        lines.append(f"Users needed to name the offline winner ({needed['offline_winner']}): {needed['summary']}")
        lines.append(f"Online and offline agree: {needed['agree']}")
        return "\n".join(lines)


def simulate(
    params: Params,
    name: str,
    app_factory: AppFactory,
    *,
    users: int = 200,
    seed: int = 0,
    k: int = 10,
    design: str | None = None,
    variants: Sequence[str] | None = None,
    horizon: int | None = None,
    settings: Settings | None = None,
    workdir: Path | None = None,
) -> Simulation:
    """Run the simulation (see the module docstring) on the app `app_factory` builds (api.harness.AppHarness);
    `settings` name the database to copy (default: the environment's), `workdir` keeps the copy (default: a
    temporary folder, deleted afterwards)."""
    if users < 1:
        raise ConfigError("--users must be at least 1")
    experiment, source = resolve_experiment(params, name, design, variants, horizon)
    layout = Layout.from_params(params)
    settings = settings or Settings.from_env(layout.data_dir)
    histories, targets, history_sizes = _read_split(layout)
    with tempfile.TemporaryDirectory(prefix="movie-genie-simulate-") as scratch:
        folder = workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        source_path = sqlite_path(settings.database_url)
        copy = folder / "simulate.db"
        copy_database(source_path, copy)
        migrated = migrate_copy(copy)
        sample = _sample_users(copy, experiment, targets, users, seed)
        guard = guard_leaks(copy, sample, histories, targets)
        app_params = _simulation_params(params, experiment)
        app_settings = Settings(database_url=f"sqlite:///{copy}", redis_url=None, tmdb_api_key=None, cors_origins=())
        app = app_factory(app_settings, app_params)
        try:
            why = app.unavailable(experiment.variants)
            if why:
                raise ArtifactMissingError(f"the experiment's models must both be loaded ({why})")
            app.seed_interleaving(seed)
            with app.client() as client:
                simulated = [
                    _visit(
                        client, experiment, u, targets[u], history_sizes[u], k, REQUEST_ID.format(seed=seed, index=i)
                    )
                    for i, u in enumerate(sample)
                ]
                app.settle()  # what a worker's next flush does; the report reads the table
                online = _ok(client.get(f"/api/experiments/{experiment.name}/report"))["data"]
            outcomes = app.outcomes(experiment.name)
        finally:
            app.close()
    mismatched = [u.user_id for u in simulated if u.served_history_size != u.history_size]
    guard["history_size_mismatches"] = mismatched
    guard["summary"] += (
        "; every answer's meta.history_size equals the user's train + valid interactions"
        if not mismatched
        else f"; {len(mismatched)} answers read another history size than train + valid (users {mismatched[:5]})"
    )
    offline = _offline(layout, experiment)
    points = _checkpoints(experiment, sample, outcomes)
    needed = _users_needed(experiment, points, offline, online)
    where = f"a copy of {source_path} in {folder if workdir else 'a temporary folder (deleted afterwards)'}"
    if migrated:
        where += f" (the copy migrated from revision {migrated} to the current schema)"
    return Simulation(
        experiment=experiment,
        source=source,
        seed=seed,
        k=k,
        requested_users=users,
        database=f"{where}; the product database is not written",
        leak_guard=guard,
        users=simulated,
        online=online,
        offline=offline,
        checkpoints=points,
        users_needed=needed,
        notes=[
            "One request per simulated user; a click when the user's held-out test film is in the served list, "
            "so click-through is the hit rate at k of the list the experiment served.",
            "Checkpoints apply the fixed-horizon rule to the first N simulated users as if the horizon had been set "
            "at N: a retrospective look at a few points of one run, not a sequential test.",
            "The API's models see the newest serving.history_limit interactions of the history; the offline "
            "protocol may see more.",
        ]
        + (
            [f"Only {len(sample)} users have a test target and are enrolled (asked for {users})."]
            if len(sample) < users
            else []
        ),
    )


# --- the steps --------------------------------------------------------------------------------------------------


def _read_split(layout: Layout) -> tuple[dict[int, set[int]], dict[int, int], dict[int, int]]:
    """Per user with a test row: the films of their train and valid rows, their test film, and how many of those
    rows are interactions (model input: dislikes are not, data.liking)."""
    frames = {}
    for part in ("train", "valid", "test"):
        path = layout.split_dir / f"{part}.parquet"
        if not path.is_file():
            raise ArtifactMissingError(f"no {path}: run `movie-genie split` (the simulator replays its test rows)")
        frames[part] = pd.read_parquet(path, columns=["user_id", "movie_id", "rating"])
    targets = {int(u): int(m) for u, m in zip(frames["test"]["user_id"], frames["test"]["movie_id"], strict=True)}
    known = pd.concat([frames["train"], frames["valid"]])
    known = known[known["user_id"].isin(list(targets))]
    histories: dict[int, set[int]] = {u: set() for u in targets}
    for u, m in zip(known["user_id"], known["movie_id"], strict=True):
        histories[int(u)].add(int(m))
    interactions, _ = split_by_liking(known)
    counts = interactions["user_id"].value_counts()
    sizes = {u: int(counts.get(u, 0)) for u in targets}
    return histories, targets, sizes


def _sample_users(copy: Path, experiment: Experiment, targets: dict[int, int], n: int, seed: int) -> list[int]:
    """A seeded sample (in visiting order) of the users with a test target, in the database and enrolled."""
    engine = make_engine(f"sqlite:///{copy}")
    try:
        with engine.connect() as connection:
            in_database = set(connection.execute(select(User.user_id)).scalars())
    finally:
        engine.dispose()
    candidates = sorted(u for u in targets if u in in_database and assign(experiment, u) is not None)
    if not candidates:
        raise DataError(
            "no user with a test target is in the database and enrolled by the experiment: run `movie-genie db "
            "load` on this split, or raise the experiment's traffic"
        )
    return random.Random(seed).sample(candidates, min(n, len(candidates)))


def _simulation_params(params: Params, experiment: Experiment) -> Params:
    """The params the simulated server runs with: this experiment only (always running), impressions logged, no
    rate limit (one client sends all the traffic)."""
    raw = params.model_dump(mode="json")
    running = experiment.model_copy(update={"start": None, "stop": None})
    raw["experiments"] = [running.model_dump(mode="json")]
    raw["serving"] = {**(raw.get("serving") or {}), "rate_limit": None, "log_impressions": True}
    return Params.model_validate(raw)


def _ok(response: Any, status: int = 200) -> Any:
    if response.status_code != status:
        raise MovieGenieError(
            f"{response.request.method} {response.request.path} answered {response.status_code}: "
            f"{response.get_data(as_text=True)[:300]}"
        )
    return response.get_json()


def _visit(
    client: FlaskClient, experiment: Experiment, user: int, target: int, history_size: int, k: int, request_id: str
) -> SimulatedUser:
    """One simulated user: ask for a list as the web app does, click the target when it is shown."""
    headers = {"X-Request-Id": request_id}
    body = _ok(client.get(f"/api/recommendations?user_id={user}&k={k}", headers=headers))
    meta = body["meta"]
    if meta.get("experiment") != experiment.name:
        raise MovieGenieError(f"user {user} was not served by experiment {experiment.name} (meta: {meta})")
    served = [item["movie"]["movie_id"] for item in body["data"]["items"]]
    position, team = None, None
    if target in served:
        click = _ok(
            client.post(f"/api/impressions/{meta['impression_id']}/clicks", json={"movie_id": target}, headers=headers),
            201,
        )["data"]
        position, team = click["position"], click["team"]
    return SimulatedUser(user, target, history_size, int(meta["history_size"]), meta["variant"], position, team)


def _offline(layout: Layout, experiment: Experiment) -> dict[str, Any] | None:
    path = layout.report_dir / REPORT_FILE
    try:
        report = EvaluationReport.read(path)
    except MovieGenieError:
        return None
    models: dict[str, Any] = {}
    for name in experiment.variants:
        entry = report.models.get(name)
        if entry is None:
            continue
        test = entry.test
        models[name] = {
            "hr10": test.hr10,
            "ndcg10": test.ndcg10,
            "ci_hr10": test.ci.get("hr10", [None, None]),
            "ci_ndcg10": test.ci.get("ndcg10", [None, None]),
        }
    ranking = sorted(models, key=lambda m: -models[m]["ndcg10"])
    paired = None
    a, b = experiment.variants
    for name, other in ((a, b), (b, a)):
        entry = report.models.get(name)
        if entry is not None and entry.vs_ease is not None and other == report.baseline:
            d = entry.vs_ease
            paired = f"NDCG@10 {name} - {other} = {_f(d.difference)} [{_f(d.ci[0])}, {_f(d.ci[1])}] (paired bootstrap)"
    return {
        "path": str(path),
        "n_users": report.n_users.get("test"),
        "models": models,
        "ranking": ranking,
        "winner": ranking[0] if len(ranking) == 2 else None,
        "paired": paired,
    }


def _summary(experiment: Experiment, report: OnlineReport) -> tuple[str, str | None]:
    """A checkpoint's figures in one line, and the statistic (p value or difference interval)."""
    if report.design == "ab":
        parts = [f"{v.variant} {_f(v.ctr.value)} ({v.clicked_impressions}/{v.impressions})" for v in report.per_variant]
        d = report.decision.difference
        stat = f"diff [{_f(d.low)}, {_f(d.high)}]" if d else None
        return "CTR " + ", ".join(parts), stat
    leaving = report.interleaving
    assert leaving is not None
    a, b = leaving.teams
    return f"wins {a} {leaving.wins[a]} : {b} {leaving.wins[b]}", f"p = {_p(leaving.p_value)}"


def _checkpoints(experiment: Experiment, sample: list[int], outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """The fixed-horizon rule on the first N users' impressions, as if the horizon had been reached at N."""
    by_user: dict[int, list[Outcome]] = {}
    for o in outcomes:
        by_user.setdefault(o.user_id, []).append(o)
    at_checkpoint = experiment.model_copy(update={"horizon": 1})
    points = []
    for n in checkpoints(len(sample)):
        first = [o for u in sample[:n] for o in by_user.get(u, [])]
        report = online_report(at_checkpoint, first)
        summary, stat = _summary(experiment, report)
        d = report.decision
        verdict = d.verdict + (f": {d.winner}" if d.winner else "") + (f" ({stat})" if stat else "")
        points.append(
            {
                "users": n,
                "impressions": len(first),
                "summary": summary,
                "statistic": stat,
                "verdict": verdict,
                "decision": d.verdict,
                "winner": d.winner,
            }
        )
    return points


def _users_needed(
    experiment: Experiment, points: list[dict[str, Any]], offline: dict[str, Any] | None, online: dict[str, Any]
) -> dict[str, Any]:
    winner = offline["winner"] if offline else None
    final = online["decision"]
    agree: str
    if winner is None:
        agree = "unknown (no offline ranking of both models)"
    elif final["verdict"] == "better":
        agree = "yes" if final["winner"] == winner else f"no: online names {final['winner']}, offline {winner}"
    else:
        # No decision: say which way the online figures lean.
        if experiment.design == "ab":
            ctr = {v["variant"]: v["ctr"]["value"] or 0.0 for v in online["per_variant"]}
            lean = max(experiment.variants, key=lambda v: ctr[v])
        else:
            wins = online["interleaving"]["wins"]
            lean = max(experiment.variants, key=lambda v: wins[v])
        agree = f"no decision online ({final['verdict']}); the online figures lean to {lean}" + (
            " as offline" if lean == winner else f", offline to {winner}"
        )
    first = next((p["users"] for p in points if winner and p["winner"] == winner), None)
    # The smallest checkpoint from which every later one names the offline winner too.
    stable = None
    for p in reversed(points):
        if not winner or p["winner"] != winner:
            break
        stable = p["users"]
    if winner is None:
        summary = "unknown (no offline winner)"
    elif first is None:
        summary = f"not reached within {points[-1]['users']} users"
    elif stable == first:
        summary = f"{first} users (and every later checkpoint agrees)"
    else:
        later = f"every checkpoint from {stable} users on" if stable else "not the last checkpoint"
        summary = f"first at {first} users, but not every later checkpoint agrees; {later}"
    return {
        "offline_winner": winner,
        "first_checkpoint": first,
        "stable_from": stable,
        "summary": summary,
        "agree": agree,
    }


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _p(value: float | None) -> str:
    return "-" if value is None else (f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}")

"""`movie-genie` command line: one subcommand per pipeline stage plus serve/recommend/search.

Commands import their subsystem lazily so `movie-genie --help` stays fast and a stage pulls in only what it needs.
Errors a user can act on (MovieGenieError) are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from movie_genie.config import Layout, Params, load_params
from movie_genie.errors import MovieGenieError
from movie_genie.models.catalogue import CATALOGUE, EASE


class _Context:
    """Loaded once per invocation and handed to every subcommand."""

    def __init__(self, params_file: Path) -> None:
        self.params_file = params_file
        self._params: Params | None = None

    @property
    def params(self) -> Params:
        if self._params is None:
            self._params = load_params(self.params_file)
        return self._params

    @property
    def layout(self) -> Layout:
        return Layout.from_params(self.params)


pass_ctx = click.make_pass_decorator(_Context)


@click.group()
@click.option(
    "--params",
    "params_file",
    type=click.Path(path_type=Path),
    default=Path("params.yaml"),
    show_default=True,
    help="The params.yaml to read.",
)
@click.version_option(package_name="movie-genie")
@click.pass_context
def cli(ctx: click.Context, params_file: Path) -> None:
    """Movie Genie: train MovieLens recommenders, build search, and serve the app."""
    ctx.obj = _Context(params_file)


# --- subcommands: each subsystem adds its own below -------------------------------------------------------------


@cli.command("data")
@click.option("--dataset", default=None, help="Data set name (default: dataset.name in params.yaml).")
@click.option(
    "--source",
    type=click.Path(path_type=Path),
    default=None,
    help="A local GroupLens zip or folder instead of downloading.",
)
@click.option(
    "--synthetic",
    type=click.FloatRange(0, 1000, min_open=True),
    default=None,
    metavar="SCALE",
    help="Generate a synthetic data set SCALE times ml-latest-small instead (320 ~ ml-32m): for measuring cost, "
    "not quality.",
)
@pass_ctx
def data_command(ctx: _Context, dataset: str | None, source: Path | None, synthetic: float | None) -> None:
    """Read a MovieLens data set into data/canonical (downloading it into the cache when needed)."""
    from movie_genie.data.stages import run_data
    from movie_genie.data.tables import read_info
    from movie_genie.models.ease import EaseConfig, EaseMemoryError, check_memory

    click.echo(run_data(ctx.params, ctx.layout, dataset=dataset, source=source, synthetic=synthetic))
    # Say now, not after minutes of later stages, when the catalogue is too large for EASE on this machine.
    info = read_info(ctx.layout.canonical_dir)
    try:
        check_memory(EaseConfig.from_params(ctx.params.section("models").get(EASE.name), info["name"]), info["movies"])
    except EaseMemoryError as exc:
        click.echo(f"warning: {exc}", err=True)


@cli.command("tmdb")
@pass_ctx
def tmdb_command(ctx: _Context) -> None:
    """Fetch movie metadata from the TMDB API into data/tmdb.csv when TMDB_API_KEY is set (else a header only)."""
    from movie_genie.data.stages import run_tmdb

    click.echo(run_tmdb(ctx.params, ctx.layout))


@cli.command("enrich")
@click.option(
    "--metadata-csv",
    type=click.Path(path_type=Path),
    default=None,
    help="A TMDB-style metadata CSV (default: dataset.metadata_csv in params.yaml, else data/tmdb.csv from the "
    "`tmdb` stage when it has rows; none = plain copy).",
)
@click.option(
    "--from-tmdb",
    is_flag=True,
    help="Fetch the metadata from the TMDB API first (needs TMDB_API_KEY and internet; cached in data/cache/tmdb).",
)
@pass_ctx
def enrich_command(ctx: _Context, metadata_csv: Path | None, from_tmdb: bool) -> None:
    """Copy data/canonical to data/processed, adding movie metadata from a CSV when one is configured."""
    from movie_genie.data.stages import run_enrich

    summary, coverage = run_enrich(ctx.params, ctx.layout, metadata_csv=metadata_csv, from_tmdb=from_tmdb)
    for line in coverage:
        click.echo(line)
    click.echo(summary)


@cli.command("split")
@pass_ctx
def split_command(ctx: _Context) -> None:
    """Leave-one-out split by time of data/processed into data/split (train/valid/test + id_map.json)."""
    from movie_genie.data.stages import run_split

    click.echo(run_split(ctx.params, ctx.layout))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5001, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes [params: serving.workers].")
@pass_ctx
def serve(ctx: _Context, host: str, port: int, workers: int | None) -> None:
    """Serve the API and the web app with gunicorn (migrates the database first)."""
    from movie_genie.api.config import ServingConfig
    from movie_genie.api.serve import options_from
    from movie_genie.api.serve import serve as run_server
    from movie_genie.config import Settings

    config = ServingConfig.from_params(ctx.params)
    settings = Settings.from_env(ctx.layout.data_dir)
    click.echo(f"Movie Genie on http://{host}:{port} (API docs: /api/docs)", err=True)
    run_server(ctx.params, settings, options_from(config, host, port, workers))


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5001, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@pass_ctx
def run_all(ctx: _Context, host: str, port: int) -> None:
    """Run the pipeline and serve as soon as the quick models and search are ready; the other models train behind
    the server, which switches to each when it is ready (what `make run` does after setup)."""
    from movie_genie.training.first_run import PipelineError, run_first

    try:
        code = run_first(ctx.layout, ctx.params_file, ["--host", host, "--port", str(port)], echo=click.echo)
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@cli.command()
@click.option("--indent", default=2, show_default=True, type=click.IntRange(0, 8), help="JSON indentation.")
def openapi(indent: int) -> None:
    """Print the API's OpenAPI 3 spec as JSON (the web client is generated from it); loads no artefacts."""
    import json

    from movie_genie.api.app import openapi_spec

    click.echo(json.dumps(openapi_spec(), indent=indent or None, sort_keys=False))


@cli.group()
def db() -> None:
    """Database: migrations, loading the processed tables, row counts (DATABASE_URL, default SQLite in data/)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to migrate to.")
@pass_ctx
def db_upgrade(ctx: _Context, revision: str) -> None:
    """Create or migrate the database schema to the newest revision."""
    from movie_genie.config import Settings
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import describe_url, make_engine
    from movie_genie.db.migrate import upgrade

    url = Settings.from_env(ctx.layout.data_dir).database_url
    engine = make_engine(url, DatabaseParams.from_params(ctx.params).busy_timeout_ms)
    reached = upgrade(engine, revision)
    engine.dispose()
    click.echo(f"{describe_url(url)} is at revision {reached}")


@db.command("load")
@click.option("--force", is_flag=True, help="Rewrite the data set's rows even when the input is unchanged.")
@click.option("--reset", is_flag=True, help="Drop every table first, app users and feedback included.")
@pass_ctx
def db_load(ctx: _Context, force: bool, reset: bool) -> None:
    """Load data/processed/{movies,users,ratings}.parquet (idempotent; app users and feedback are kept)."""
    from movie_genie.config import Settings
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import describe_url, make_engine
    from movie_genie.db.load import load_processed
    from movie_genie.db.migrate import downgrade

    params = DatabaseParams.from_params(ctx.params)
    url = Settings.from_env(ctx.layout.data_dir).database_url
    engine = make_engine(url, params.busy_timeout_ms)
    if reset:
        downgrade(engine, "base")
    report = load_processed(
        engine, ctx.layout.processed_dir, dataset_name=ctx.params.dataset.name, params=params, force=force
    )
    engine.dispose()
    what = "loaded" if report.changed else "already up to date"
    click.echo(
        f"{describe_url(url)}: {report.dataset} {what} in {report.seconds:.1f}s - {report.movies} movies, "
        f"{report.users} users ({report.app_users} from the app), {report.ratings} ratings, "
        f"{report.feedback_events} feedback events"
    )


@db.command("stats")
@pass_ctx
def db_stats(ctx: _Context) -> None:
    """Print the schema revision and the row count of every table."""
    from movie_genie.config import Settings
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import describe_url, make_engine
    from movie_genie.db.migrate import current_revision, head_revision, table_counts

    url = Settings.from_env(ctx.layout.data_dir).database_url
    engine = make_engine(url, DatabaseParams.from_params(ctx.params).busy_timeout_ms)
    click.echo(f"{describe_url(url)}: revision {current_revision(engine) or '(empty)'} (code: {head_revision()})")
    for table, count in table_counts(engine).items():
        click.echo(f"  {table:<16} {count:>10,}")
    engine.dispose()


# --- models: train, evaluate, recommend (movie_genie.models via movie_genie.evaluation) ------------------------------


@cli.command(
    "train",
    # \b keeps click from re-wrapping the command line.
    epilog="\b\nSeveral processes (PyTorch DDP, gloo on the CPU; rank 0 writes the files):\n"
    "  torchrun --standalone --nproc-per-node 2 -m movie_genie.cli train --model bert4rec --model two_tower",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Train only this model (repeatable; default: popularity, ease, bert4rec, sasrec, two_tower, hybrid in order).",
)
@pass_ctx
def train_command(ctx: _Context, models: tuple[str, ...]) -> None:
    """Tune on validation, train and save every model to artifacts/models (<name>.pt); multi-process under torchrun."""
    from movie_genie.models.distributed import is_main, process_group
    from movie_genie.training.loop import run_train

    with process_group():
        runs = run_train(ctx.params, ctx.layout, list(models) or None, echo=click.echo)
        if is_main():
            click.echo(f"train: {len(runs)} model(s) -> {ctx.layout.models_dir}")


@cli.command("evaluate")
@pass_ctx
def evaluate_command(ctx: _Context) -> None:
    """Evaluate every trained model on validation and test into artifacts/report (JSON, Markdown, PNG)."""
    from movie_genie.evaluation.report import run_evaluate

    files = run_evaluate(ctx.params, ctx.layout, echo=click.echo)
    click.echo(files.markdown.read_text(encoding="utf-8"))
    click.echo(f"evaluate: report -> {files.json}, {files.markdown}, {', '.join(str(p) for p in files.plots)}")


@cli.command("retrain")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Retrain only this model (repeatable; default: every model). A hybrid needs its components beside it.",
)
@pass_ctx
def retrain_command(ctx: _Context, models: tuple[str, ...]) -> None:
    """Fold the app's feedback and new users into the data, train a new model version into artifacts/versions/<id>
    and compare it with the serving one on the same test users; nothing is served until it is promoted."""
    from movie_genie.config import Settings
    from movie_genie.db.config import DatabaseParams
    from movie_genie.db.engine import make_engine
    from movie_genie.online.serving import ServingStore
    from movie_genie.training.retrain import run_retrain

    url = Settings.from_env(ctx.layout.data_dir).database_url
    engine = make_engine(url, DatabaseParams.from_params(ctx.params).busy_timeout_ms)
    serving = ServingStore(ctx.layout).state().active
    try:
        manifest = run_retrain(ctx.params, ctx.layout, engine, list(models) or None, click.echo, serving)
    finally:
        engine.dispose()
    click.echo(
        f"retrain: version {manifest.id} ({', '.join(manifest.models)}) -> {ctx.layout.versions_dir / manifest.id}\n"
        f"  serve it:            movie-genie models promote {manifest.id}\n"
        f"  or try it on users:  movie-genie models challenge {manifest.id} --model <name>"
    )


@cli.group("models")
def models_group() -> None:
    """Model versions: list them, promote one, roll back, or try one as an experiment's challenger (a running
    server swaps promoted versions in within serving.reload_poll_s, without a restart)."""


@models_group.command("list")
@pass_ctx
def models_list(ctx: _Context) -> None:
    """Every retrained version with its test NDCG@10 and its difference from the version it would replace."""
    from movie_genie.models.catalogue import MODEL_NAMES
    from movie_genie.online.serving import ServingStore
    from movie_genie.training.versions import BASE

    store = ServingStore(ctx.layout)
    state = store.state()
    click.echo(f"{'version':<18} {'model':<11} {'serving':<8} {'test NDCG@10':>12}  minus the version it replaced")
    for manifest in reversed(store.manifests()):
        for name, entry in manifest.models.items():
            serving = "yes" if state.version_of(name) == manifest.id else ""
            diff = entry.vs_current
            versus = "-"
            if diff is not None:
                versus = f"{diff.difference:+.4f} [{diff.ci[0]:+.4f}, {diff.ci[1]:+.4f}] vs {diff.against}"
            click.echo(f"{manifest.id:<18} {name:<11} {serving:<8} {entry.test.ndcg10:>12.4f}  {versus}")
    on_base = [n for n in MODEL_NAMES if state.version_of(n) == BASE]
    click.echo(f"on the pipeline's base version: {', '.join(on_base) or 'none'}")


@models_group.command("promote")
@click.argument("version")
@click.option("--model", "models", multiple=True, help="Promote only this model of the version (repeatable).")
@pass_ctx
def models_promote(ctx: _Context, version: str, models: tuple[str, ...]) -> None:
    """Serve VERSION for its models (or --model ones); the versions they replace are kept for rollback."""
    from movie_genie.online.serving import ServingStore

    _echo_changes(ServingStore(ctx.layout).promote(version, models), "promoted")


@models_group.command("rollback")
@click.option("--model", "models", multiple=True, help="Roll back only this model (repeatable; default: every one).")
@pass_ctx
def models_rollback(ctx: _Context, models: tuple[str, ...]) -> None:
    """Serve again the version each model served before its last promotion."""
    from movie_genie.online.serving import ServingStore

    _echo_changes(ServingStore(ctx.layout).rollback(models), "rolled back")


@models_group.command("challenge")
@click.argument("version")
@click.option("--model", "name", required=True, help="The model whose VERSION challenges the serving one.")
@click.option("--design", type=click.Choice(["ab", "interleaving"]), default="interleaving", show_default=True)
@click.option("--traffic", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
@click.option("--horizon", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--experiment", "experiment_name", default=None, help="Its name [<model>-<version>].")
@pass_ctx
def models_challenge(
    ctx: _Context, version: str, name: str, design: str, traffic: float, horizon: int, experiment_name: str | None
) -> None:
    """Start an experiment of the serving NAME against NAME@VERSION on live traffic (its report:
    GET /api/experiments/<name>/report); promote or roll back on its result."""
    from pydantic import ValidationError

    from movie_genie.online.experiments import Experiment
    from movie_genie.online.serving import ServingStore

    label = experiment_name or f"{name}-{version}".lower()
    try:
        experiment = Experiment.model_validate(
            {
                "name": label,
                "design": design,
                "variants": (name, f"{name}@{version}"),
                "traffic": traffic,
                "horizon": horizon,
            }
        )
    except ValidationError as exc:
        raise click.BadParameter(str(exc.errors()[0]["msg"])) from exc
    ServingStore(ctx.layout).add_experiment(experiment)
    click.echo(f"experiment {label}: {design}, {name} (serving) vs {name}@{version}, {traffic:.0%} of users")


def _echo_changes(changes: dict[str, tuple[str, str]], what: str) -> None:
    if not changes:
        click.echo("nothing changed: those models already serve that version")
    for name, (old, new) in changes.items():
        click.echo(f"{what} {name}: {old} -> {new} (a running server swaps it in within serving.reload_poll_s)")


def _parse_history(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated movie ids like 1,50,181; got {value!r}") from exc


@cli.command("recommend")
@click.option("--user-id", type=int, default=None, help="A MovieLens user id: their rated movies are the history.")
@click.option("--history", default=None, help="Comma-separated movie ids (oldest first), e.g. 1,50,181.")
@click.option("--model", default=CATALOGUE.fallback()[0], show_default=True, help="Which trained model to ask.")
@click.option("-k", "k", type=click.IntRange(1), default=10, show_default=True, help="Number of films.")
@pass_ctx
def recommend_command(ctx: _Context, user_id: int | None, history: str | None, model: str, k: int) -> None:
    """Print a ranked table of recommendations with reasons, for a known user or a given history."""
    from movie_genie.models.recommend import recommend_table

    if (user_id is None) == (history is None):
        raise click.UsageError("give exactly one of --user-id N or --history 1,2,3")
    click.echo(recommend_table(ctx.layout, model, k, user_id=user_id, history=_parse_history(history)))


@cli.command("simulate")
@click.option("--experiment", "name", required=True, help="A params.yaml `experiments` name, or a new one.")
@click.option("--design", type=click.Choice(["ab", "interleaving"]), default=None, help="Define it (with --variants).")
@click.option("--variants", nargs=2, default=None, help="Its two models, e.g. --variants ease popularity.")
@click.option("--horizon", type=click.IntRange(1), default=None, help="Override the experiment's horizon.")
@click.option("--users", type=click.IntRange(1), default=200, show_default=True, help="Simulated users.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the user sample and team draft's coin.")
@click.option("--k", "k", type=click.IntRange(1, 100), default=10, show_default=True, help="Films per list.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="JSON [artifacts/simulate/<name>.json].")
@pass_ctx
def simulate_command(
    ctx: _Context,
    name: str,
    design: str | None,
    variants: tuple[str, str] | None,
    horizon: int | None,
    users: int,
    seed: int,
    k: int,
    out: Path | None,
) -> None:
    """Replay held-out test interactions as traffic through the API on a COPY of the database: each simulated user
    asks for a list (the experiment picks it) and clicks their next film when it is shown; prints the online
    report beside the offline one and the users each design needed (docs/online-evaluation.md)."""
    from movie_genie.api.harness import AppHarness
    from movie_genie.online.simulator import simulate

    result = simulate(
        ctx.params,
        name,
        AppHarness,
        users=users,
        seed=seed,
        k=k,
        design=design,
        variants=variants or None,
        horizon=horizon,
    )
    path = out or ctx.layout.artifacts_dir / "simulate" / f"{result.experiment.name}.json"
    result.write(path)
    click.echo(result.table())
    click.echo(f"simulate: -> {path}")


# --- search: embed, index, search (movie_genie.search) -----------------------------------------------------------


@cli.command("embed")
@pass_ctx
def embed_command(ctx: _Context) -> None:
    """Embed every movie document into artifacts/embeddings/embeddings.npz (reuses unchanged ones)."""
    import time

    from movie_genie.search.build import embed_catalogue, read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.embeddings import EMBEDDINGS_FILE
    from movie_genie.search.encoder import load_sentence_model

    start = time.perf_counter()
    config = SearchConfig.from_params(ctx.params)
    movies, tags, _ = read_search_inputs(ctx.layout.processed_dir)
    model = load_sentence_model(config.encoder)
    report = embed_catalogue(movies, tags, config, ctx.layout.embeddings_dir / EMBEDDINGS_FILE, model)
    click.echo(
        f"embed: {report.total:,} movies ({report.encoded:,} encoded, {report.reused:,} reused) -> {report.path} "
        f"({time.perf_counter() - start:.1f} s)"
    )


@cli.command("index")
@pass_ctx
def index_command(ctx: _Context) -> None:
    """Build the search index (FAISS, BM25, titles, ONNX encoder) into artifacts/index."""
    from movie_genie.search.build import build_index, read_search_inputs
    from movie_genie.search.config import SearchConfig
    from movie_genie.search.embeddings import EMBEDDINGS_FILE
    from movie_genie.search.encoder import load_sentence_model

    config = SearchConfig.from_params(ctx.params)
    movies, tags, ratings = read_search_inputs(ctx.layout.processed_dir)
    model = load_sentence_model(config.encoder)
    report = build_index(
        movies, tags, ratings, ctx.layout.embeddings_dir / EMBEDDINGS_FILE, ctx.layout.index_dir, config, model
    )
    click.echo(
        f"index: {report.movies:,} movies, {report.vector_index}, ONNX vs torch min cosine "
        f"{report.onnx_min_cosine:.4f} -> {report.path} ({report.seconds:.1f} s)"
    )


@cli.command("search")
@click.argument("query")
@click.option(
    "--mode",
    type=click.Choice(["hybrid", "semantic", "lexical", "title"]),
    default="hybrid",
    show_default=True,
    help="Ranking: fused, meaning only, BM25 words only, or typo-tolerant titles.",
)
@click.option("--genre", "genres", multiple=True, help="Keep films with any of these genres (repeatable).")
@click.option("--year-min", type=int, default=None, help="Earliest release year.")
@click.option("--year-max", type=int, default=None, help="Latest release year.")
@click.option("--min-ratings", type=click.IntRange(0), default=0, show_default=True, help="Minimum number of ratings.")
@click.option("--k", type=click.IntRange(1), default=10, show_default=True, help="Number of films to print.")
@pass_ctx
def search_command(
    ctx: _Context,
    query: str,
    mode: str,
    genres: tuple[str, ...],
    year_min: int | None,
    year_max: int | None,
    min_ratings: int,
    k: int,
) -> None:
    """Search the catalogue in plain language, e.g. `movie-genie search "action movies with robots"`."""
    from movie_genie.search.engine import SearchEngine, SearchFilters

    engine = SearchEngine.load(ctx.layout.index_dir)
    filters = SearchFilters(genres=genres, year_min=year_min, year_max=year_max, min_ratings=min_ratings)
    result = engine.search(query, mode=mode, k=k, filters=filters)
    click.echo(f'{len(result.hits)} films for "{result.query}" ({result.mode}, {result.took_ms:.1f} ms)')
    for rank, hit in enumerate(result.hits, start=1):
        year = f" ({hit.year})" if hit.year is not None else ""
        click.echo(
            f"{rank:>3}. {hit.score:8.4f}  {hit.title}{year}  [{', '.join(hit.genres)}]  "
            f"via {'+'.join(hit.matched_by) or '-'}  (id {hit.movie_id})"
        )


def main() -> None:
    """Console-script entry point: run the CLI, turning user errors into a message and exit status 2."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MovieGenieError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

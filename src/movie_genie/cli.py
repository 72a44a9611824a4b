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
@pass_ctx
def data_command(ctx: _Context, dataset: str | None, source: Path | None) -> None:
    """Read a MovieLens data set into data/canonical (downloading it into the cache when needed)."""
    from movie_genie.data.stages import run_data

    click.echo(run_data(ctx.params, ctx.layout, dataset=dataset, source=source))


@cli.command("enrich")
@click.option(
    "--metadata-csv",
    type=click.Path(path_type=Path),
    default=None,
    help="A TMDB-style metadata CSV (default: dataset.metadata_csv in params.yaml; none = plain copy).",
)
@pass_ctx
def enrich_command(ctx: _Context, metadata_csv: Path | None) -> None:
    """Copy data/canonical to data/processed, adding movie metadata from a CSV when one is configured."""
    from movie_genie.data.stages import run_enrich

    summary, coverage = run_enrich(ctx.params, ctx.layout, metadata_csv=metadata_csv)
    for line in coverage:
        click.echo(line)
    click.echo(summary)


@cli.command("split")
@pass_ctx
def split_command(ctx: _Context) -> None:
    """Leave-one-out split by time of data/processed into data/split (train/valid/test + id_map.json)."""
    from movie_genie.data.stages import run_split

    click.echo(run_split(ctx.params, ctx.layout))


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

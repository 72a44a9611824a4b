"""The command-line reference page (reference/cli.md), from the click command tree of `movie-genie`."""

from __future__ import annotations

import enum
from typing import Any

from docs.gen.common import table_cell


def cli_markdown(group: Any) -> str:
    """Every `movie-genie` command with its help and options, from the click command tree itself."""
    import click

    parts = [
        "# Command line",
        "",
        "*Generated at build time from the click commands of `movie_genie.cli`.* Run any command with `--help` for "
        "the same text. Errors a user can fix are printed as one line and exit with status 2.",
        "",
    ]

    def visit(command: click.Command, path: list[str]) -> None:
        name = " ".join(path)
        anchor = "cmd-" + "-".join(path[1:] or ["root"])
        parts.extend([f"## `{name}` {{#{anchor}}}", "", (command.help or "").strip(), ""])
        ctx = click.Context(command, info_name=path[-1])
        usage = " ".join(command.collect_usage_pieces(ctx))
        parts.extend([f"```text\n{name} {usage}\n```", ""])
        rows = []
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                value = param.get_default(ctx, call=False)
                # Flags, unset values (click's UNSET sentinel is an Enum member) and callables show no default.
                shown = value not in (None, False, ()) and not callable(value) and not isinstance(value, enum.Enum)
                default = f"`{value}`" if shown else ""
                rows.append(f"| `{', '.join(param.opts)}` | {table_cell(param.help or '')} | {default} |")
            elif isinstance(param, click.Argument):
                rows.append(f"| `{param.name.upper() if param.name else ''}` | argument | |")
        if rows:
            parts.extend(["| option | what it does | default |", "| --- | --- | --- |", *rows, ""])
        if isinstance(command, click.Group):
            for sub_name in sorted(command.commands):
                visit(command.commands[sub_name], [*path, sub_name])

    visit(group, ["movie-genie"])
    return "\n".join(parts)

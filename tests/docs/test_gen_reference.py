"""The reference generators (docs/gen/*_reference.py and the source markers) on the real project files: the
parameters, the REST API, the command line and the source code pages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from docs.gen.api_reference import (
    _EXAMPLES,
    _METHODS,
    _constraints,
    _example_fits,
    curl_examples,
    openapi_markdown,
    schema_type,
)
from docs.gen.cli_reference import cli_markdown
from docs.gen.code_reference import expand_src_links, symbol_lines
from docs.gen.common import GenerationError
from docs.gen.markers import expand_page
from docs.gen.params_reference import config_table, params_comments, params_reference, params_table

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_params_table_keeps_values_and_comments() -> None:
    """Values come from YAML and each key's comment from its line or the comment lines above it."""
    text = textwrap.dedent(
        """\
        models:                # one section per model
          ease:
            lambdas: [50, 100] # grid tried on validation
            # float32 halves the memory
            dtype: float32
          name: "a # not a comment"
        """
    )
    table = params_table(text, "models.ease")
    assert "| `models.ease.lambdas` | `[50, 100]` | grid tried on validation |" in table
    assert "| `models.ease.dtype` | `float32` | float32 halves the memory |" in table
    assert params_comments(text)["models"] == "one section per model"
    assert "is not in params.yaml" in params_table(text, "models.bert4rec")


def test_every_params_section_is_on_the_reference_page() -> None:
    """The parameter reference has a section (with an anchor) for every top-level key of params.yaml."""
    params_text = (ROOT / "params.yaml").read_text(encoding="utf-8")
    page = params_reference(params_text)
    for section in yaml.safe_load(params_text):
        assert f"## `{section}` {{#{section}}}" in page


def test_config_table_shows_code_defaults_params_values_and_comments() -> None:
    """A model's table lists every config field, its default, the params.yaml value and what it does."""
    params_text = textwrap.dedent(
        """\
        models:
          ease:
            lambdas: [50, 500]     # grid tried on validation
            per_dataset:
              ml-latest-small:
                dtype: float64
        """
    )
    table = config_table(params_text, "models.ease", "movie_genie.models.ease:EaseConfig")
    assert "| `lambdas` | `[100.0, 200.0, 500.0, 1000.0]` | `[50, 500]` | grid tried on validation |" in table
    assert "| `dtype` | `float32` | ml-latest-small: `float64` |" in table
    with pytest.raises(GenerationError, match="does not have"):
        config_table("models:\n  ease:\n    lambda: 5\n", "models.ease", "movie_genie.models.ease:EaseConfig")


def test_api_reference_covers_every_operation_and_schema() -> None:
    """Every path and method of the live OpenAPI spec, and every schema, appears in the API reference."""
    from movie_genie.api.app import openapi_spec

    spec = openapi_spec()
    page = openapi_markdown(spec)
    for path, item in spec["paths"].items():
        for method in item:
            if method in _METHODS:
                assert f"### `{method.upper()} {path}`" in page
    for name in spec["components"]["schemas"]:
        assert f"### {name} {{#schema-{name.lower()}}}" in page


def test_openapi_types_render_refs_unions_and_arrays() -> None:
    """$ref becomes a link, nullable unions and arrays read naturally, bounds are listed."""
    nullable = {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}]}
    assert schema_type(nullable) == "string \\| null"
    assert _constraints(nullable) == "max length `200`"
    assert schema_type({"type": "array", "items": {"$ref": "#/components/schemas/MovieSummary"}}) == (
        "array of [MovieSummary](#schema-moviesummary)"
    )
    assert schema_type({"enum": ["hybrid", "ease"], "type": "string"}) == '`"hybrid"` \\| `"ease"`'


def test_curl_examples_match_the_spec() -> None:
    """The API page's examples use only operations, query parameters and body fields the spec has."""
    from movie_genie.api.app import openapi_spec

    spec = openapi_spec()
    text = curl_examples(spec)
    assert text.count("curl -s") == len(_EXAMPLES), "an example no longer fits the API: update _EXAMPLES"
    assert not _example_fits(spec, "get", "/api/recommendations", {"no_such_parameter": 1}, None)
    assert not _example_fits(spec, "post", "/api/feedback", {}, {"no_such_field": 1})


def test_cli_reference_lists_every_command() -> None:
    """Every click command and subcommand has a section; no internal sentinel leaks into the defaults."""
    import click

    from movie_genie.cli import cli

    page = cli_markdown(cli)
    for name, command in cli.commands.items():
        assert f"## `movie-genie {name}`" in page
        if isinstance(command, click.Group):
            for sub in command.commands:
                assert f"## `movie-genie {name} {sub}`" in page
    assert "Sentinel" not in page


def test_source_links_are_checked() -> None:
    """[[src:...]] links point at the symbol's code page; unknown files or symbols fail the build."""
    link = expand_src_links("see [[src:data/idmap.py#IdMap.item_index]]", "models/ease.md")
    assert link == "see [`IdMap.item_index`](../reference/code/data/idmap.md#IdMap-item_index)"
    with pytest.raises(GenerationError, match="defines no no_such_function"):
        expand_src_links("[[src:data/idmap.py#no_such_function]]", "index.md")
    with pytest.raises(GenerationError, match="names no file"):
        expand_src_links("[[src:data/nowhere.py]]", "index.md")


def test_private_methods_can_be_linked() -> None:
    """[[src:...]] reaches private methods (the code behind the maths), never dunder ones."""
    link = expand_src_links("[[src:models/bert4rec.py#Bert4Rec._mask]]", "models/bert4rec.md")
    assert link == "[`Bert4Rec._mask`](../reference/code/models/bert4rec.md#Bert4Rec-_mask)"
    with pytest.raises(GenerationError):
        expand_src_links("[[src:models/bert4rec.py#Bert4Rec.__init__]]", "models/bert4rec.md")


def test_source_marker_copies_the_exact_lines_of_private_methods() -> None:
    """<!-- gen:source PATH#SYMBOL --> shows the symbol's source lines with the file's numbering; private ones too."""
    source_file = ROOT / "src" / "movie_genie" / "models" / "bert4rec.py"
    lines = source_file.read_text(encoding="utf-8").splitlines()
    first, last = symbol_lines(source_file.read_text(encoding="utf-8"), "Bert4Rec._loss")
    assert lines[first - 1].strip().startswith("def _loss(")
    text, _ = expand_page("<!-- gen:source models/bert4rec.py#Bert4Rec._loss -->", "models/bert4rec.md", {})
    assert f'```python linenums="{first}"' in text
    assert textwrap.dedent("\n".join(lines[first - 1 : last])) in text
    assert "(../reference/code/models/bert4rec.md#Bert4Rec-_loss)" in text  # a checked link to the code page
    excerpts = ("models/ease.py#_ease_weights", "models/hybrid.py#standardise", "models/two_tower.py#TwoTower._loss")
    for symbol in excerpts:
        assert "```python" in expand_page(f"<!-- gen:source {symbol} -->", "models/x.md", {})[0]
    with pytest.raises(GenerationError, match=r"defines no Bert4Rec\._no_such_method"):
        expand_page("<!-- gen:source models/bert4rec.py#Bert4Rec._no_such_method -->", "models/x.md", {})
    with pytest.raises(GenerationError, match="no file"):
        expand_page("<!-- gen:source models/nowhere.py#f -->", "models/x.md", {})

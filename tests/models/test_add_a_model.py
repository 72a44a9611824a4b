"""Adding a model is one module plus its spec (docs/how-to/add-a-model.md): a toy model shipped outside the package,
registered only by its `ModelSpec` under the `movie_genie.models` entry-point group, is trained by the train stage,
ranked in the evaluation report, served by the API and listed with its label in /api/models, the list the web app
reads its model names from. Nothing else in the project names it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from tests.artefacts import Artefacts

TOY_MODULE = '''
"""A toy recommender: the most rated films, under another name (its behaviour is not the point here)."""
from movie_genie.models.catalogue import ModelSpec
from movie_genie.models.popularity import Popularity


class Toy(Popularity):
    name = "toy"


SPEC = ModelSpec(
    name="toy",
    label="Toy model",
    summary="Recommends what everyone watched, to show how a model joins the catalogue.",
    purpose="The most rated films you have not seen.",
    loader="toy_model:Toy",
    list_rank=9,
)
'''

# Run with the plugin on the path: train it, report it, serve it and list it, and print what each step saw.
SCRIPT = """
import json, sys
from click.testing import CliRunner
from movie_genie.api.app import create_app
from movie_genie.cli import cli
from movie_genie.config import Settings, load_params

params_file, database_url = sys.argv[1], sys.argv[2]
for stage in (["train", "--model", "toy"], ["evaluate"]):
    result = CliRunner().invoke(cli, ["--params", params_file, *stage], catch_exceptions=False)
    assert result.exit_code == 0, result.output
params = load_params(params_file)
settings = Settings(database_url=database_url, redis_url=None, tmdb_api_key=None, cors_origins=())
client = create_app(settings, params).test_client()
models = client.get("/api/models").get_json()["data"]
served = client.get("/api/recommendations?user_id=1&model=toy&k=5")
report = json.loads((params.paths.artifacts_dir / "report" / "report.json").read_text())
print(json.dumps({
    "report_models": sorted(report["models"]),
    "listed": [m["name"] for m in models["models"] if m["loaded"]],
    "labels": {c["name"]: c["label"] for c in models["catalogue"]},
    "served_status": served.status_code,
    "served": served.get_json(),
}))
"""


def _plugin(folder: Path) -> Path:
    """The toy model as an installed distribution would leave it: a module and its entry point's metadata."""
    folder.mkdir()
    (folder / "toy_model.py").write_text(TOY_MODULE, encoding="utf-8")
    dist = folder / "toy_model-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-model\nVersion: 0.1\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[movie_genie.models]\ntoy = toy_model:SPEC\n", encoding="utf-8")
    return folder


def test_a_model_registered_by_its_spec_is_trained_reported_served_and_listed(
    artefacts: Artefacts, tmp_path: Path
) -> None:
    # A copy of the session's artefacts, so the toy model's checkpoint and report stay out of the shared ones.
    root = tmp_path / "artefacts"
    shutil.copytree(artefacts.root, root)
    raw = yaml.safe_load(artefacts.params_file.read_text(encoding="utf-8"))
    raw["paths"] = {"data_dir": str(root / "data"), "artifacts_dir": str(root / "artifacts")}
    params_file = root / "params.yaml"
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    plugin = _plugin(tmp_path / "plugin")
    env = {**os.environ, "PYTHONPATH": str(plugin), "HF_HUB_OFFLINE": "1"}
    database_url = f"sqlite:///{root / 'data' / 'movie_genie.db'}"
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(params_file), database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert "toy" in seen["report_models"] and "hybrid" in seen["report_models"]
    assert "toy" in seen["listed"]
    assert seen["labels"]["toy"] == "Toy model" and seen["labels"]["two_tower"] == "Two-Tower"
    assert seen["served_status"] == 200, seen["served"]
    assert seen["served"]["meta"]["model"] == "toy" and len(seen["served"]["data"]["items"]) == 5


def test_without_the_plugin_the_catalogue_has_only_the_built_in_models() -> None:
    """The test above is not vacuous: the toy model exists only through its entry point."""
    from movie_genie.models.catalogue import CATALOGUE

    assert "toy" not in {spec.name for spec in CATALOGUE.specs}

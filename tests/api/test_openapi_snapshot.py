"""The web client is generated from web/openapi.json: that snapshot must equal the spec the app serves now.

When this fails the API changed: run `make web-api` (writes the snapshot and regenerates web/src/api/schema.d.ts),
fix what `npm run build` then reports in the web app, and commit all three.
"""

from __future__ import annotations

import json
from pathlib import Path

from movie_genie.api.app import openapi_spec

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "web" / "openapi.json"


def _paths_and_schemas(spec: dict) -> tuple[set[str], set[str]]:
    return set(spec.get("paths", {})), set(spec.get("components", {}).get("schemas", {}))


def test_snapshot_matches_the_apps_current_spec() -> None:
    current = json.loads(json.dumps(openapi_spec()))  # through JSON, as `movie-genie openapi` prints it
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if snapshot != current:
        paths_now, schemas_now = _paths_and_schemas(current)
        paths_then, schemas_then = _paths_and_schemas(snapshot)
        raise AssertionError(
            "web/openapi.json differs from the API's current spec; run `make web-api` and commit the result.\n"
            f"paths added {sorted(paths_now - paths_then)}, removed {sorted(paths_then - paths_now)}; "
            f"schemas added {sorted(schemas_now - schemas_then)}, removed {sorted(schemas_then - schemas_now)} "
            "(other differences are inside existing paths or schemas)"
        )


def test_generated_types_cover_every_path() -> None:
    schema_ts = ROOT / "web" / "src" / "api" / "schema.d.ts"
    text = schema_ts.read_text(encoding="utf-8")
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    # Every path of the snapshot appears in the generated `paths` interface.
    missing = [path for path in snapshot["paths"] if f'"{path}"' not in text]
    assert not missing, f"schema.d.ts lacks {missing}: run `cd web && npm run gen:api`"

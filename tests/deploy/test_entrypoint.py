"""deploy/docker-entrypoint.sh on its own: other commands pass through; no data means a clear stop, not a server.

(Its success path is what starts every server of test_production.py.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(DATABASE_URL=database_url, PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    return env


def test_other_commands_run_as_given(tmp_path: Path) -> None:
    # No database work for anything but `movie-genie serve` (an unreachable URL would fail if it were touched).
    env = _env("postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "echo", "hello"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout == "hello\n", result.stderr


def test_missing_data_stops_with_both_ways_to_get_it(tmp_path: Path) -> None:
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    env = _env(f"sqlite:///{tmp_path / 'movie_genie.db'}")
    command = ["sh", str(ENTRYPOINT), "movie-genie", "serve", "--host", "127.0.0.1", "--port", "1"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "data/processed/movies.parquet not found" in result.stderr
    assert "TRAIN_AT_BUILD=1" in result.stderr and "mount" in result.stderr
    assert "Traceback" not in result.stderr
    assert "is at revision" in result.stdout, "the database is migrated before the load"

"""The `database` section of params.yaml: the project's file validates, bad values are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_genie.config import ConfigError, load_params
from movie_genie.db.config import DatabaseParams

ROOT = Path(__file__).resolve().parents[2]


def test_the_projects_params_file_has_a_valid_database_section() -> None:
    params = DatabaseParams.from_params(load_params(ROOT / "params.yaml"))
    assert params.load_batch_size >= 100 and params.busy_timeout_ms >= 0


@pytest.mark.parametrize(
    ("section", "key"),
    [("load_batch_size: 0", "load_batch_size"), ("busy_timeout_ms: -1", "busy_timeout_ms"), ("batch: 5", "batch")],
)
def test_bad_values_are_refused_by_name(tmp_path: Path, section: str, key: str) -> None:
    path = tmp_path / "params.yaml"
    path.write_text(f"database:\n  {section}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        DatabaseParams.from_params(load_params(path))

"""The scale page: generated from the committed benchmark result by the benchmark's own functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.scale_report import STAGES, cell, growth_exponents, scale_markdown
from docs.gen import results
from docs.gen.common import GenerationError

ROOT = Path(__file__).resolve().parents[2]


def _row(scale: float, stage: str, seconds: float, status: str = "ok", **extra: object) -> dict[str, object]:
    return {"scale": scale, "stage": stage, "seconds": seconds, "peak_mib": 512.0, "status": status, **extra}


def test_growth_exponent_is_the_log_log_slope_of_measured_and_estimated_times() -> None:
    ratings = {1.0: 100_000, 10.0: 1_000_000, 100.0: 10_000_000}
    rows = [
        _row(1.0, "split", 2.0),
        _row(10.0, "split", 2.0 * 10**1.5),
        # a capped stage counts with the time its rate implies, not the time it ran
        _row(100.0, "split", 30.0, "capped", rate=1.0, estimated_s=2.0 * 100**1.5),
        _row(1.0, "embed", 5.0),
        _row(10.0, "embed", 50.0, "failed"),  # no time: left out, so one point and no exponent
    ]
    exponents = growth_exponents(rows, ratings)
    assert exponents["split"] == pytest.approx(1.5)
    assert "embed" not in exponents


def test_cells_say_capped_refused_and_skipped() -> None:
    capped = _row(100.0, "embed", 40.0, "capped", rate=25.0, unit="films", estimated_s=3600.0)
    assert cell(capped) == "capped at 40.0 s (25.0 films/s, est. 1.0 h), 0.5 GiB"
    assert cell(_row(100.0, "train ease", 0.1, "refused", needs_gib=35.2)) == "refused (needs 35 GiB)"
    assert cell({"status": "skipped"}) == "skipped"


def test_the_committed_result_renders_every_stage_at_every_scale(tmp_path: Path) -> None:
    assert results.SCALE_RESULT.is_file(), "no docs/results/scale.json: python -m benchmarks.bench_scale --publish"
    raw = results.SCALE_RESULT.read_text()
    assert "/tmp/" not in raw and "/work/" not in raw  # no path of the machine that ran it
    payload = json.loads(raw)
    text, plot = results.scale_section("scale.md")
    scales = sorted(float(s) for s in payload["sizes"])
    assert len(scales) == 4
    for stage in STAGES:
        row = next(line for line in text.splitlines() if line.startswith(f"| {stage} |"))
        assert row.count("|") == len(scales) + 3 and "| - |" not in row, row
    assert "![Cost of each stage" in text and "assets/scale/cost.png" in text
    assert plot["assets/scale/cost.png"].read_bytes().startswith(b"\x89PNG")


def test_a_result_of_another_shape_fails_the_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "scale.json"
    broken.write_text(json.dumps({"rows": []}))
    monkeypatch.setattr(results, "SCALE_RESULT", broken)
    with pytest.raises(GenerationError, match="not a scale benchmark result"):
        results.scale_section("scale.md")


def test_scale_markdown_lists_latency_ratio_and_vector_index_verdict() -> None:
    payload = {
        "runs": ["--ann"],
        "machine": {"cpus": 2, "memory_gib": 24.0},
        "load_average": {"start": [1.0, 1.0, 1.0], "end": [2.0, 2.0, 2.0]},
        "memory_gib": 9,
        "calibration_s": {"before": 1.0, "after": 1.1},
        "sizes": {"1": {"users": 610, "movies": 9742, "ratings": 100836, "tags": 3683},
                  "320": {"users": 195200, "movies": 87531, "ratings": 32267520, "tags": 1178560}},
        "stages": list(STAGES),
        "rows": [{**_row(1.0, "recommend", 1.0), "latency": {"ease": {"p50_ms": 2.0, "p95_ms": 3.0}}},
                 {**_row(320.0, "recommend", 1.0), "latency": {"ease": {"p50_ms": 3.0, "p95_ms": 4.0}}}],
        "growth_exponents": {},
        "ann": {"vectors": "test vectors", "rows": [
            {"films": 10_000, "index": "exact", "ef_search": None, "configured": True, "build_s": 0.1, "p50_ms": 1.0,
             "p95_ms": 1.2, "recall10": 1.0},
            {"films": 100_000, "index": "hnsw", "ef_search": 128, "configured": True, "build_s": 60.0, "p50_ms": 0.5,
             "p95_ms": 0.7, "recall10": 0.90},
            {"films": 100_000, "index": "hnsw", "ef_search": 512, "configured": False, "build_s": 60.0,
             "p50_ms": 1.5, "p95_ms": 2.0, "recall10": 0.97},
        ]},
        "ddp": [{"model": "two_tower", "epoch_s_1": 10.0, "epoch_s_2": 8.0, "speedup": 1.25, "efficiency": 0.625}],
    }  # fmt: skip
    text = scale_markdown(payload, "assets/scale/cost.png")
    assert "| recommend ease | 2.00 ms | 3.00 ms | x1.50 |" in text
    assert (
        "100,000 films cost x0.50 the query latency of 10,000 (target: at most x2, **met**), at recall@10 0.900" in text
    )
    assert "at least 0.95 at 100,000 films (efSearch 512) costs x1.50" in text
    assert "| two_tower | 10.0 | 8.0 | x1.25 | 62% |" in text

"""What checking artefact digests costs at start-up: the time to hash every file the server checks when it loads
(checkpoints, text embeddings, every file of the search index: files.verify_digest) against the time the app
takes to start on the same artefacts (create_app: database, catalogue, models with their warm-up, search index).

Hashing happens once per worker start, never per request. The ratio printed is start-up with the check against
start-up without it (the start-up time minus the hashing time measured in the same run).

Run: .venv/bin/python -m benchmarks.bench_artefact_digests --params /tmp/api-artefacts/params.yaml [--repeats 3]
     (a folder built by tests/artefacts.py, or the checkout's params.yaml once `make pipeline` has run)
Writes benchmarks/results/artefact_digests.json.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time
from pathlib import Path

from benchmarks.output import ROOT, print_header, write_json
from movie_genie.api.app import create_app
from movie_genie.config import Layout, Settings, load_params
from movie_genie.files import DIGEST_SUFFIX, file_digest, verify_digest

RESULTS = ROOT / "benchmarks" / "results" / "artefact_digests.json"


def checked_files(layout: Layout) -> list[Path]:
    """The files the server checks when it starts: served checkpoints, the text embeddings, the search index."""
    files = sorted(layout.models_dir.glob("*.pt")) + sorted(layout.embeddings_dir.glob("*.npz"))
    files += sorted(p for p in layout.index_dir.rglob("*") if p.is_file() and not p.name.endswith(DIGEST_SUFFIX))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # a file without a digest logs a warning per start
    params = load_params(args.params)
    layout = Layout.from_params(params)
    settings = Settings.from_env(layout.data_dir)
    files = checked_files(layout)
    recorded = sum(1 for path in files if Path(f"{path}{DIGEST_SUFFIX}").is_file())
    size_mb = sum(path.stat().st_size for path in files) / 1e6

    hashing, startup = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for path in files:  # verify_digest where a digest is recorded; the same hashing where none is
            verify_digest(path) if recorded == len(files) else file_digest(path)
        hashing.append(time.perf_counter() - start)
        start = time.perf_counter()
        create_app(settings, params)
        startup.append(time.perf_counter() - start)
    hash_s, startup_s = statistics.median(hashing), statistics.median(startup)
    ratio = startup_s / max(startup_s - hash_s, 1e-9)

    print_header(f"{'files':>5} {'with digest':>11} {'MB':>8} {'hash s':>8} {'start-up s':>10} {'ratio':>7}")
    print(f"{len(files):>5} {recorded:>11} {size_mb:>8.1f} {hash_s:>8.3f} {startup_s:>10.3f} {ratio:>6.3f}x")
    print(f"hashing runs at {size_mb / max(hash_s, 1e-9):.0f} MB/s; median of {args.repeats} runs each")
    write_json(
        RESULTS,
        {
            "params": str(args.params),
            "files": len(files),
            "files_with_digest": recorded,
            "megabytes": round(size_mb, 1),
            "hash_s": round(hash_s, 4),
            "startup_s": round(startup_s, 4),
            "startup_ratio_with_vs_without_check": round(ratio, 4),
            "repeats": args.repeats,
            "machine": platform.processor() or platform.machine(),
        },
    )


if __name__ == "__main__":
    main()

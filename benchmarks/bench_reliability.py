"""Reliability benchmark: hostile and normal requests to a live `movie-genie serve` (gunicorn on 127.0.0.1).

Per defect class it counts requests sent, 5xx answers (and refused connections: a server that did not start),
and acknowledged-then-lost writes. Classes:
- deep_json: bodies nested 1,000 to 10,000 deep on POST /api/feedback and /api/users;
- unicode_digits: GET /api/users?q=³ and other digits that str.isdigit accepts and int() does not;
- bool_as_number / control_chars: `true` as a rating or an id, control characters in a display name (also counts
  the ones wrongly ACCEPTED: a 2xx for them);
- retried_sign_up: POST /api/users twice with the same Idempotency-Key (counts duplicated users);
- normal: recommendations, a film, search, health;
- corrupt_index: the same normal requests to a server started on a truncated encoder.onnx;
- vanished_db: the SQLite file deleted under the running server, then feedback writes: every 2xx is a write
  acknowledged and lost (the file it went to no longer exists).

Run (artefacts: a folder built by tests/artefacts.py, e.g. MOVIE_GENIE_API_ARTEFACTS):
    .venv/bin/python benchmarks/bench_reliability.py --artefacts /tmp/api-artefacts [--src DIR] [--label after]
`--src` serves another checkout's src/ (e.g. `git archive <commit>` unpacked) to measure "before".
Prints a table and writes benchmarks/results/reliability.json (one entry per label).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.live_server import LiveServer, free_port  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "reliability.json"
Result = dict[str, int]


def call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> int:
    """The status of one request (0 when the connection is refused or drops)."""
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def tally(statuses: list[int]) -> Result:
    """Requests, 5xx (a refused connection counts: nothing answered), of which 503 (a documented "not available"
    answer, e.g. search without its index) and 2xx of one class."""
    return {
        "requests": len(statuses),
        "5xx": sum(1 for s in statuses if s >= 500 or s == 0),
        "503": sum(1 for s in statuses if s == 503),
        "2xx": sum(1 for s in statuses if 200 <= s < 300),
        "lost": 0,
    }


def hostile(base: str, rounds: int) -> dict[str, Result]:
    """Every input class, `rounds` times each."""
    out: dict[str, Result] = {}
    deep: list[int] = []
    for i in range(rounds):
        depth = 1000 if i % 2 == 0 else 10_000
        text = ("[" * depth + "]" * depth) if i % 4 < 2 else ('{"a":' * depth + "1" + "}" * depth)
        for path in ("/api/feedback", "/api/users"):
            deep.append(call(base, "POST", path, text.encode()))
    out["deep_json"] = tally(deep)
    digits = ["³", "①", "½", "1²", "²³", "٣", "𝟙"]
    out["unicode_digits"] = tally(
        [call(base, "GET", "/api/users?q=" + urllib.request.quote(digits[i % len(digits)])) for i in range(rounds)]
    )
    bools = [
        {"user_id": 2, "movie_id": 1 + i % 50, "kind": "rating", "value": True} if i % 2 == 0 else
        {"user_id": True, "movie_id": 1 + i % 50, "kind": "like"}
        for i in range(rounds)
    ]  # fmt: skip
    out["bool_as_number"] = tally([call(base, "POST", "/api/feedback", b) for b in bools])
    names = ["nul\x00name", "bell\x07", "esc\x1b[31m", "c1\x85"]
    out["control_chars"] = tally(
        [
            call(base, "POST", "/api/users", {"liked_movie_ids": [1, 2, 3], "display_name": names[i % len(names)]})
            for i in range(rounds)
        ]
    )
    return out


def retried_sign_ups(base: str, rounds: int) -> Result:
    """Each sign-up sent twice with one key (a retry after a lost reply): a second 201 with a NEW user is a
    duplicate. Counted in `lost` as duplicated writes."""
    statuses: list[int] = []
    duplicates = 0
    for _ in range(rounds):
        key, client = uuid.uuid4().hex, uuid.uuid4().hex  # a replay answers only the caller that sent the key
        ids = []
        for _attempt in range(2):
            request = urllib.request.Request(
                base + "/api/users",
                data=json.dumps({"liked_movie_ids": [1, 2, 3]}).encode(),
                method="POST",
                headers={"Content-Type": "application/json", "Idempotency-Key": key, "Client-Token": client},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    statuses.append(int(response.status))
                    ids.append(json.loads(response.read())["data"]["user"]["user_id"])
            except urllib.error.HTTPError as exc:
                statuses.append(int(exc.code))
        duplicates += len(set(ids)) - 1 if len(ids) == 2 else 0
    result = tally(statuses)
    result["lost"] = duplicates
    return result


def normal(base: str, rounds: int) -> Result:
    """Ordinary reads."""
    paths = ["/api/recommendations?user_id=5&k=10", "/api/movies/1", "/api/search?q=space%20adventure", "/api/ping"]
    return tally([call(base, "GET", paths[i % len(paths)]) for i in range(rounds)])


def vanished(base: str, database: Path, rounds: int) -> Result:
    """Delete the SQLite file under the server, then write: every 2xx is an acknowledged write that is lost."""
    call(base, "POST", "/api/feedback", {"user_id": 4, "movie_id": 1, "kind": "like"})  # warm the pool
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    statuses = [
        call(base, "POST", "/api/feedback", {"user_id": 4, "movie_id": 2 + i % 100, "kind": "watched"})
        for i in range(rounds)
    ]
    result = tally(statuses)
    result["lost"] = result["2xx"]
    return result


def serve(src: Path, params: Path, database: Path, log: Path) -> LiveServer | None:
    """`movie-genie serve` (1 worker) from `src`, or None when it does not start."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        PYTHONPATH=str(src), DATABASE_URL=f"sqlite:///{database}", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false"
    )
    code = "import sys; from movie_genie.cli import cli; sys.exit(cli())"
    command = [sys.executable, "-c", code, "--params", str(params), "serve", "--port", str(port), "--workers", "1"]
    try:
        return LiveServer.start(command, port=port, workers=1, env=env, log=log)
    except BaseException as exc:  # pytest.fail raises an OutcomeException: the server did not start
        print(f"server did not start ({type(exc).__name__}); log tail:\n{log.read_text(errors='replace')[-600:]}")
        return None


def prepared(artefacts: Path, work: Path, src: Path, *, corrupt: str | None = None) -> tuple[Path, Path]:
    """params.yaml and a fresh database for `src` (its own `db load`), optionally with a truncated artefact."""
    raw = yaml.safe_load((artefacts / "params.yaml").read_text())
    artifacts = artefacts / "artifacts"
    if corrupt is not None:
        copy = work / "artifacts"
        shutil.copytree(artifacts, copy, symlinks=True, ignore=shutil.ignore_patterns(Path(corrupt).name))
        data = (artifacts / corrupt).read_bytes()
        (copy / corrupt).write_bytes(data[: len(data) // 3])
        artifacts = copy
    raw["paths"] = {"data_dir": str(artefacts / "data"), "artifacts_dir": str(artifacts)}
    params = work / "params.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    database = work / "bench.db"
    env = {**os.environ, "PYTHONPATH": str(src), "DATABASE_URL": f"sqlite:///{database}", "HF_HUB_OFFLINE": "1"}
    code = "import sys; from movie_genie.cli import cli; sys.exit(cli())"
    import subprocess

    subprocess.run([sys.executable, "-c", code, "--params", str(params), "db", "load"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return params, database


def run(artefacts: Path, src: Path, rounds: int) -> dict[str, Result]:
    """Every class against servers started from `src`."""
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        work = Path(tmp)
        (work / "main").mkdir()
        params, database = prepared(artefacts, work / "main", src)
        server = serve(src, params, database, work / "main" / "serve.log")
        if server is None:
            raise SystemExit("the server on intact artefacts did not start")
        try:
            results.update(hostile(server.base, rounds))
            results["retried_sign_up"] = retried_sign_ups(server.base, max(1, rounds // 2))
            results["normal"] = normal(server.base, rounds)
            results["vanished_db"] = vanished(server.base, database, rounds)
        finally:
            server.stop()
        (work / "corrupt").mkdir()
        params, database = prepared(artefacts, work / "corrupt", src, corrupt="index/encoder.onnx")
        broken = serve(src, params, database, work / "corrupt" / "serve.log")
        try:
            results["corrupt_index"] = normal(broken.base if broken else "http://127.0.0.1:9", rounds)
        finally:
            if broken is not None:
                broken.stop()
    return results


def main() -> None:
    """Run, print the table, merge into the JSON file under `--label`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artefacts", type=Path, required=True, help="a folder built by tests/artefacts.py")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the src/ folder to serve")
    parser.add_argument("--label", default="after")
    parser.add_argument("--rounds", type=int, default=20, help="requests per class (bounded)")
    args = parser.parse_args()
    start = time.perf_counter()
    results = run(args.artefacts, args.src.resolve(), min(args.rounds, 200))
    print(f"\n{args.label}: {args.src} ({time.perf_counter() - start:.0f} s)")
    print(f"{'class':<18}{'requests':>10}{'5xx':>6}{'of 503':>8}{'2xx':>6}{'lost/dup':>10}")
    for name, r in results.items():
        print(f"{name:<18}{r['requests']:>10}{r['5xx']:>6}{r['503']:>8}{r['2xx']:>6}{r['lost']:>10}")
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    previous[args.label] = {"src": str(args.src), "rounds": args.rounds, "classes": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()

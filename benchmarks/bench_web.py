"""Web app benchmark: time from navigation start to the first "For you" card on Home, in Chromium.

`movie-genie serve` (one gunicorn worker) serves the built app (web/dist) and the API on loopback; Debian's
Chromium (through Playwright, which never downloads a browser here) opens Home with a user already chosen:
- cold: the first load in a fresh browser context (empty browser cache: the bundle is downloaded) and the first
        request for this user since the server started;
- warm: reloads of the same page (bundle cached by the browser, answers cached by the server).
Each user gets one cold run and `--warm` warm runs; the time is read in the page's own clock (0 = navigation
start) when the first card enters the DOM.

Target: the first row within 1.5 s (cold and warm median).

Needs the pipeline's artefacts (`make pipeline`, or --params pointing at another artefact set), the built web app
(`make web`) and Chromium (Debian: `apt-get install chromium`; or --chromium PATH).
Run: .venv/bin/python -m benchmarks.bench_web [--params params.yaml] [--users 9 42] [--warm 5]
Prints a table and writes benchmarks/results/web.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_api import Server, _free_port, run_meta
from benchmarks.output import write_json
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "web.json"
TARGET_MS = 1500.0
CARD = "[data-testid=row-for-you] [data-testid=movie-card]"
# Records, in the page's own clock (0 = navigation start), when the first "For you" card enters the DOM.
FIRST_ROW_OBSERVER = (
    "new MutationObserver((_, observer) => {"
    f"  if (document.querySelector('{CARD}')) {{"
    "    window.__firstRowMs = performance.now(); observer.disconnect(); }"
    "}).observe(document, { childList: true, subtree: true });"
)


def first_row_ms(browser: Any, base: str, user_id: int, warm: int, width: int) -> list[float]:
    """One cold load of Home for `user_id` in a fresh context, then `warm` reloads: ms to the first card, each."""
    context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")
    context.set_default_timeout(30_000)
    try:
        context.add_init_script(FIRST_ROW_OBSERVER)
        # The user is chosen before the first navigation, so the cold run also downloads the bundle.
        context.add_init_script(f"localStorage.setItem('movie-genie.user', '{user_id}')")
        page = context.new_page()
        runs: list[float] = []
        for _ in range(1 + warm):
            page.goto(f"{base}/")
            page.locator(CARD).first.wait_for()
            runs.append(float(page.evaluate("window.__firstRowMs")))
        return runs
    finally:
        context.close()


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--users", type=int, nargs="+", default=[9, 42, 100], help="MovieLens user ids")
    parser.add_argument("--warm", type=int, default=5, help="warm reloads per user after the cold load")
    parser.add_argument("--width", type=int, default=1440, help="viewport width in px")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args()
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        raise SystemExit("web/dist is missing: build the web app first with `make web`")
    if not args.chromium.is_file():
        raise SystemExit(f"{args.chromium} not found: `apt-get install -y chromium` (or pass --chromium PATH)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright  # a dev dependency, imported once the checks above pass

    load_before = os.getloadavg()
    by_user: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        # The in-process answer cache, as `make run` has; the sentence model from its package, never a hub.
        os.environ.pop("REDIS_URL", None)
        os.environ["HF_HUB_OFFLINE"] = "1"
        server = Server(args.params, _free_port(), 1, Path(tmp) / "server.log")
        try:
            server.wait_ready()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(args.chromium), args=CHROMIUM_ARGS)
                try:
                    for user_id in args.users:
                        by_user[user_id] = first_row_ms(browser, server.base, user_id, args.warm, args.width)
                        print(
                            f"user {user_id}: {', '.join(f'{ms:.0f}' for ms in by_user[user_id])} ms", file=sys.stderr
                        )
                finally:
                    browser.close()
        finally:
            server.stop()

    rows = []
    print(f"\nTime to the first 'For you' card on Home: Chromium, {args.width} px, one gunicorn worker, loopback")
    # Other processes on the machine slow both the browser and the server: record how busy it was around the run.
    after = os.getloadavg()
    print(
        f"machine load average (1/5/15 min) before: {'/'.join(f'{x:.1f}' for x in load_before)}, "
        f"after: {'/'.join(f'{x:.1f}' for x in after)} ({os.cpu_count()} CPUs)"
    )
    header = f"{'user':>6} {'cold ms':>9} {'warm median ms':>15} {'warm min ms':>12} {'warm max ms':>12}"
    print(header)
    print("-" * len(header))
    for user_id, runs in by_user.items():
        cold, warm = runs[0], runs[1:]
        row = {
            "user_id": user_id,
            "cold_ms": round(cold, 1),
            "warm_median_ms": round(statistics.median(warm), 1) if warm else None,
            "warm_runs_ms": [round(ms, 1) for ms in warm],
        }
        rows.append(row)
        spread = f"{min(warm):>12.0f} {max(warm):>12.0f}" if warm else f"{'-':>12} {'-':>12}"
        median = f"{statistics.median(warm):>15.0f}" if warm else f"{'-':>15}"
        print(f"{user_id:>6} {cold:>9.0f} {median} {spread}")
    colds = [runs[0] for runs in by_user.values()]
    warms = [ms for runs in by_user.values() for ms in runs[1:]]
    checks: dict[str, dict[str, Any]] = {
        "cold_ms_worst": {"value": round(max(colds), 1), "target": TARGET_MS},
        "warm_ms_median": {"value": round(statistics.median(warms), 1) if warms else None, "target": TARGET_MS},
    }
    for name, check in checks.items():
        check["met"] = check["value"] is not None and check["value"] <= check["target"]
        print(f"target {name}: {check['value']} ({'met' if check['met'] else 'MISSED'}; target {check['target']})")

    meta = {
        "browser": str(args.chromium),
        "viewport_width": args.width,
        "warm_runs_per_user": args.warm,
        "params": str(args.params),
        **run_meta(load_before, "bench_web.py"),
    }
    write_json(RESULTS, {"meta": meta, "results": rows, "targets": checks})


if __name__ == "__main__":
    main()

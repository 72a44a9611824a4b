"""Installable-app benchmark, in Chromium's phone emulation (390x844, touch, 3x pixels): how fast Home opens from the
service worker, online and offline, against the same page without it; and, when Lighthouse is at hand, its scores.

`movie-genie serve` (one gunicorn worker) serves the built app (web/dist) and the API on loopback; Debian's Chromium
(through Playwright, which never downloads a browser) opens Home for a MovieLens user:
- baseline: reloads with service workers blocked (the browser's HTTP cache only: the bundle is cached, the rows are
  fetched);
- worker, online: reloads with the service worker in control (the shell from its precache, the rows from the server);
- worker, offline: reloads with the network cut (the shell and the rows from the worker's copies; the dated notice
  must show).
Each time is read in the page's own clock (0 = navigation start) when the first "For you" card enters the DOM; the
table gives medians and the ratio of each to the baseline measured in the same run. Target: offline start within
1.5 s (the web benchmark's target for a first row).

Lighthouse (`--lighthouse PATH`, its CLI from `npm install lighthouse`, run on Node against the same Chromium):
performance, accessibility, best practices and SEO of the profile chooser (a first visit, storage reset), of Home
with a profile chosen (nothing cached yet), and of Home again (its files from the service worker the first visit
installed, as when an installed app starts), mobile form factor, simulated slow 4G and 4x CPU slowdown. Its
scores depend on the machine's load (recorded in the JSON). Lighthouse 12 removed the PWA category; what it checked
for installation is what Chromium reports through `Page.getInstallabilityErrors`, recorded here and asserted by
tests/e2e.

Run: .venv/bin/python -m benchmarks.bench_pwa [--params params.yaml] [--user 9] [--runs 7] [--lighthouse PATH]
Prints a table and writes benchmarks/results/pwa.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.bench_api import Server, _free_port, run_meta
from benchmarks.bench_web import CARD, FIRST_ROW_OBSERVER
from benchmarks.output import print_header, write_json
from tests.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pwa.json"
TARGET_OFFLINE_MS = 1500.0
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
CONTROLLED = (
    "async () => { await navigator.serviceWorker.ready; if (!navigator.serviceWorker.controller) await new Promise("
    "r => navigator.serviceWorker.addEventListener('controllerchange', r, {once: true})); return true; }"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift")


def _phone(playwright: Any, profile: Path, chromium: Path, workers: str) -> Any:
    """A phone-sized Chromium with a profile on disk (installable, unlike an incognito context)."""
    context = playwright.chromium.launch_persistent_context(
        profile, executable_path=str(chromium), args=CHROMIUM_ARGS, service_workers=workers, **PHONE
    )
    context.set_default_timeout(30_000)
    context.add_init_script(FIRST_ROW_OBSERVER)
    return context


def _reloads(page: Any, runs: int, notice: bool = False) -> list[float]:
    times = []
    for _ in range(runs):
        page.reload()
        page.locator(CARD).first.wait_for()
        if notice:
            page.get_by_test_id("offline-notice").wait_for()
        times.append(float(page.evaluate("window.__firstRowMs")))
    return times


def measure_starts(base: str, user_id: int, runs: int, chromium: Path, tmp: Path) -> tuple[dict[str, list[float]], Any]:
    """First-card times of the three ways of opening Home, and Chromium's installability errors."""
    from playwright.sync_api import sync_playwright  # a dev dependency

    times: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        baseline = _phone(playwright, tmp / "baseline", chromium, "block")
        try:
            page = baseline.new_page()
            page.goto(f"{base}/users")
            page.evaluate(f"localStorage.setItem('movie-genie.user', '{user_id}')")
            page.goto(f"{base}/")
            page.locator(CARD).first.wait_for()
            times["baseline"] = _reloads(page, runs)
        finally:
            baseline.close()
        phone = _phone(playwright, tmp / "worker", chromium, "allow")
        try:
            page = phone.new_page()
            page.goto(f"{base}/users")
            page.evaluate(f"localStorage.setItem('movie-genie.user', '{user_id}')")
            page.goto(f"{base}/")
            page.evaluate(CONTROLLED)
            cdp = phone.new_cdp_session(page)
            installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
            times["worker_online"] = _reloads(page, runs)
            phone.set_offline(True)
            times["worker_offline"] = _reloads(page, runs, notice=True)
        finally:
            phone.close()
    return times, installability


def seed_profile(base: str, user_id: int, chromium: Path, profile: Path) -> None:
    """A Chromium profile on disk whose only state is the chosen user (no service worker, no cached file)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = _phone(playwright, profile, chromium, "block")
        try:
            page = context.new_page()
            # A JSON answer of the same origin: its storage, without loading (and caching) the app's files.
            page.goto(f"{base}/api/health")
            page.evaluate(f"localStorage.setItem('movie-genie.user', '{user_id}')")
        finally:
            context.close()


def lighthouse(binary: Path, url: str, chromium: Path, profile: Path | None, out: Path) -> dict[str, Any]:
    """One Lighthouse run (mobile): category scores out of 100 and the main metrics."""
    flags = "--headless=new --no-sandbox --disable-gpu" + (f" --user-data-dir={profile}" if profile else "")
    command = [str(binary), url, f"--only-categories={','.join(CATEGORIES)}", "--form-factor=mobile"]
    command += [f"--chrome-flags={flags}", "--output=json", f"--output-path={out}", "--quiet"]
    if profile:
        command.append("--disable-storage-reset")  # keep the chosen profile (and nothing else: see seed_profile)
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": str(chromium)}, timeout=600)
    report = json.loads(out.read_text(encoding="utf-8"))
    if report.get("runtimeError"):
        raise SystemExit(f"Lighthouse could not audit {url}: {report['runtimeError']}")
    return {
        "lighthouse_version": report["lighthouseVersion"],
        "scores": {name: round(100 * report["categories"][name]["score"]) for name in CATEGORIES},
        "metrics": {name: report["audits"][name]["displayValue"] for name in METRICS},
    }


def main() -> None:
    """Run the benchmark and write the results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    parser.add_argument("--user", type=int, default=9, help="a MovieLens user id (local demo mode reads any)")
    parser.add_argument("--runs", type=int, default=7, help="reloads per way of opening Home")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument("--lighthouse", type=Path, default=None, help="Lighthouse's CLI (node_modules/.bin/lighthouse)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not (ROOT / "web" / "dist" / "sw.js").is_file():
        raise SystemExit("web/dist has no service worker: build the web app first with `make web`")
    if not args.chromium.is_file():
        raise SystemExit(f"{args.chromium} not found: `apt-get install -y chromium` (or pass --chromium PATH)")
    if args.lighthouse is not None and not args.lighthouse.is_file():
        raise SystemExit(f"{args.lighthouse} not found: `npm install lighthouse` somewhere and pass its CLI")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

    load_before = os.getloadavg()
    audits: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pwa-") as name:
        tmp = Path(name)
        os.environ.pop("REDIS_URL", None)
        os.environ["HF_HUB_OFFLINE"] = "1"
        server = Server(args.params, _free_port(), 1, tmp / "server.log")
        try:
            server.wait_ready()
            times, installability = measure_starts(server.base, args.user, args.runs, args.chromium, tmp)
            if args.lighthouse is not None:
                audits["first_visit"] = lighthouse(
                    args.lighthouse, f"{server.base}/", args.chromium, None, tmp / "a.json"
                )
                seed_profile(server.base, args.user, args.chromium, tmp / "seeded")
                audits["home"] = lighthouse(
                    args.lighthouse, f"{server.base}/", args.chromium, tmp / "seeded", tmp / "b.json"
                )
                # The same profile again: the service worker the first run installed now serves the app's files, as
                # it does each time an installed app starts.
                audits["home_again"] = lighthouse(
                    args.lighthouse, f"{server.base}/", args.chromium, tmp / "seeded", tmp / "c.json"
                )
        finally:
            server.stop()

    base_median = statistics.median(times["baseline"])
    print(
        f"\nTime to the first 'For you' card on Home, user {args.user}: Chromium at 390x844, {args.runs} reloads each"
    )
    print_header(f"{'opened':<34} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'/ baseline':>11}")
    labels = {
        "baseline": "no service worker (HTTP cache)",
        "worker_online": "service worker, online",
        "worker_offline": "service worker, offline (kept rows)",
    }
    rows = []
    for key, label in labels.items():
        runs = times[key]
        ratio = statistics.median(runs) / base_median
        print(f"{label:<34} {statistics.median(runs):>10.0f} {min(runs):>8.0f} {max(runs):>8.0f} {ratio:>10.2f}x")
        rows.append(
            {
                "opened": key,
                "median_ms": round(statistics.median(runs), 1),
                "runs_ms": [round(t, 1) for t in runs],
                "ratio_to_baseline": round(ratio, 3),
            }
        )
    print(f"Chromium's installability errors: {installability or 'none'}")
    for page, audit in audits.items():
        scores = ", ".join(f"{name} {score}" for name, score in audit["scores"].items())
        print(f"Lighthouse {audit['lighthouse_version']} ({page}): {scores}; {audit['metrics']}")
    after = os.getloadavg()
    print(
        f"machine load average before: {'/'.join(f'{x:.1f}' for x in load_before)}, after: "
        f"{'/'.join(f'{x:.1f}' for x in after)} ({os.cpu_count()} CPUs)"
    )
    offline = statistics.median(times["worker_offline"])
    checks = {
        "offline_start_ms_median": {
            "value": round(offline, 1),
            "target": TARGET_OFFLINE_MS,
            "met": offline <= TARGET_OFFLINE_MS,
        },
        "installability_errors": {"value": installability, "target": [], "met": installability == []},
    }
    for name, check in checks.items():
        print(f"target {name}: {check['value']} ({'met' if check['met'] else 'MISSED'}; target {check['target']})")
    meta = {
        "browser": str(args.chromium),
        "viewport": "390x844",
        "user_id": args.user,
        "runs": args.runs,
        "params": args.params.name,
        **run_meta(load_before, "bench_pwa.py"),
    }
    write_json(args.out, {"meta": meta, "starts": rows, "lighthouse": audits, "targets": checks})
    sys.stdout.flush()


if __name__ == "__main__":
    main()

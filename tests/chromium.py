"""The Chromium the browser tests (tests/e2e) and the web benchmark (benchmarks/bench_web.py) drive: Debian's,
headless, through Playwright (which never downloads a browser here)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("MOVIE_GENIE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

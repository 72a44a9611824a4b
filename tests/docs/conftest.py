"""The docs generators (docs/gen) and the benchmarks they render are packages of the checkout, not of the installed
project: the checkout's root goes on the import path, as docs/gen_pages.py puts it there for the build."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

"""Run every benchmark script (`python -m benchmarks [NAME ...]`), each in its own process with its defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    """Run the named benchmarks (e.g. `models search`), or all of them; return the number that failed."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in argv}
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            print(f"unknown benchmark(s): {sorted(unknown)}; available: {[s.stem for s in scripts]}", file=sys.stderr)
            return 2
        scripts = [s for s in scripts if s.name in wanted]
    failed = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        # As modules of this package, so a benchmark can reuse another's helpers (e.g. bench_api.Server).
        module = f"{HERE.name}.{script.stem}"
        if subprocess.run([sys.executable, "-m", module], cwd=HERE.parent, check=False).returncode != 0:
            print(f"!! {script.stem} failed", file=sys.stderr)
            failed += 1
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

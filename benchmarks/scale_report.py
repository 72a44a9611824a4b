"""The scale benchmark's tables, growth exponents, plot and docs page (docs/gen_pages.py renders
docs/results/scale.json with `plot_costs` and `scale_markdown` at build time)."""

import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scale_stages import NEURAL, STAGES

# ----------------------------------------------------------------------------------------------------------------
# Table and growth exponents
# ----------------------------------------------------------------------------------------------------------------


def _human_s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def cell(row: dict[str, Any]) -> str:
    """One table cell: time (or latency) and peak memory; capped stages give the rate reached and the estimate."""
    status = row.get("status")
    if status in ("skipped", "failed"):
        return status
    if status == "refused":
        needs = row.get("needs_gib")
        return f"refused (needs {needs:,.0f} GiB)" if needs else "refused"
    if "latency" in row:
        text = ", ".join(f"{k} {v['p50_ms']:.1f}" for k, v in row["latency"].items())
        return f"p50 ms: {text}"
    memory = f"{row['peak_mib'] / 1024:.1f} GiB" if row.get("peak_mib") else ""
    if status == "capped":
        rate = f"{row['rate']:,.1f} {row['unit']}/s" if row.get("rate") else "no rate"
        est = f", est. {_human_s(row['estimated_s'])}" if row.get("estimated_s") else ""
        return f"capped at {_human_s(row['seconds'])} ({rate}{est}), {memory}"
    return f"{_human_s(row['seconds'])}, {memory}"


def stage_cost(row: dict[str, Any]) -> float | None:
    """The stage's full time: measured, or extrapolated from the rate a capped stage reached; None otherwise."""
    if row.get("status") == "ok":
        return float(row["seconds"])
    if row.get("status") == "capped" and row.get("estimated_s"):
        return float(row["estimated_s"])
    return None


def growth_exponents(rows: list[dict[str, Any]], sizes: dict[float, int]) -> dict[str, float]:
    """Per stage: the slope of log(time) against log(ratings) over the scales with a cost (time ~ ratings^slope)."""
    exponents = {}
    for stage in STAGES:
        # Latency rows time a fixed number of requests: their growth is the latency ratio, shown on its own.
        points = [(sizes[r["scale"]], stage_cost(r)) for r in rows if r["stage"] == stage and "latency" not in r]
        points = [(n, c) for n, c in points if c and n]
        if len(points) >= 2:
            x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            exponents[stage] = float(np.polyfit(x, y, 1)[0])
    return exponents


# ----------------------------------------------------------------------------------------------------------------
# The docs page: docs/gen_pages.py renders docs/results/scale.json with these two functions at build time
# ----------------------------------------------------------------------------------------------------------------

PLOTTED = (
    "data", "split", "embed", "train ease", *(f"train {m} (1 epoch)" for m in NEURAL), "evaluate", "index",
    "db load sqlite", "db load postgres",
)  # fmt: skip


def plot_costs(payload: dict[str, Any], path: Path) -> None:
    """Log-log plot of each stage's time against the number of ratings: filled = measured, open = estimated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratings = {float(s): c["ratings"] for s, c in payload["sizes"].items()}
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, stage in enumerate(PLOTTED):
        points = [(ratings[r["scale"]], stage_cost(r), r["status"]) for r in payload["rows"] if r["stage"] == stage]
        points = [p for p in points if p[1]]
        if not points:
            continue
        colour = plt.get_cmap("tab20")(i % 20)
        k = payload["growth_exponents"].get(stage)
        label = f"{stage} (k = {k:.2f})" if k is not None else stage
        ax.plot([p[0] for p in points], [p[1] for p in points], "-", color=colour, label=label, alpha=0.8)
        for x, y, status in points:
            ax.plot(x, y, "o", color=colour, markerfacecolor=colour if status == "ok" else "white")
    ax.set(xscale="log", yscale="log", xlabel="ratings", ylabel="seconds (open marker: estimated from the rate)")
    ax.set_title("Cost of each stage against data size (time ~ ratings^k)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _ratio(a: float | None, b: float | None) -> str:
    return f"x{a / b:.2f}" if a and b else "n/a"


def scale_markdown(payload: dict[str, Any], plot: str) -> str:
    """The results section of docs/scale.md: sizes, the stage x scale table, growth exponents, the plot, the
    latency at 10x the films, the vector index at 10k and 100k films, and torchrun's speed-up."""
    scales = sorted(float(s) for s in payload["sizes"])
    sizes = payload["sizes"]
    load = payload["load_average"]
    caps: dict[float, dict[float, list[str]]] = {}  # scale -> cap -> stages
    for r in payload["rows"]:
        if "cap_s" in r:
            caps.setdefault(r["scale"], {}).setdefault(r["cap_s"], []).append(r["stage"])

    def caps_text(scale: float) -> str:
        by_cap = sorted(caps[scale].items(), key=lambda item: -len(item[1]))
        extra = "".join(f" ({cap:.0f} s for {', '.join(stages)})" for cap, stages in by_cap[1:])
        return f"{scale:g}x {by_cap[0][0]:.0f} s{extra}"

    out = [
        "*Generated at build time from `docs/results/scale.json`, never edited by hand. Written by "
        + "; then ".join(f"`nice -n 10 .venv/bin/python -m benchmarks.bench_scale {c}`" for c in payload["runs"])
        + ".*",
        "",
        f"**Machine** {payload['machine']['cpus']} cores, {payload['machine']['memory_gib']:.0f} GiB, shared "
        f"(every time here moves with the load; in the last run that wrote the file the load average was "
        f"{load['start'][0]:.1f} at the start and {load['end'][0]:.1f} at the end, and a fixed single-threaded "
        "workload, `benchmarks/bench_pipeline.py`'s calibration, took "
        f"{payload['calibration_s']['before']:.1f} s before and {payload['calibration_s']['after']:.1f} s after). "
        "**Time caps per stage** "
        + " · ".join(caps_text(s) for s in sorted(caps))
        + f"; {payload['memory_gib']:g} GiB per stage (and EASE's budget).",
        "",
        "| scale | users | films | ratings | tags |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {s:g}x | {sizes[f'{s:g}']['users']:,} | {sizes[f'{s:g}']['movies']:,} | "
            f"{sizes[f'{s:g}']['ratings']:,} | {sizes[f'{s:g}']['tags']:,} |"
            for s in scales
        ),
        "",
        "### Every stage at every scale",
        "",
        "Time and peak resident memory of the stage's process; **capped**: stopped at the cap, with the rate it "
        "reached and the full time that rate implies (*est.*); **refused**: the stage's own memory check stopped it "
        "before any work. Latency rows: median milliseconds of one request.",
        "",
        "| stage | " + " | ".join(f"{s:g}x" for s in scales) + " | k |",
        "| --- | " + " | ".join("---" for _ in scales) + " | ---: |",
    ]
    exponents = payload["growth_exponents"]
    for stage in payload["stages"]:
        cells = {r["scale"]: cell(r) for r in payload["rows"] if r["stage"] == stage}
        k = f"{exponents[stage]:.2f}" if stage in exponents else ""
        out.append(f"| {stage} | " + " | ".join(cells.get(s, "-") for s in scales) + f" | {k} |")
    notes = [f"{r['scale']:g}x {r['stage']}: {r['note']}" for r in payload["rows"] if r.get("note")]
    out += ["", "*k*: the growth exponent, the slope of log(time) against log(ratings) over the scales with a "
            "measured or estimated time (1 = linear in the data).", ""]  # fmt: skip
    if notes:
        out += ['??? note "Notes on single cells"', "", *(f"    - {n}" for n in notes), ""]
    out += [f"![Cost of each stage against the number of ratings, log-log]({plot})", ""]

    latency: dict[float, dict[str, dict[str, float]]] = {}  # scale -> request -> p50/p95
    for r in payload["rows"]:
        if r["stage"] in ("recommend", "search") and "latency" in r:
            latency.setdefault(r["scale"], {}).update(r["latency"])
    if len(latency) >= 2:
        low, high = min(latency), max(latency)
        films = {s: sizes[f"{s:g}"]["movies"] for s in (low, high)}
        out += [
            f"### Latency at {films[high] / films[low]:.1f}x the films ({low:g}x -> {high:g}x)",
            "",
            "| request | " + f"{low:g}x ({films[low]:,} films) | {high:g}x ({films[high]:,} films) | ratio |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in sorted(set(latency[low]) | set(latency[high])):
            a, b = latency[low].get(name, {}).get("p50_ms"), latency[high].get(name, {}).get("p50_ms")
            fmt = lambda v: f"{v:.2f} ms" if v else "-"  # noqa: E731
            out.append(f"| {'search' if name == 'hybrid' else 'recommend ' + name} | {fmt(a)} | {fmt(b)} | "
                       f"{_ratio(b, a)} |")  # fmt: skip
        out.append("")
    ann = payload.get("ann") or {}
    if ann.get("rows"):
        out += [
            "### The vector index at 10k and 100k films",
            "",
            f"Vectors: {ann['vectors']}; 200 held-out queries, one thread; recall@10 against exact search. "
            "*Configured*: the index and `efSearch` that `search.vector` picks at that size.",
            "",
            "| films | index | efSearch | configured | build | p50 | p95 | recall@10 |",
            "| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for a in ann["rows"]:
            out.append(f"| {a['films']:,} | {a['index']} | {a['ef_search'] or ''} | "
                       f"{'yes' if a['configured'] else ''} | {a['build_s']:.1f} s | {a['p50_ms']:.3f} ms | "
                       f"{a['p95_ms']:.3f} ms | {a['recall10']:.3f} |")  # fmt: skip
        chosen = {a["films"]: a for a in ann["rows"] if a["configured"]}
        if len(chosen) == 2:
            small, big = sorted(chosen)
            ratio = chosen[big]["p50_ms"] / chosen[small]["p50_ms"]
            verdict = "met" if ratio <= 2 else "not met"
            out += ["", f"As configured, {big:,} films cost x{ratio:.2f} the query latency of {small:,} (target: at "
                    f"most x2, **{verdict}**), at recall@10 {chosen[big]['recall10']:.3f}.", ""]  # fmt: skip
            good = [a for a in ann["rows"] if a["films"] == big and a["index"] == "hnsw" and a["recall10"] >= 0.95]
            if good:
                best = min(good, key=lambda a: a["p50_ms"])
                out += [f"The fastest HNSW setting with recall@10 of at least 0.95 at {big:,} films (efSearch "
                        f"{best['ef_search']}) costs x{best['p50_ms'] / chosen[small]['p50_ms']:.2f}.", ""]  # fmt: skip
    if payload.get("ddp"):
        out += [
            "### Two processes with torchrun (1x, gloo, one thread each)",
            "",
            "| model | 1 process, s/epoch | 2 processes, s/epoch | speed-up | scaling efficiency |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for d in payload["ddp"]:
            out.append(f"| {d['model']} | {d['epoch_s_1']:.1f} | {d['epoch_s_2']:.1f} | x{d['speedup']:.2f} | "
                       f"{d['efficiency']:.0%} |")  # fmt: skip
        out.append("")
    return "\n".join(out) + "\n"


def print_table(rows: list[dict[str, Any]], scales: list[float]) -> None:
    print(f"\n{'stage':<28}" + "".join(f"{f'{s:g}x':>44}" for s in scales))
    for stage in STAGES:
        cells = {r["scale"]: cell(r) for r in rows if r["stage"] == stage}
        print(f"{stage:<28}" + "".join(f"{cells.get(s, '-'):>44}" for s in scales))


_PATH = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+([\w.-]+)")  # absolute paths only (not .venv/bin/python)


def command_arguments(command: str) -> str:
    """A run's arguments to this benchmark, with the scratch folder of --keep written as DIR."""
    words = shlex.split(command.split("benchmarks.bench_scale", 1)[-1])
    return shlex.join(["DIR" if i and words[i - 1] == "--keep" else w for i, w in enumerate(words)])


def portable(value: Any) -> Any:
    """The result without this machine's paths (scratch folders in messages): each path becomes its last part."""
    if isinstance(value, str):
        return _PATH.sub(r"\1", value)
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items() if k != "summary"}
    if isinstance(value, list):
        return [portable(v) for v in value]
    return value

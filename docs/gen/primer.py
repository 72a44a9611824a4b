"""The primer's picture: <!-- gen:long-tail -->, drawn from the data set that ships with the repository."""

from __future__ import annotations

import posixpath
from pathlib import Path

from docs.gen.common import ROOT

SHIPPED_RATINGS = ROOT / "datasets" / "ml-latest-small" / "ml-latest-small.zip"
LONG_TAIL_PLOT = "assets/primer/long_tail.png"


def long_tail_section(page: str) -> tuple[str, dict[str, Path]]:
    """The <!-- gen:long-tail --> figure: how the ratings of the shipped data set spread over its films (sorted by
    rating count, the cumulative share of ratings), with the figures read off it; computed at build time from the
    zip that ships with the repository, so it needs no pipeline run."""
    import tempfile
    import zipfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    with zipfile.ZipFile(SHIPPED_RATINGS) as archive, archive.open("ml-latest-small/ratings.csv") as ratings:
        counts = pd.read_csv(ratings, usecols=["movieId"])["movieId"].value_counts().to_numpy()  # most rated first
    share = np.cumsum(counts) / counts.sum()  # (films,) share of all ratings held by the top k films
    films = np.arange(1, len(counts) + 1) / len(counts)
    top = max(1, round(0.01 * len(counts)))
    half = int(np.searchsorted(share, 0.5)) + 1
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.plot(100 * films, 100 * share)
    ax.set_xscale("log")
    ax.set(xlabel="% of films, most rated first (log scale)", ylabel="% of all ratings", title="ml-latest-small")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    png = Path(tempfile.mkdtemp(prefix="long-tail-")) / "long_tail.png"
    fig.savefig(png, dpi=110)
    plt.close(fig)
    text = (
        f"*Computed from `datasets/ml-latest-small/ml-latest-small.zip` when this site was built.* Of "
        f"{len(counts):,} rated films, the {top:,} most rated (1%) hold {share[top - 1]:.0%} of the "
        f"{counts.sum():,} ratings, half of all ratings go to the {half:,} most rated films "
        f"({half / len(counts):.0%} of them), and {int((counts == 1).sum()):,} films were rated exactly once.\n\n"
        f"![The cumulative share of ratings against the share of films]"
        f"({posixpath.relpath(LONG_TAIL_PLOT, posixpath.dirname(page) or '.')})\n"
    )
    return text, {LONG_TAIL_PLOT: png}

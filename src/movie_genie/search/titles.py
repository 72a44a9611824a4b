"""Typo-tolerant title matching ("termnator" -> The Terminator) and search-box suggestions, with rapidfuzz.

Each title is compared in a few normalised forms (whole title, without a leading article, the part before a colon
or bracket), so "lord of the rings" matches "The Lord of the Rings: The Fellowship of the Ring" as well as it
matches the whole title.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

_ARTICLES = ("the ", "a ", "an ", "la ", "le ", "les ", "el ", "il ", "der ", "die ", "das ")
_NON_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: "Amélie (Le fabuleux...)" -> "amelie le ..."."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.lower().replace("_", " ")).strip()


def _strip_article(text: str) -> str:
    for article in _ARTICLES:
        if text.startswith(article) and len(text) > len(article):
            return text[len(article) :]
    return text


def title_variants(title: str) -> list[str]:
    """Distinct normalised forms a person might type for this title."""
    forms = [normalise(title)]
    head = re.split(r"[:(\[]| - ", title, maxsplit=1)[0]
    forms.append(normalise(head))
    forms += [_strip_article(f) for f in list(forms)]
    seen: list[str] = []
    for form in forms:
        if form and form not in seen:
            seen.append(form)
    return seen


class TitleMatcher:
    """Scores every title against a query (0-100) and suggests titles for a typed prefix."""

    def __init__(self, titles: Sequence[str], popularity: np.ndarray) -> None:
        self._n = len(titles)
        self._popularity = np.asarray(popularity, dtype=np.int64)  # [n] ratings per movie: ties go to popular
        variants: list[str] = []
        owners: list[int] = []
        for i, title in enumerate(titles):
            for form in title_variants(title):
                variants.append(form)
                owners.append(i)
        self._variants = variants
        self._owners = np.asarray(owners, dtype=np.int64)  # [n_variants] -> movie row
        # Every word start of every variant, sorted, for prefix look-ups by bisection ("termin", "empire str").
        starts: list[tuple[str, int, int]] = []  # (suffix, row, 0 = start of title / 1 = inside)
        for form, row in zip(variants, owners, strict=True):
            words = form.split(" ")
            for w in range(len(words)):
                starts.append((" ".join(words[w:]), row, 0 if w == 0 else 1))
        starts.sort()
        self._prefix_keys = [s[0] for s in starts]
        self._prefix_rows = np.asarray([s[1] for s in starts], dtype=np.int64)
        self._prefix_kind = np.asarray([s[2] for s in starts], dtype=np.int64)

    def scores(self, query: str) -> np.ndarray:
        """Best fuzzy score of each movie's title forms against the query: float32 [n], 0-100."""
        q = normalise(query)
        best = np.zeros(self._n, dtype=np.float32)
        if not q:
            return best
        # QRatio is a plain normalised Levenshtein ratio: ~0.5 ms over 10k titles, where WRatio takes ~30 ms.
        raw = process.cdist([q], self._variants, scorer=fuzz.QRatio, dtype=np.float32, workers=1)[0]
        np.maximum.at(best, self._owners, raw)
        return best

    def suggest(
        self, prefix: str, k: int, min_fuzzy: float, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Up to k (row, score) for a typed prefix: title starts, word starts, then fuzzy (>= min_fuzzy; >100 skips)."""
        p = normalise(prefix)
        if not p or k <= 0:
            return []
        lo = bisect.bisect_left(self._prefix_keys, p)
        hi = bisect.bisect_right(self._prefix_keys, p + "\uffff")
        best_kind: dict[int, int] = {}
        for row, kind in zip(self._prefix_rows[lo:hi].tolist(), self._prefix_kind[lo:hi].tolist(), strict=True):
            if allowed is not None and not allowed[row]:
                continue
            best_kind[row] = min(kind, best_kind.get(row, kind))
        ranked = sorted(best_kind, key=lambda r: (best_kind[r], -self._popularity[r], r))
        out = [(r, 100.0 if best_kind[r] == 0 else 90.0) for r in ranked[:k]]
        if len(out) < k and min_fuzzy <= 100:
            # Typo in the prefix: compare it with the first len(prefix) characters of each title form.
            cut = [v[: len(p)] for v in self._variants]
            raw = process.cdist([p], cut, scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
            fuzzy = np.zeros(self._n, dtype=np.float32)
            np.maximum.at(fuzzy, self._owners, raw)
            taken = {r for r, _ in out}
            order = np.lexsort((-self._popularity, -fuzzy))
            for row in order.tolist():
                if len(out) >= k or fuzzy[row] < min_fuzzy:
                    break
                if row in taken or (allowed is not None and not allowed[row]):
                    continue
                out.append((row, float(fuzzy[row]) * 0.85))
        return out

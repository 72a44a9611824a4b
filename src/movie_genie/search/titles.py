"""Typo-tolerant title matching ("termnator" -> The Terminator) and search-box suggestions, with rapidfuzz.

Each title is compared in a few normalised forms (whole title, without a leading article, the part before a colon
or bracket), so "lord of the rings" matches "The Lord of the Rings: The Fellowship of the Ring" as well as it
matches the whole title.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence

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
        # Every variant in one string, each wrapped in spaces and ended by a newline, for whole-word phrase search
        # in C (str.find) rather than a Python loop over ~30k variants.
        self._joined = "".join(f" {v} \n" for v in variants)
        self._starts = np.cumsum([0] + [len(v) + 3 for v in variants[:-1]]).astype(np.int64)  # [n_variants]
        # Title words weighted by the ratings of the films that have them: the vocabulary of "did you mean".
        weight: dict[str, int] = {}
        for form, row in zip(variants, owners, strict=True):
            for word in set(form.split(" ")):
                if len(word) >= 3 and not word.isdigit():
                    weight[word] = weight.get(word, 0) + int(self._popularity[row]) + 1
        self._words = list(weight)
        self._word_weight = np.asarray([weight[w] for w in self._words], dtype=np.int64)
        self._word_set = frozenset(self._words)

    def has_word(self, word: str) -> bool:
        """Whether the word (3+ letters) occurs in some title."""
        return normalise(word) in self._word_set

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

    def containing(self, query: str) -> np.ndarray:
        """Rows whose title holds the query as whole words ("star wars" in "Rogue One: A Star Wars Story"): bool [n]."""
        found = np.zeros(self._n, dtype=bool)
        q = _strip_article(normalise(query))
        if not q:
            return found
        needle = f" {q} "
        at = self._joined.find(needle)
        while at >= 0:
            variant = int(np.searchsorted(self._starts, at, side="right")) - 1
            found[self._owners[variant]] = True
            at = self._joined.find(needle, at + 1)
        return found

    def correct(self, query: str, min_score: float, keep: Callable[[str], bool] | None = None) -> str | None:
        """The query with each unknown word (4+ letters, in no title, not kept) replaced by the closest title word."""
        words = normalise(query).split(" ")
        fixed = list(words)
        for i, word in enumerate(words):
            if len(word) < 4 or word in self._word_set or word.isdigit() or (keep is not None and keep(word)):
                continue
            raw = process.cdist([word], self._words, scorer=fuzz.ratio, dtype=np.float32, workers=1)[0]
            best = float(raw.max()) if raw.size else 0.0
            if best < min_score:
                continue
            # Among equally close words, the one in the most-rated titles ("godfater" -> godfather, not godfathers).
            close = np.flatnonzero(raw >= best - 1e-6)
            fixed[i] = self._words[int(close[np.argmax(self._word_weight[close])])]
        return " ".join(fixed) if fixed != words else None

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

"""BM25 over the movie documents with bm25s, English stop words and Snowball stemming (PyStemmer).

The title is repeated `title_boost` times in the indexed text: the usual way to weigh a field up in a
single-field BM25 index, so a query word in the title counts more than the same word in the overview.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from movie_genie.search.config import LexicalConfig
from movie_genie.search.documents import MovieDocument
from movie_genie.search.errors import IndexMissingError

_META = "lexical.json"
# bm25s.tokenize's defaults, repeated for queries: its tokenizer builds progress bars and a vocabulary per call
# (~2 ms); this does the same lower-case -> split -> drop stop words -> stem in microseconds.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# Words that describe the request, not the film ("scary movie about ..."), dropped from queries only: indexed
# titles keep them, and the title retriever still finds "Scary Movie".
QUERY_STOPWORDS = frozenset(STOPWORDS_EN) | {"movie", "movies", "film", "films", "flick", "flicks", "about"}


def lexical_text(doc: MovieDocument, title_boost: int) -> str:
    """The document as BM25 sees it: the title `title_boost` times, then the full text (which has it once more)."""
    return " ".join([doc.title] * (title_boost - 1) + [doc.text])


class LexicalIndex:
    """A fitted BM25 index that scores every document for a query."""

    def __init__(self, retriever: bm25s.BM25, stemmer_language: str) -> None:
        self._retriever = retriever
        self._language = stemmer_language
        self._stemmer = Stemmer.Stemmer(stemmer_language)

    @classmethod
    def build(cls, docs: Sequence[MovieDocument], config: LexicalConfig) -> LexicalIndex:
        """Tokenise and index the documents (seconds for 10k movies)."""
        stemmer = Stemmer.Stemmer(config.stemmer)
        corpus = [lexical_text(d, config.title_boost) for d in docs]
        tokens = bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever = bm25s.BM25(k1=config.k1, b=config.b)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, config.stemmer)

    def save(self, folder: Path) -> None:
        """Write the bm25s arrays and the stemmer language into folder."""
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder), show_progress=False)
        (folder / _META).write_text(json.dumps({"stemmer": self._language}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by `save`."""
        if not (folder / _META).exists():
            raise IndexMissingError(f"{folder} holds no BM25 index: run `movie-genie index`")
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(retriever, meta["stemmer"])

    def tokens(self, query: str) -> list[str]:
        """The query's stemmed, stop-word-free tokens (may be empty, e.g. for emoji)."""
        words = [w for w in _TOKEN.findall(query.lower()) if w not in QUERY_STOPWORDS]
        return list(self._stemmer.stemWords(words))

    def knows(self, word: str) -> bool:
        """Whether the word (stemmed) occurs in any document: such a word is never "corrected"."""
        stems = self.tokens(word)
        return bool(stems) and all(stem in self._retriever.vocab_dict for stem in stems)

    def known_share(self, query: str) -> float:
        """Share of the query's tokens (stop words aside) that occur in some document; 0 when it has none."""
        tokens = self.tokens(query)
        if not tokens:
            return 0.0
        return sum(token in self._retriever.vocab_dict for token in tokens) / len(tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document: float32 [n] (all zero when no query token is in the vocabulary)."""
        n = int(self._retriever.scores["num_docs"])
        tokens = self.tokens(query)
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)

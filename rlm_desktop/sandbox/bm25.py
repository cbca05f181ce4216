"""A small in-worker BM25 index over page- or window-sized passages.

Used by the REPL's ``search()`` when the host gives no search function (the
library's FTS5 search replaces it for library documents). Built lazily on the
first query, so cells that never search pay nothing.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+")
PASSAGE_CHARS = 1500


@dataclass(frozen=True)
class Passage:
    """A span ``[start, end)`` of document number ``doc_index``."""

    doc_index: int
    start: int
    end: int


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def split_passages(text: str, page_starts: tuple[int, ...], doc_index: int,
                   size: int = PASSAGE_CHARS) -> list[Passage]:
    """Pages, with pages longer than ``size`` cut into windows ending at whitespace."""
    bounds = list(page_starts or (0,)) + [len(text)]
    passages: list[Passage] = []
    for page_start, page_end in zip(bounds, bounds[1:]):
        pos = page_start
        while pos < page_end:
            end = min(page_end, pos + size)
            if end < page_end:
                cut = text.rfind(" ", pos + size // 2, end)
                cut = max(cut, text.rfind("\n", pos + size // 2, end))
                end = cut + 1 if cut > pos else end
            passages.append(Passage(doc_index, pos, end))
            pos = end
    return passages


class BM25Index:
    """Okapi BM25 (k1=1.2, b=0.75) over passages of several texts."""

    def __init__(self, texts: list[str], page_starts: list[tuple[int, ...]],
                 k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.passages: list[Passage] = []
        for i, text in enumerate(texts):
            self.passages.extend(split_passages(text, page_starts[i], i))
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        for pid, passage in enumerate(self.passages):
            counts = Counter(tokenize(texts[passage.doc_index][passage.start:passage.end]))
            self._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings[term].append((pid, tf))
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0

    def term_weights(self, text: str) -> dict[str, float]:
        """Each word of ``text`` that the passages hold, with its inverse document frequency."""
        n = len(self.passages)
        return {term: self._idf(n, len(self._postings[term])) for term in set(tokenize(text)) if term in self._postings}

    @staticmethod
    def _idf(n: int, df: int) -> float:
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def query(self, text: str, k: int = 10) -> list[tuple[Passage, float]]:
        """The ``k`` best passages for ``text``, best first, with their scores."""
        n = len(self.passages)
        scores: dict[int, float] = defaultdict(float)
        for term in set(tokenize(text)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self._idf(n, len(postings))
            for pid, tf in postings:
                norm = self.k1 * (1 - self.b + self.b * self._lengths[pid] / (self._avg_length or 1))
                scores[pid] += idf * tf * (self.k1 + 1) / (tf + norm)
        best = heapq.nlargest(k, scores.items(), key=lambda item: (item[1], -item[0]))
        return [(self.passages[pid], score) for pid, score in best]

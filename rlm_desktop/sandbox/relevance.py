"""Order grep hits by how much of the question they hold, rarest words first.

A small root model tends to read the first hits it prints and answer from the first
figure or name it sees. grep finds passages in document order, so the passage that
answers the question may be the fifth of eight. When the engine tells the REPL the
question it is working on, grep returns the hits that share the question's rarer words
first (a stable sort: hits that tie keep document order). Counting and listing in code
are unaffected; only the order changes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_WORD = re.compile(r"[^\W_]+")
_STEM_CHARS = 6  # "acquired" ~ "acquires", "founder" ~ "founded"
_STOP_WORDS = frozenset("""
a about above after all also an and any are as at be been before being between both but by can could did do does
doing during each for from had has have having he her here hers him his how i if in into is it its itself me more
most my no nor not of off on once only or other our out over own same she should so some such than that the their
them then there these they this those through to too under until up very was we were what when where which while who
whom whose why will with would you your yours answer answers give mentioned provided text document documents state
states stated say says please name names tell according
""".split())


def question_only(question: str) -> str | None:
    """The question up to its first "?", without the instructions after it ("Answer in one word"); None
    when it has no "?"."""
    asked = re.match(r"[^?]*\?", question)
    return asked.group(0) if asked else None


class QuestionFocus:
    """The question's content words, weighted by how rare they are in the documents."""

    def __init__(self, question: str, texts: Sequence[str]) -> None:
        words = _WORD.findall((question_only(question) or question).lower())  # instructions are not its topic
        stems = {w[:_STEM_CHARS] for w in words if w not in _STOP_WORDS and (len(w) > 2 or w.isdigit())}
        self._weights: dict[str, float] = {}
        self._patterns: dict[str, re.Pattern[str]] = {}
        total = max(1, len(texts))
        for stem in sorted(stems):
            pattern = re.compile(r"\b" + re.escape(stem), re.IGNORECASE)
            frequency = sum(1 for text in texts if pattern.search(text))
            if frequency:  # a word no document holds cannot tell hits apart
                self._weights[stem] = math.log(1 + total / frequency)
                self._patterns[stem] = pattern

    @property
    def words(self) -> list[str]:
        """The weighted stems, rarest first (for tests and traces)."""
        return sorted(self._weights, key=lambda stem: -self._weights[stem])

    def score(self, text: str) -> float:
        """The summed weight of the question's words that ``text`` contains (each counted once)."""
        return sum(weight for stem, weight in self._weights.items() if self._patterns[stem].search(text))

    def rank(self, items: list[T], text_of: Callable[[T], str]) -> list[T]:
        """``items`` with the best-scoring first; ties keep their order."""
        if len(items) < 2 or not self._weights:
            return items
        scores = [self.score(text_of(item)) for item in items]
        order = sorted(range(len(items)), key=lambda i: -scores[i])
        return [items[i] for i in order]

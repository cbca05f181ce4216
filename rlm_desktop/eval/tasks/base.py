"""What every evaluation task produces: an :class:`Instance` with its gold answer.

Lengths are counted in *approximate tokens*: characters / 4 (``CHARS_PER_TOKEN``),
the usual rule of thumb for English text. Real token counts depend on the model's
tokenizer; reports state the approximation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from rlm_desktop.documents import Context, Document

CHARS_PER_TOKEN = 4
"""Lengths are approximate tokens: a task of length N holds about N * 4 characters."""

Answer = str | int | list[tuple[str, str]]


@dataclass(frozen=True)
class Instance:
    """One generated question over one generated (or real) context, with its gold answer.

    ``kind`` says how predictions are scored: ``exact`` (exact match after
    normalisation), ``numeric`` (0.75 ** |y - y_hat|), ``pairs`` (F1 over pairs),
    ``choice`` (multiple-choice letter accuracy).
    """

    task: str
    length: int
    seed: int
    question: str
    context: Context
    answer: Answer
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def context_chars(self) -> int:
        if isinstance(self.context, str):
            return len(self.context)
        return sum(len(d.text) if isinstance(d, Document) else len(d) for d in self.context)

    @property
    def id(self) -> str:
        return f"{self.task}/{format_length(self.length)}/seed{self.seed}"


@dataclass(frozen=True)
class TaskSpec:
    """A registered task: a generator deterministic in (length, seed) and its scorer."""

    name: str
    description: str
    generate: Callable[[int, int], Instance]
    score: Callable[[Instance, str], float]
    sized: bool = True  # False: a fixed corpus, the length is ignored and a seed picks a question
    # (instance, citations as dicts) -> share of citations on a page holding the evidence; None: not scored
    citation_precision: Callable[[Instance, list[dict[str, Any]]], float | None] | None = None


_LENGTH_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*$")


def parse_length(text: str) -> int:
    """``"8k"`` -> 8192, ``"1m"`` -> 1048576, ``"5000"`` -> 5000 (approximate tokens)."""
    match = _LENGTH_RE.match(text)
    if not match:
        raise ValueError(f"Not a context length: {text!r} (use e.g. 8k, 128k, 1m or 5000)")
    number, unit = float(match.group(1)), match.group(2).lower()
    scale = {"": 1, "k": 1024, "m": 1024 * 1024}[unit]
    value = int(number * scale)
    if value < 256:
        raise ValueError(f"Context length {text!r} is too small (at least 256 tokens)")
    return value


def format_length(tokens: int) -> str:
    """8192 -> ``"8K"``, 1048576 -> ``"1M"``, 5000 -> ``"5000"``."""
    if tokens % (1024 * 1024) == 0:
        return f"{tokens // (1024 * 1024)}M"
    if tokens % 1024 == 0:
        return f"{tokens // 1024}K"
    return str(tokens)


def target_chars(length_tokens: int) -> int:
    return length_tokens * CHARS_PER_TOKEN

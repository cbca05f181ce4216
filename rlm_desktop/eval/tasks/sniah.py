"""S-NIAH (RULER's single needle in a haystack): one key/value sentence hidden in unrelated prose.

The needle is "The special magic number for <key> is: <7 digits>." placed at a seeded
depth; the haystack is digit-free filler, so the value is the only number present.
Scoring: exact match on the value.
"""

from __future__ import annotations

import random

from rlm_desktop.eval.scoring import exact_match
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars
from rlm_desktop.eval.tasks.filler import filler_text

NAME = "sniah"

_ADJECTIVES = ("amber", "silent", "crimson", "hollow", "brisk", "gentle", "lunar", "rusty", "velvet",
               "frozen", "golden", "misty", "nimble", "quiet", "scarlet", "wild")
_NOUNS = ("falcon", "harbor", "lantern", "meadow", "cipher", "glacier", "orchid", "compass",
          "thistle", "beacon", "canyon", "ember", "willow", "quartz", "sparrow", "tundra")


def generate(length: int, seed: int) -> Instance:
    """A haystack of about ``length`` approximate tokens with one needle at a seeded depth."""
    rng = random.Random(f"{NAME}:{length}:{seed}")
    key = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}"
    value = str(rng.randint(1_000_000, 9_999_999))
    needle = f"The special magic number for {key} is: {value}."
    haystack = filler_text(rng, max(0, target_chars(length) - len(needle) - 1))
    depth = rng.random()
    cut = _sentence_boundary(haystack, int(depth * len(haystack)))
    text = f"{haystack[:cut]} {needle}{haystack[cut:]}" if cut else f"{needle} {haystack}"
    question = (f"What is the special magic number for {key} mentioned in the provided text? "
                "Answer with the number only.")
    return Instance(task=NAME, length=length, seed=seed, question=question, context=text,
                    answer=value, kind="exact", meta={"key": key, "depth": round(depth, 3)})


def _sentence_boundary(text: str, position: int) -> int:
    """Index just after the first sentence end at or after ``position`` (0 if none)."""
    if not text:
        return 0
    found = text.find(".", position)
    return found + 1 if found != -1 else len(text)


def score(instance: Instance, prediction: str) -> float:
    return exact_match(prediction, str(instance.answer))


TASK = TaskSpec(NAME, "S-NIAH: find one key/value needle in unrelated prose (exact match)", generate, score)

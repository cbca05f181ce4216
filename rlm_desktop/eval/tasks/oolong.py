"""OOLONG-style aggregation: questions whose answers depend on nearly every entry's hidden label.

Question kinds (seed modulo 5): the count of one label, the count of one label in a
date range, the most and the least frequent label, and a comparison of two labels.
Counts are scored 0.75 ** |y - y_hat|; the others by exact match.
"""

from __future__ import annotations

import datetime as dt
import random

from rlm_desktop.eval.scoring import exact_match, numeric_score
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars
from rlm_desktop.eval.tasks.oolong_data import LABELS, label_counts, make_entries, render, task_preamble

NAME = "oolong"
QUESTION_KINDS = ("count", "count_after_date", "most_frequent", "least_frequent", "compare")


def generate(length: int, seed: int) -> Instance:
    """About ``length`` approximate tokens of entries and one aggregate question over them."""
    for attempt in range(50):
        rng = random.Random(f"{NAME}:{length}:{seed}:{attempt}")
        kind = QUESTION_KINDS[seed % len(QUESTION_KINDS)]  # seeds 0..4 cover every kind
        entries = make_entries(rng, target_chars(length))
        built = _question(kind, entries, rng)
        if built is not None:
            question, answer, score_kind = built
            return Instance(task=NAME, length=length, seed=seed, question=f"{task_preamble()} {question}",
                            context=render(entries), answer=answer, kind=score_kind,
                            meta={"question_kind": kind, "entries": len(entries),
                                  "label_counts": dict(label_counts(entries))})
    raise RuntimeError(f"Could not build an unambiguous {NAME} question for seed {seed}")


def _question(kind: str, entries, rng: random.Random) -> tuple[str, str | int, str] | None:
    counts = label_counts(entries)
    if kind == "count":
        label = rng.choice(LABELS)
        return (f"How many questions in the data belong to the category '{label}'? Answer with a number.",
                counts[label], "numeric")
    if kind == "count_after_date":
        label = rng.choice(LABELS)
        cutoff = dt.date(2022, 1, 1) + dt.timedelta(days=rng.randint(180, 900))
        count = sum(1 for e in entries if e.label == label and e.date > cutoff)
        return (f"How many questions dated after {cutoff:%b %d, %Y} belong to the category '{label}'? "
                "Answer with a number.", count, "numeric")
    ranked = sorted(counts.items(), key=lambda kv: kv[1])
    if kind == "most_frequent":
        if ranked[-1][1] == ranked[-2][1]:
            return None  # a tie has no single right answer: regenerate
        return ("Which category is the most frequent in the data? Answer with the category name only.",
                ranked[-1][0], "exact")
    if kind == "least_frequent":
        if ranked[0][1] == ranked[1][1]:
            return None
        return ("Which category is the least frequent in the data? Answer with the category name only.",
                ranked[0][0], "exact")
    first, second = rng.sample(LABELS, 2)
    relation = ("more common" if counts[first] > counts[second]
                else "less common" if counts[first] < counts[second] else "same frequency")
    return (f"Is the category '{first}' more common, less common, or of the same frequency as the category "
            f"'{second}' in the data? Answer with exactly one of: more common, less common, same frequency.",
            relation, "exact")


def score(instance: Instance, prediction: str) -> float:
    if instance.kind == "numeric":
        return numeric_score(prediction, int(instance.answer))
    return exact_match(prediction, str(instance.answer))


TASK = TaskSpec(NAME, "OOLONG-style: aggregate over entries whose labels must be inferred "
                "(counts 0.75^|y-y_hat|, else exact)", generate, score)

"""OOLONG-Pairs-style: list every pair of users for which a condition holds on both.

Built on the OOLONG data (hidden labels); the condition is on each user's labelled
questions, so answering needs every entry's label. Scored by F1 over the pairs.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Callable

from rlm_desktop.eval.scoring import pairs_f1
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars
from rlm_desktop.eval.tasks.oolong_data import LABELS, Entry, make_entries, render, task_preamble

NAME = "oolong_pairs"

UserCounts = dict[str, Counter[str]]


@dataclass(frozen=True)
class _Condition:
    text: str
    first: Callable[[Counter[str]], bool]
    second: Callable[[Counter[str]], bool]


def _conditions(a: str, b: str) -> list[_Condition]:
    has_a = lambda c: c[a] >= 1  # noqa: E731 - small predicates read best inline
    has_b = lambda c: c[b] >= 1  # noqa: E731
    return [
        _Condition(f"both users asked at least one question in the category '{a}'", has_a, has_a),
        _Condition(f"both users asked at least two questions in the category '{a}'",
                   lambda c: c[a] >= 2, lambda c: c[a] >= 2),
        _Condition(f"both users asked more questions in the category '{a}' than in the category '{b}'",
                   lambda c: c[a] > c[b], lambda c: c[a] > c[b]),
        _Condition(f"one of the two users asked at least one question in the category '{a}' and none in "
                   f"'{b}', and the other asked at least one in '{b}' and none in '{a}'",
                   lambda c: has_a(c) and not has_b(c), lambda c: has_b(c) and not has_a(c)),
    ]


def _pairs(users: UserCounts, condition: _Condition) -> list[tuple[str, str]]:
    found = []
    for u, v in combinations(sorted(users), 2):
        cu, cv = users[u], users[v]
        if (condition.first(cu) and condition.second(cv)) or (condition.first(cv) and condition.second(cu)):
            found.append((u, v))
    return found


def _user_counts(entries: list[Entry]) -> UserCounts:
    users: UserCounts = defaultdict(Counter)
    for e in entries:
        users[e.user][e.label] += 1
    return dict(users)


def generate(length: int, seed: int) -> Instance:
    """Entries of about ``length`` approximate tokens and one pairs question with a modest answer set."""
    rng = random.Random(f"{NAME}:{length}:{seed}")
    entries = make_entries(rng, target_chars(length))
    users = _user_counts(entries)
    candidates = [c for a in LABELS for b in LABELS if a != b for c in _conditions(a, b)]
    rng.shuffle(candidates)
    limit = max(3, len(users) * 3 // 10)  # at most ~30% of users qualify: answers stay listable
    chosen, gold = None, []
    for condition in candidates:
        pairs = _pairs(users, condition)
        qualifying = {u for pair in pairs for u in pair}
        if 3 <= len(qualifying) <= limit:
            chosen, gold = condition, pairs
            break
    if chosen is None:  # tiny inputs: take the first condition with any pair at all
        chosen = next(c for c in candidates if _pairs(users, c))
        gold = _pairs(users, chosen)
    question = (f"{task_preamble()} List every pair of user ids such that {chosen.text}. Write each pair as "
                "(lower id, higher id), one pair per line, and nothing else.")
    return Instance(task=NAME, length=length, seed=seed, question=question, context=render(entries),
                    answer=gold, kind="pairs",
                    meta={"entries": len(entries), "users": len(users), "pairs": len(gold), "condition": chosen.text})


def score(instance: Instance, prediction: str) -> float:
    return pairs_f1(prediction, list(instance.answer))


TASK = TaskSpec(NAME, "OOLONG-Pairs-style: pairs of users meeting a condition on both (F1)", generate, score)

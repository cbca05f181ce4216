"""Registry of evaluation tasks: deterministic generators (length, seed) -> Instance, with scorers."""

from __future__ import annotations

from rlm_desktop.eval.tasks import codeqa, dataroom, multihop, oolong, oolong_pairs, realdocs, sniah
from rlm_desktop.eval.tasks.base import (CHARS_PER_TOKEN, Instance, TaskSpec, format_length, parse_length,
                                         target_chars)
from rlm_desktop.eval.tasks import paraphrases

TASKS: dict[str, TaskSpec] = {t.name: t for t in (sniah.TASK, oolong.TASK, oolong_pairs.TASK, multihop.TASK,
                                                   codeqa.TASK, dataroom.TASK, realdocs.TASK,
                                                   realdocs.HELD_OUT_TASK)}
TASKS.update((t.name, t) for t in paraphrases.TASKS)  # <task>-paraphrase: same instance, reworded question


def get_task(name: str) -> TaskSpec:
    """The task registered as ``name``; ValueError naming the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"No evaluation task named {name!r}; known: {', '.join(TASKS)}") from None


__all__ = ["CHARS_PER_TOKEN", "Instance", "TASKS", "TaskSpec", "format_length", "get_task", "parse_length",
           "target_chars"]

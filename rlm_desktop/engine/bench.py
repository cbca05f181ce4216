"""Engine figures for ``rlm bench``: functions that measure and return dicts (no printing).

- :func:`batched_vs_sequential`: N sub-calls through ``llm_query_batched`` against N ``llm_query``.
- :func:`turn_runnability`: the share of a root model's turns the loop could run, with and
  without the root-turn grammar (and how many needed a protocol repair).
- :func:`try_pairing`: one short run of a root/sub pair on a question with a known answer.
- :func:`first_token_seconds`: time to a root's first token on a run's first turn, and how much of
  the prompt it evaluated or restored from a saved prompt state.

Models are handed in (the engine never loads a backend itself).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rlm_desktop.backends.base import LanguageModel
from rlm_desktop.documents import Context
from rlm_desktop.engine import prompts
from rlm_desktop.engine.budget import RunBudget
from rlm_desktop.engine.loop import RLM, RLMConfig, RunResult
from rlm_desktop.engine.subcalls import SubCallServer

_SUB_PROMPT = "In one short sentence, what does clause {n} of a commercial lease usually cover?"


def batched_vs_sequential(sub: LanguageModel, *, calls: int = 8, parallel: int = 4,
                          max_tokens: int = 32) -> dict[str, Any]:
    """Wall time of ``calls`` sub-calls run sequentially vs through llm_query_batched (ratio > 1: batched faster)."""
    prompts = [_SUB_PROMPT.format(n=i + 1) for i in range(calls)]
    budget_args = dict(max_sub_calls=10 * calls, max_tokens=10**9, max_seconds=3600.0)
    with RunBudget(**budget_args) as budget:
        server = SubCallServer(sub, budget=budget, emit=lambda event: None, max_tokens=max_tokens, parallel=parallel)
        server.llm_query("Say hello.")  # warm-up, not counted
        started = time.perf_counter()
        for prompt in prompts:
            server.llm_query(prompt)
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        answers = server.llm_query_batched(prompts)
        batched = time.perf_counter() - started
    return {
        "calls": calls,
        "parallel": parallel,
        "sequential_s": round(sequential, 3),
        "batched_s": round(batched, 3),
        "ratio": round(sequential / batched, 3),
        "answers": len(answers),
    }


def turn_runnability(root: LanguageModel, sub: LanguageModel, questions: Sequence[str], context: Context, *,
                     iterations: int = 3, grammar: bool, config: RLMConfig | None = None) -> dict[str, Any]:
    """Run each question for up to ``iterations`` root turns and classify every turn.

    ``runnable``: the loop found a code block or a FINAL (after repairs); ``repaired``: of those,
    how many needed a repair; ``valid``: runnable turns whose code compiled (no SyntaxError).
    """
    base = config or RLMConfig(root_max_tokens=200, sub_max_tokens=48, max_sub_calls=40)
    rlm = RLM(root, sub, replace(base, max_iterations=iterations, grammar=grammar))
    turns = runnable = repaired = valid = 0
    for question in questions:
        result = rlm.run(question, context)
        syntax_errors: set[int] = set()
        for event in result.trajectory:
            if event.kind == "cell_output" and event.depth == 0 and event.error and "SyntaxError" in event.error:
                syntax_errors.add(event.iteration)
        for event in result.trajectory:
            if event.kind == "root_turn" and event.depth == 0 and event.iteration <= iterations:
                turns += 1
                runnable += int(event.runnable)
                repaired += int(event.repaired and event.runnable)
                valid += int(event.runnable and event.iteration not in syntax_errors)
    return {
        "model": root.name,
        "grammar": grammar and root.supports_grammar,
        "turns": turns,
        "runnable": runnable,
        "repaired": repaired,
        "valid": valid,
        "runnable_share": round(runnable / turns, 3) if turns else None,
        "valid_share": round(valid / turns, 3) if turns else None,
    }


def try_pairing(root: LanguageModel, sub: LanguageModel, question: str, context: Context, expected: Sequence[str],
                *, config: RLMConfig | None = None) -> dict[str, Any]:
    """One run; ``correct`` when every expected fragment is in the answer."""
    result: RunResult = RLM(root, sub, config or RLMConfig(max_iterations=4, root_max_tokens=200,
                                                           sub_max_tokens=64)).run(question, context)
    turns = [e for e in result.trajectory if e.kind == "root_turn" and e.depth == 0]
    cells = [e for e in result.trajectory if e.kind == "cell_output" and e.depth == 0]
    normal = result.answer.replace(" ", "").lower()
    return {
        "root": root.name,
        "sub": sub.name,
        "answer": result.answer[:200],
        "correct": all(fragment.replace(" ", "").lower() in normal for fragment in expected),
        "stopped_by": result.stopped_by,
        "turns": len(turns),
        "runnable_turns": sum(1 for t in turns if t.runnable),
        "cells_without_error": sum(1 for c in cells if not c.error),
        "cells": len(cells),
        "sub_calls": result.sub_calls,
        "seconds": round(result.seconds, 1),
    }


def sub_model_accuracy(sub: LanguageModel, cases: Sequence[tuple[str, str]], *, max_tokens: int = 48) -> dict[str, Any]:
    """How many (prompt, expected fragment) sub-call cases the model answers with the fragment."""
    correct = 0
    answers = []
    for prompt, expected in cases:
        text = sub.chat([{"role": "user", "content": prompt}], max_tokens=max_tokens).text
        answers.append(text.strip()[:80])
        correct += int(expected.replace(" ", "").lower() in text.replace(" ", "").lower())
    return {"model": sub.name, "cases": len(cases), "correct": correct, "answers": answers}



def first_token_seconds(root: LanguageModel, question: str, context: Context) -> dict[str, Any]:
    """Seconds from a first root turn's call to its first token (the default system prompt)."""
    messages = prompts.first_messages(question, context, prompts.system_prompt())
    first: list[float] = []
    started = time.perf_counter()
    completion = root.chat(messages, max_tokens=4, temperature=0.0,
                           on_token=lambda _text: first.append(time.perf_counter() - started) if not first else None)
    usage = completion.usage
    return {"seconds": round(first[0] if first else time.perf_counter() - started, 3),
            "prompt_tokens": usage.prompt_tokens,
            "evaluated": usage.prompt_tokens if usage.prompt_tokens_evaluated is None else usage.prompt_tokens_evaluated,
            "restored": usage.prompt_tokens_restored}

"""Backend figures for ``rlm bench core``: functions that measure and return dicts (no printing).

- :func:`overhead_ratio`: our ``LlamaCppModel.chat`` against raw ``llama_cpp.Llama.create_completion``.
- :func:`kv_reuse_tokens`: root turn-2 prompt tokens evaluated with and without KV reuse.
- :func:`parallel_speedup`: concurrent sub-calls on ``parallel`` contexts against one context.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

import llama_cpp

from rlm_desktop.backends.base import Message
from rlm_desktop.backends.llamacpp import LlamaCppModel

_SYSTEM = (
    "You are the root model of a Recursive Language Model. The documents are in the variable "
    "`context` of a Python REPL. Write ```repl code blocks to inspect them, call llm_query(prompt) "
    "for sub-questions, and end with FINAL(answer)."
)


def _question(index: int) -> list[Message]:
    return [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": f"Question {index}: which clause of lease number {index * 37} sets the rent?"},
    ]


def overhead_ratio(model_path: str | Path, *, runs: int = 5, max_tokens: int = 48, n_threads: int = 2) -> dict[str, Any]:
    """Median seconds of ``chat`` vs raw ``create_completion`` on the same rendered prompts (ratio > 1: ours slower)."""
    ours_model = LlamaCppModel(model_path, n_ctx=2048, n_threads=n_threads)
    raw = llama_cpp.Llama(str(model_path), n_ctx=2048, n_threads=n_threads, n_threads_batch=n_threads,
                          n_batch=512, seed=0, swa_full=True, verbose=False)
    ours_s: list[float] = []
    raw_s: list[float] = []
    ours_tokens = raw_tokens = 0
    try:
        for index in range(runs + 1):  # the first run warms both up and is not counted
            messages = _question(index)
            prompt = ours_model.template.render(messages).text
            started = time.perf_counter()
            completion = ours_model.chat(messages, max_tokens=max_tokens)
            ours = time.perf_counter() - started
            started = time.perf_counter()
            answer = raw.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0)
            raw_time = time.perf_counter() - started
            if index:
                ours_s.append(ours)
                raw_s.append(raw_time)
                ours_tokens += completion.usage.completion_tokens
                raw_tokens += answer["usage"]["completion_tokens"]
    finally:
        ours_model.close()
        raw.close()
    ours_median, raw_median = statistics.median(ours_s), statistics.median(raw_s)
    return {
        "runs": runs,
        "ours_median_s": round(ours_median, 4),
        "raw_median_s": round(raw_median, 4),
        "ratio": round(ours_median / raw_median, 3),
        "ours_completion_tokens": ours_tokens,
        "raw_completion_tokens": raw_tokens,
    }


def kv_reuse_tokens(model_path: str | Path, *, n_threads: int = 2) -> dict[str, Any]:
    """Prompt tokens evaluated on root turn 2 by the same model (KV reused) and by a fresh one."""
    turn1 = _question(1)
    with LlamaCppModel(model_path, n_ctx=4096, n_threads=n_threads) as model:
        first = model.chat(turn1, max_tokens=64)
        turn2 = turn1 + [
            {"role": "assistant", "content": first.text},
            {"role": "user", "content": "Output:\n3 matches in lease.pdf pages 2, 5 and 9.\nContinue."},
        ]
        reused = model.chat(turn2, max_tokens=16)
    with LlamaCppModel(model_path, n_ctx=4096, n_threads=n_threads) as fresh_model:
        fresh = fresh_model.chat(turn2, max_tokens=16)
    return {
        "turn2_prompt_tokens": reused.usage.prompt_tokens,
        "evaluated_with_reuse": reused.usage.prompt_tokens_evaluated,
        "evaluated_without_reuse": fresh.usage.prompt_tokens_evaluated,
        "seconds_with_reuse": round(reused.usage.seconds, 3),
        "seconds_without_reuse": round(fresh.usage.seconds, 3),
    }


def parallel_speedup(model_path: str | Path, *, calls: int = 4, parallel: int = 2, max_tokens: int = 32) -> dict[str, Any]:
    """Wall time of ``calls`` concurrent chats on ``parallel`` contexts (1 thread each) vs one 2-thread context."""

    def run_all(model: LlamaCppModel) -> float:
        threads = [threading.Thread(target=model.chat, args=(_question(100 + i),), kwargs={"max_tokens": max_tokens})
                   for i in range(calls)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    with LlamaCppModel(model_path, n_ctx=2048, n_threads=2) as single:
        single.chat(_question(0), max_tokens=4)
        one_context = run_all(single)
    with LlamaCppModel(model_path, n_ctx=2048, n_threads=1, parallel=parallel) as pooled:
        pooled.chat(_question(0), max_tokens=4)
        pooled_s = run_all(pooled)
    return {
        "calls": calls,
        "parallel": parallel,
        "one_context_s": round(one_context, 3),
        "parallel_contexts_s": round(pooled_s, 3),
        "speedup": round(one_context / pooled_s, 3),
    }


if __name__ == "__main__":  # python -m rlm_desktop.backends.bench GGUF
    import json
    import sys

    path = sys.argv[1]
    print(json.dumps({"overhead": overhead_ratio(path), "kv_reuse": kv_reuse_tokens(path),
                      "parallel": parallel_speedup(path)}, indent=2))

"""Sandbox speed figures for `rlm bench core`: cell latency must not grow with context size.

``python -m rlm_desktop.sandbox.bench`` prints the figures for a few context sizes.
"""

from __future__ import annotations

import statistics
import time

from rlm_desktop.errors import SandboxError
from rlm_desktop.sandbox.session import SandboxSession

_SENTENCE = "The tenant shall pay the rent on the first working day of each month. "


def make_context(chars: int) -> str:
    """Plain prose of exactly ``chars`` characters."""
    return (_SENTENCE * (chars // len(_SENTENCE) + 1))[:chars]


def cell_latency_ms(context_chars: int, cells: int = 30) -> float:
    """Median wall-clock milliseconds of a small cell over a context of ``context_chars`` characters."""
    with SandboxSession(make_context(context_chars)) as session:
        session.run("n = len(context)")  # warm-up: first cell compiles the helpers' paths
        timings = []
        for i in range(cells):
            started = time.perf_counter()
            result = session.run(f"n = len(context) + {i}\nn")
            timings.append(time.perf_counter() - started)
            if result.error:
                raise SandboxError(f"benchmark cell failed: {result.error}")
    return statistics.median(timings) * 1000


def session_start_seconds(context_chars: int) -> float:
    """Seconds to spawn a worker and send it a context of ``context_chars`` characters (once)."""
    started = time.perf_counter()
    with SandboxSession(make_context(context_chars)):
        return time.perf_counter() - started


def main() -> None:
    for chars in (1_000, 1_000_000, 50_000_000):
        print(f"context {chars:>11,} chars: start {session_start_seconds(chars):6.2f} s, "
              f"cell latency {cell_latency_ms(chars):6.2f} ms (median of 30)")


if __name__ == "__main__":
    main()


def restore_figures(cells: int = 20, answers: int = 50, context_chars: int = 1_000_000) -> dict[str, float]:
    """Rebuilding the REPL after a restart, for ``cells`` cells holding ``answers`` recorded sub-call answers.

    Returns the replay's seconds (and the worker restart's), and for comparison what saving the
    variables as plain data (JSON) would cost after every cell: the other way to survive a restart,
    which pays on every cell and cannot bring back functions or Hit objects.
    """
    from rlm_desktop.sandbox.results import SandboxLimits

    asked: list[str] = []

    def llm_query(prompt: str) -> str:
        asked.append(prompt)
        return f"Answer to {prompt[:40]}: " + _SENTENCE * 5

    def llm_query_batched(prompts: list[str]) -> list[str]:
        return [llm_query(p) for p in prompts]

    share = [answers // cells + (1 if i < answers % cells else 0) for i in range(cells)]
    host = {"llm_query": llm_query, "llm_query_batched": llm_query_batched}
    limits = SandboxLimits(timeout_s=2.0)
    with SandboxSession(make_context(context_chars), limits=limits, host_functions=host) as session:
        for i, count in enumerate(share):
            result = session.run(
                f"part_{i} = chunk(context[{i * 20_000}:{(i + 1) * 20_000}], 2000)\n"
                f"found_{i} = llm_query_batched(['Q{i}.' + str(j) + p[:200]\n"
                f"                             for j, p in enumerate(part_{i}[:{count}])])\n"
                f"hits_{i} = grep('first working day', max_hits=20)\n"
                f"def upper_{i}(text):\n    return text.upper()\n")
            if result.error:
                raise SandboxError(f"benchmark cell failed: {result.error}")
        before = len(asked)
        started = time.perf_counter()
        stopped = session.run("while True:\n    pass")
        restart = time.perf_counter() - started - limits.timeout_s  # kill + new worker + replay
        report = stopped.restore
        if report is None or not report.complete or len(asked) != before:
            raise SandboxError(f"the replay did not rebuild the REPL: {stopped.error}")
        names = ", ".join(f"'part_{i}': part_{i}, 'found_{i}': found_{i}" for i in range(cells))
        snapshot = session.run(f"import json\nsnapshot = json.dumps({{{names}}})\nback = json.loads(snapshot)")
        baseline = session.run("nothing = 0")
        if snapshot.error or baseline.error:
            raise SandboxError(f"benchmark cell failed: {snapshot.error or baseline.error}")
    return {"cells": cells, "answers": answers, "replay_s": report.seconds, "restart_s": restart,
            "host_calls_served": report.host_calls_served,
            "snapshot_per_cell_s": max(0.0, snapshot.seconds - baseline.seconds)}

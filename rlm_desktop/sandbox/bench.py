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

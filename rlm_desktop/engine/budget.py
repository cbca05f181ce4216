"""The guards of a run: iterations, sub-calls, tokens, wall clock, and cancel.

One :class:`RunBudget` is shared by a run and its depth-2 child runs. It owns the
run's :class:`CancelToken`, which models and the sandbox watch: a small watcher
thread sets it when the user cancels or the wall-clock budget runs out, so work in
flight stops within about a second. Sub-call and token budgets do not cancel work in
flight; they refuse further sub-calls and the loop stops after the current cell.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from rlm_desktop.backends.base import CancelToken, Usage
from rlm_desktop.errors import EngineError

Guard = Literal["max_iterations", "max_sub_calls", "max_tokens", "max_seconds", "cancelled"]
_WATCH_INTERVAL = 0.05


class GuardHit(EngineError):
    """A guard ended the run; ``guard`` names it."""

    def __init__(self, guard: str) -> None:
        super().__init__(f"Run stopped by {guard}")
        self.guard = guard


class RunBudget:
    """Counters and limits for one run (and its children), safe across threads."""

    def __init__(self, *, max_sub_calls: int, max_tokens: int, max_seconds: float,
                 user_cancel: CancelToken | None = None) -> None:
        self.max_sub_calls = max_sub_calls
        self.max_tokens = max_tokens
        self.max_seconds = max_seconds
        self.token = CancelToken()
        self._user_cancel = user_cancel
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._tripped: str | None = None
        self._usage: dict[str, Usage] = {"root": Usage(), "sub": Usage()}
        self._sub_calls_run = 0
        self.sub_calls = 0
        self.cache_hits = 0
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="rlm-budget-watch", daemon=True)

    # --- lifetime ---------------------------------------------------------------
    def __enter__(self) -> "RunBudget":
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._watcher.join(timeout=1.0)

    def _watch(self) -> None:
        while not self._done.wait(_WATCH_INTERVAL):
            if self._user_cancel is not None and self._user_cancel.cancelled:
                self._trip("cancelled", cancel_work=True)
                return
            if self.elapsed > self.max_seconds:
                self._trip("max_seconds", cancel_work=True)
                return

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    # --- guards -----------------------------------------------------------------
    def _trip(self, guard: str, *, cancel_work: bool = False) -> None:
        with self._lock:
            if self._tripped is None:
                self._tripped = guard
        if cancel_work:
            self.token.cancel()

    @property
    def tripped(self) -> str | None:
        """The guard that ended the run, if any."""
        if self._tripped is None and self._user_cancel is not None and self._user_cancel.cancelled:
            self._trip("cancelled", cancel_work=True)
        return self._tripped

    def trip(self, guard: str) -> None:
        """Record that ``guard`` ended the run (the loop uses it for max_iterations)."""
        self._trip(guard)

    def check(self) -> None:
        """Raise :class:`GuardHit` if any guard has been hit."""
        guard = self.tripped
        if guard is not None:
            raise GuardHit(guard)

    @property
    def work_cancelled(self) -> bool:
        """True when no more model calls may start (user cancel or wall clock)."""
        return self.token.cancelled

    # --- accounting -------------------------------------------------------------
    def reserve_sub_call(self) -> bool:
        """Count one sub-call that will run a model; False (and trip) when over budget."""
        with self._lock:
            if self._sub_calls_run >= self.max_sub_calls:
                refused = True
            else:
                self._sub_calls_run += 1
                refused = False
        if refused:
            self._trip("max_sub_calls")
        return not refused

    @property
    def sub_calls_left(self) -> int:
        """How many more sub-calls may run a model."""
        with self._lock:
            return max(0, self.max_sub_calls - self._sub_calls_run)

    def count_sub_call(self, *, cached: bool) -> None:
        with self._lock:
            self.sub_calls += 1
            self.cache_hits += int(cached)

    def carry_over(self, usage: dict[str, Usage], sub_calls: int, cache_hits: int) -> None:
        """Count what an earlier part of a resumed run spent (its budgets go on from there)."""
        with self._lock:
            for role, spent in usage.items():
                self._usage[role] = self._usage.get(role, Usage()) + spent
            self._sub_calls_run += max(0, sub_calls - cache_hits)
            self.sub_calls += sub_calls
            self.cache_hits += cache_hits

    def add_usage(self, role: str, usage: Usage) -> None:
        """Add a model call's usage under ``role`` ("root" or "sub"); trips max_tokens."""
        with self._lock:
            self._usage[role] = self._usage.get(role, Usage()) + usage
            total = sum(u.total_tokens for u in self._usage.values())
        if total >= self.max_tokens:
            self._trip("max_tokens")

    @property
    def usage(self) -> dict[str, Usage]:
        with self._lock:
            return dict(self._usage)

    @property
    def tokens_left(self) -> int:
        with self._lock:
            return self.max_tokens - sum(u.total_tokens for u in self._usage.values())

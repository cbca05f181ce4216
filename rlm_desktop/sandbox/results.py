"""The values that cross the sandbox boundary: per-cell limits and the result of a cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rlm_desktop.sandbox.replay import RestoreReport


@dataclass
class SandboxLimits:
    """Limits of every cell. ``timeout_s`` does not count time spent in host functions."""

    timeout_s: float = 60.0      # wall-clock per cell, minus time serving llm_query & co.
    cpu_s: float = 120.0         # CPU seconds per cell (RLIMIT_CPU on Linux, watchdog elsewhere)
    memory_mb: int = 2048        # memory the worker may use beyond what the context takes
    output_chars: int = 20_000   # printed output kept per cell
    replay_s: float | None = None  # most seconds to rebuild variables after a restart (None: timeout_s; 0: never)


@dataclass
class CellResult:
    """What one cell did: its output, its error or limit breach, and what it handed over."""

    output: str
    error: str | None = None
    final: str | None = None
    seconds: float = 0.0
    truncated: bool = False
    restarted: bool = False
    limit: str | None = None     # "timeout" | "cpu" | "memory" | "crash" | "cancelled" | None
    hits: list[dict] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    host_calls: list[dict] = field(default_factory=list)  # {"name", "key", "result"|"error"}: the replay record
    host_seconds: float = 0.0    # of ``seconds``, the time spent in host functions (a replay skips it)
    restore: "RestoreReport | None" = None   # after a restart: what was rebuilt and what was not

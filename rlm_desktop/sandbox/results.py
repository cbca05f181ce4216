"""The values that cross the sandbox boundary: per-cell limits and the result of a cell."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SandboxLimits:
    """Limits of every cell. ``timeout_s`` does not count time spent in host functions."""

    timeout_s: float = 60.0      # wall-clock per cell, minus time serving llm_query & co.
    cpu_s: float = 120.0         # CPU seconds per cell (RLIMIT_CPU on Linux, watchdog elsewhere)
    memory_mb: int = 2048        # memory the worker may use beyond what the context takes
    output_chars: int = 20_000   # printed output kept per cell


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

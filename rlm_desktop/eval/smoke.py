"""The smoke grid: S-NIAH at 8K, 32K and 128K tokens, RLM against the base model, demo models.

Small enough to run inside the test suite on two CPU cores (a few minutes): both
models are the SmolLM2 135M demo with a 2,048-token window and 2 threads, the RLM
gets 3 root turns of at most 128 tokens, 6 sub-calls, and every instance has a
wall-clock budget. Its figures show that the pipeline works end to end, not what an
RLM can do: the demo model is far too small to write good code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rlm_desktop.engine import RLMConfig
from rlm_desktop.eval.report import write_report
from rlm_desktop.eval.runner import Grid, Progress, run_grid
from rlm_desktop.sandbox import SandboxLimits

SMOKE_GRID = Grid(tasks=["sniah"], lengths=[8192, 32768, 131072], methods=["rlm", "base"], seeds=[0])
SMOKE_MODEL = "demo-smollm2-135m"
SMOKE_N_CTX = 2048
SMOKE_THREADS = 2
SMOKE_CONFIG = RLMConfig(max_iterations=3, max_sub_calls=6, max_seconds=30.0, parallel_sub_calls=1,
                         root_max_tokens=128, sub_max_tokens=48, output_chars=1500,
                         sandbox=SandboxLimits(timeout_s=20.0, cpu_s=30.0, memory_mb=1024))


def run_smoke(out_dir: Path, *, on_progress: Callable[[Progress], None] | None = None) -> Path:
    """Run (or resume) the smoke grid into ``out_dir`` and write its report; returns report.md."""
    from rlm_desktop.runtime import load_model

    root = load_model(SMOKE_MODEL, n_ctx=SMOKE_N_CTX, n_threads=SMOKE_THREADS)
    try:
        sub = load_model(SMOKE_MODEL, n_ctx=SMOKE_N_CTX, n_threads=SMOKE_THREADS)
        try:
            run_grid(SMOKE_GRID, root, sub, SMOKE_CONFIG, out_dir, on_progress=on_progress)
        finally:
            sub.close()
    finally:
        root.close()
    return write_report(out_dir)

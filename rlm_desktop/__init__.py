"""rlm-desktop: offline Recursive Language Models over large private document sets.

The public API, imported lazily so that ``import rlm_desktop`` stays cheap::

    from rlm_desktop import RLM, load_model, open_library
    with open_library() as lib:
        rlm = RLM(load_model("demo-smollm2-135m"), load_model("demo-smollm2-135m"),
                  sub_call_cache=lib.sub_call_cache)
        result = rlm.run("What is the rent?", lib.load_context("leases"))
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# llama.cpp's OpenMP threads busy-wait between operations by default; on a laptop that also
# runs the sandbox, the GUI and other apps, that spinning halves throughput (measured: 512-token
# prefill 22.7 s -> 9.0 s for SmolLM2 on a loaded 2-core machine). Read once when libgomp loads,
# i.e. before llama_cpp is first imported (set here, at the package
# root, because the hub imports llama_cpp too); a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from rlm_desktop.engine import RLM, RLMConfig, RunResult
    from rlm_desktop.library import Library
    from rlm_desktop.runtime import load_model

_EXPORTS = {
    "RLM": ("rlm_desktop.engine", "RLM"),
    "RLMConfig": ("rlm_desktop.engine", "RLMConfig"),
    "RunResult": ("rlm_desktop.engine", "RunResult"),
    "load_model": ("rlm_desktop.runtime", "load_model"),
}
__all__ = ["RLM", "RLMConfig", "RunResult", "load_model", "open_library", "__version__"]


def open_library(path: str | Path | None = None) -> "Library":
    """Open (creating if needed) the document library at ``path`` or the per-user default."""
    from rlm_desktop.library import Library

    return Library.open(path)


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'rlm_desktop' has no attribute {name!r}")
    return getattr(importlib.import_module(target[0]), target[1])

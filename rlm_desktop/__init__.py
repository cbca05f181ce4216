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
from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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

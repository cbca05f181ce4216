"""The RLM engine: root turns, code cells in the sandbox, sub-calls, FINAL.

Pure Python: no Qt, no SQLite, no concrete backend (it is handed model objects).
Names are imported lazily so that ``engine.protocol`` or ``engine.events`` can be
used without starting the sandbox machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlm_desktop.engine.loop import RLM, RLMConfig, RunResult
    from rlm_desktop.engine.subcalls import SubCallCache

_EXPORTS = {"RLM": "loop", "RLMConfig": "loop", "RunResult": "loop", "SubCallCache": "subcalls"}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rlm_desktop.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"rlm_desktop.engine.{module}"), name)

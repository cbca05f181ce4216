"""The methods an evaluation compares, each answering an :class:`Instance` with a RunResult.

``rlm`` is the engine's RLM; the others are the paper's baselines from
:mod:`rlm_desktop.engine.baselines`. Only ``rlm`` uses the sub model.
"""

from __future__ import annotations

from collections.abc import Callable

from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.engine import RLM, RLMConfig, RunResult
from rlm_desktop.engine import baselines
from rlm_desktop.engine.events import EventCallback
from rlm_desktop.eval.tasks.base import Instance

MethodFn = Callable[..., RunResult]


def _rlm(instance: Instance, root: LanguageModel, sub: LanguageModel, config: RLMConfig, **kw) -> RunResult:
    return RLM(root, sub, config).run(instance.question, instance.context, **kw)


def _root_only(fn: Callable[..., RunResult]) -> MethodFn:
    def run(instance: Instance, root: LanguageModel, sub: LanguageModel, config: RLMConfig, **kw) -> RunResult:
        return fn(root, instance.question, instance.context, config, **kw)

    return run


METHODS: dict[str, MethodFn] = {
    "rlm": _rlm,
    "rlm-nosub": _root_only(baselines.run_rlm_nosub),
    "base": _root_only(baselines.run_base),
    "summary": _root_only(baselines.run_summary),
    "codeact-bm25": _root_only(baselines.run_codeact_bm25),
}

METHOD_TITLES = {
    "rlm": "RLM", "rlm-nosub": "RLM (no sub-calls)", "base": "Base model", "summary": "Summary agent",
    "codeact-bm25": "CodeAct + BM25",
}


def check_methods(names: list[str]) -> list[str]:
    """``names`` if all are known; ValueError naming the unknown one and the known ones otherwise."""
    for name in names:
        if name not in METHODS:
            raise ValueError(f"No evaluation method named {name!r}; known: {', '.join(METHODS)}")
    return names


def run_method(name: str, instance: Instance, root: LanguageModel, sub: LanguageModel, config: RLMConfig, *,
               on_event: EventCallback | None = None, cancel: CancelToken | None = None) -> RunResult:
    """Answer ``instance`` with method ``name``; guards and model errors come back in ``stopped_by``."""
    check_methods([name])
    return METHODS[name](instance, root, sub, config, on_event=on_event, cancel=cancel)

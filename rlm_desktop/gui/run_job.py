"""One question, asked on a worker thread: load models, read documents, run the RLM, log the run.

Everything here runs off the GUI thread; progress goes out through ``report`` as
``("status", text)`` and ``("event", event_dict)`` tuples that the run panel shows.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.documents import Citation
from rlm_desktop.errors import EngineError
from rlm_desktop.settings import Settings

log = logging.getLogger(__name__)

ModelFactory = Callable[[Settings], "tuple[LanguageModel, LanguageModel | None]"]
"""Settings -> (root, sub) models; called on a worker thread, may take long (loading GGUF files)."""


class Reporter(Protocol):
    def __call__(self, item: tuple[str, Any]) -> None: ...


@dataclass
class RunRequest:
    question: str
    collection: str | None
    doc_ids: list[int]
    selected: bool              # doc_ids is the user's selection rather than the whole collection
    settings: Settings


@dataclass
class RunOutcome:
    """What the window shows when a run ends."""

    run_id: int | None
    answer: str
    stopped_by: str | None
    citations: list[Citation] = field(default_factory=list)
    iterations: int = 0
    sub_calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the answer does what a document demands
    source_warnings: dict[int, list[str]] = field(default_factory=dict)  # cited documents' flags, by doc id


class DefaultModels:
    """Loads root and sub models through rlm_desktop.runtime and keeps them loaded between runs.

    Root and sub get separate instances even for the same file, so sub-calls never
    evict the root's KV cache. A model whose spec or settings changed is closed.
    """

    def __init__(self, loader: Callable[..., LanguageModel] | None = None) -> None:
        self._loader = loader
        self._loaded: dict[str, tuple[tuple[Any, ...], LanguageModel]] = {}
        self._lock = threading.Lock()
        self._stale = False

    def invalidate(self) -> None:
        """Reload every model at the next run (their load settings changed); safe during a run."""
        self._stale = True

    def __call__(self, settings: Settings) -> tuple[LanguageModel, LanguageModel]:
        with self._lock:
            if self._stale:
                for _key, model in self._loaded.values():
                    _close(model)
                self._loaded.clear()
                self._stale = False
            root = self._get("root", settings.root_model, prompt_cache=True)
            sub = self._get("sub", settings.sub_model, batching=True, parallel=max(1, settings.parallel_sub_calls))
            return root, sub

    def _get(self, role: str, spec: str, **options: Any) -> LanguageModel:
        key = (spec, tuple(sorted(options.items())))  # per-model load settings live in the hub registry
        # (see invalidate()); the root keeps its prompt states, the sub decodes batches together
        held = self._loaded.get(role)
        if held is not None and held[0] == key:
            return held[1]
        if held is not None:
            _close(held[1])
        loader = self._loader
        if loader is None:
            from rlm_desktop.runtime import load_model as loader  # noqa: N813 - lazy: loads llama.cpp
        model = loader(spec, **options)
        self._loaded[role] = (key, model)
        return model

    def close(self) -> None:
        with self._lock:
            for _key, model in self._loaded.values():
                _close(model)
            self._loaded.clear()


def _close(model: Any) -> None:
    try:
        model.close()
    except Exception:  # noqa: BLE001 - closing must not stop the app
        log.exception("closing model %s", getattr(model, "name", model))


def _finish_failed(library: Any, run_id: int, exc: Exception) -> None:
    try:
        library.finish_run(run_id, {"answer": "", "stopped_by": "error", "error": str(exc)})
    except Exception:  # noqa: BLE001 - the original error is the one to report
        log.exception("recording the failure of run %s", run_id)


def execute_run(request: RunRequest, library: Any, models: ModelFactory, cancel: CancelToken,
                report: Reporter) -> RunOutcome:
    """Run one question end to end; every event is stored with the run and reported."""
    from rlm_desktop.engine import RLM
    from rlm_desktop.runtime import engine_config

    report(("status", "Loading models…"))
    root, sub = models(request.settings)
    if cancel.cancelled:
        return RunOutcome(None, "", "cancelled")
    report(("status", "Reading documents…"))
    if request.selected:
        context = library.load_context(doc_ids=request.doc_ids)
    else:
        context = library.load_context(collection=request.collection)
    if not context:
        where = f"collection “{request.collection}”" if request.collection else "the library"
        raise EngineError(f"There are no readable documents in {where}. Add documents first.")
    doc_ids = [d.doc_id for d in context if d.doc_id is not None]
    model_names = {"root": getattr(root, "name", request.settings.root_model),
                   "sub": getattr(sub or root, "name", request.settings.sub_model)}
    run_id = library.start_run(request.question, collection=request.collection, doc_ids=doc_ids,
                               settings=dataclasses.asdict(request.settings), models=model_names)
    report(("run_id", run_id))
    store_failed = threading.Event()

    def on_event(event: Any) -> None:
        data = event.to_dict() if hasattr(event, "to_dict") else dict(event)
        try:
            library.add_event(run_id, data)
        except Exception:  # noqa: BLE001 - the live view must go on; the log says why
            if not store_failed.is_set():
                log.exception("storing an event of run %s", run_id)
            store_failed.set()
        report(("event", data))

    def search(query: str, k: int = 10) -> list[dict]:
        return library.search(query, k, doc_ids=doc_ids)

    config = engine_config(request.settings, request.settings.root_model)  # short turns for a demo root
    rlm = RLM(root, sub, config, sub_call_cache=library.sub_call_cache)
    report(("status", "Running…"))
    try:
        result = rlm.run(request.question, context, on_event=on_event, cancel=cancel, tools={"search": search})
    except Exception as exc:
        _finish_failed(library, run_id, exc)
        raise
    outcome = RunOutcome(
        run_id=run_id, answer=result.answer, stopped_by=result.stopped_by, citations=list(result.citations),
        iterations=result.iterations, sub_calls=result.sub_calls, cache_hits=result.cache_hits,
        seconds=result.seconds, usage={k: dataclasses.asdict(v) for k, v in result.usage.items()},
        warnings=list(result.warnings), source_warnings=source_warnings(library, result.citations),
    )
    library.finish_run(run_id, result.summary())
    if store_failed.is_set():
        report(("status", "Some trajectory events could not be saved; see the log file."))
    return outcome


def source_warnings(library: Any, citations: list[Any]) -> dict[int, list[str]]:
    """The flags (passages written to steer an AI, hidden text) of the cited documents, one line each."""
    ids = sorted({c.doc_id for c in citations if getattr(c, "doc_id", None) is not None})
    flags_of = getattr(library, "flags_of", None)
    if not ids or flags_of is None:
        return {}
    return {doc_id: [flag.line() for flag in flags] for doc_id, flags in flags_of(ids).items()}

"""RLM asks over a stored collection for the servers: queued per model, recorded like any run.

Runs started here land in the library's run log (History) like `rlm ask` runs, with the client
that started them in the run's settings (``settings["client"]``) and summary.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rlm_desktop import runtime
from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.errors import RequestRejected, RunCancelled
from rlm_desktop.service.activity import Activity
from rlm_desktop.service.reader import LibraryReader
from rlm_desktop.service.run_queue import RunQueue
from rlm_desktop.settings import Settings

MODEL_PREFIX = "rlm:"


@dataclass(frozen=True)
class AskProgress:
    """An update during an ask: queued (with ``position``, 1 = next) or a step of the run."""

    stage: str          # "queued" | "running"
    message: str
    step: int = 0       # root turns so far
    total: int = 0      # the iteration cap
    position: int | None = None


@dataclass(frozen=True)
class AskOutcome:
    """The answer, how the run ended (``stopped_by`` None = the model gave FINAL) and its citations."""

    run_id: int | None
    collection: str
    answer: str
    stopped_by: str | None
    citations: list[dict[str, Any]]
    iterations: int
    sub_calls: int
    seconds: float
    client: str
    trajectory_events: int = 0
    warnings: list[str] = field(default_factory=list)  # the answer does what a document demands
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    def sources_text(self) -> str:
        """Citations as lines for a chat message ("" when there are none)."""
        if not self.citations:
            return ""
        lines = [f'- {c["document"]}, page {c["page"]}' + (f': "{_one_line(c["quote"])}"' if c["quote"] else "")
                 for c in self.citations]
        return "Sources:\n" + "\n".join(lines)


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


class AskService:
    """Answers questions over collections with the configured root and sub models (loaded once)."""

    def __init__(self, library: Any, settings: Settings, *, root_spec: str | None = None,
                 sub_spec: str | None = None, threads: int | None = None,
                 queue: RunQueue | None = None, activity: Activity | None = None) -> None:
        self.library = library
        self.reader = LibraryReader(library)
        self.settings = settings
        self.root_spec = root_spec or settings.root_model or runtime.default_models()[0]
        self.sub_spec = sub_spec or settings.sub_model or runtime.default_models()[1]
        self.threads = threads
        self.queue = queue or RunQueue()
        self.activity = activity or Activity()
        self._models_lock = threading.Lock()
        self._root: LanguageModel | None = None
        self._sub: LanguageModel | None = None

    def models(self) -> tuple[LanguageModel, LanguageModel]:
        """The root and sub models, loaded on first use (two objects even for one file: separate KV caches)."""
        with self._models_lock:
            if self._root is None:
                self._root = runtime.load_model(self.root_spec, n_threads=self.threads)
            if self._sub is None:
                self._sub = runtime.load_model(self.sub_spec, n_threads=self.threads,
                                               parallel=self.settings.parallel_sub_calls)
            return self._root, self._sub

    def ask(self, question: str, collection: str, *, client: str, max_seconds: float | None = None,
            cancel: CancelToken | None = None,
            on_progress: Callable[[AskProgress], None] | None = None) -> AskOutcome:
        """One RLM run over ``collection``, after the runs queued before it on the same model."""
        from rlm_desktop.engine import RLM

        if not question.strip():
            raise RequestRejected("The question is empty.")
        if max_seconds is not None and max_seconds <= 0:
            raise RequestRejected(f"max_seconds must be positive, not {max_seconds}.")
        self.reader.require_collection(collection)
        cancel = cancel or CancelToken()
        report = on_progress or (lambda progress: None)
        model_name = MODEL_PREFIX + collection
        key = self.activity.run_queued(client, model_name, question)
        status = "failed"
        try:
            def queued(position: int) -> None:
                self.activity.update_run(key, position=position)
                report(AskProgress("queued", f"Queued: {position} run(s) ahead on {model_name}", position=position))

            with self.queue.slot(model_name, cancel=cancel, on_position=queued):
                self.activity.update_run(key, status="running", position=None)
                config = runtime.engine_config(self.settings, self.root_spec)
                if max_seconds is not None:
                    config.max_seconds = min(config.max_seconds, float(max_seconds))
                root, sub = self.models()
                context = self.library.load_context(collection)
                if not context:
                    raise RequestRejected(f"Collection {collection!r} holds no documents.", status=404,
                                          code="collection_empty")
                doc_ids = [d.doc_id for d in context if d.doc_id is not None]
                settings = {**asdict(config), "client": client}
                run_id = self.library.start_run(question, collection=collection, doc_ids=doc_ids, settings=settings,
                                                models={"root": self.root_spec, "sub": self.sub_spec})
                self.activity.update_run(key, run_id=run_id)
                report(AskProgress("running", f"Run {run_id} started", total=config.max_iterations))
                steps = _StepCounter(config.max_iterations, report)

                def on_event(event: Any) -> None:
                    self.library.add_event(run_id, event)
                    steps(event)

                tools = {"search": lambda query, k=10: self.library.search(str(query), int(k), doc_ids=doc_ids)}
                rlm = RLM(root, sub, config, sub_call_cache=self.library.sub_call_cache)
                result = rlm.run(question, context, cancel=cancel, tools=tools, on_event=on_event)
                outcome = _outcome(result, run_id, collection, client)
                self.library.finish_run(run_id, {**result.summary(), "client": client})
            status = "cancelled" if outcome.stopped_by == "cancelled" else "finished"
            return outcome
        except RunCancelled:
            status = "cancelled"
            raise
        finally:
            self.activity.update_run(key, status=status, position=None)

    def close(self) -> None:
        with self._models_lock:
            for model in (self._root, self._sub):
                if model is not None:
                    model.close()
            self._root = self._sub = None


class _StepCounter:
    """Turns engine events into progress updates: one per root turn, cell output and sub-call."""

    def __init__(self, total: int, report: Callable[[AskProgress], None]) -> None:
        self.total = total
        self.report = report
        self.turns = 0

    def __call__(self, event: Any) -> None:
        if getattr(event, "depth", 0) != 0 and event.kind != "sub_call_finished":
            return
        if event.kind == "root_turn":
            self.turns = event.iteration
            message = f"Root turn {event.iteration} done ({event.completion_tokens} tokens)"
        elif event.kind == "cell_output":
            message = f"Code cell {event.iteration}.{event.index} ran" + (" with an error" if event.error else "")
        elif event.kind == "sub_call_finished":
            message = f"Sub-call {event.call_id} answered"
        elif event.kind == "final":
            message = "Final answer" + (f" (stopped by {event.stopped_by})" if event.stopped_by else "")
        else:
            return
        self.report(AskProgress("running", message, step=self.turns, total=self.total))


def _citations(result: Any) -> list[dict[str, Any]]:
    return [{"document": c.document, "page": c.page, "quote": c.snippet, "doc_id": c.doc_id}
            for c in result.citations]


def _outcome(result: Any, run_id: int | None, collection: str, client: str) -> AskOutcome:
    return AskOutcome(run_id=run_id, collection=collection, answer=result.answer, stopped_by=result.stopped_by,
                      citations=_citations(result), iterations=result.iterations, sub_calls=result.sub_calls,
                      seconds=round(result.seconds, 3), client=client, trajectory_events=len(result.trajectory),
                      warnings=list(getattr(result, "warnings", [])))

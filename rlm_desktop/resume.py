"""Continuing an interrupted run: the checks and the composition shared by `rlm runs resume` and the GUI.

:func:`plan_resume` reads the stored run and refuses, with the reason, what cannot be continued
(a finished or still running run, a record from an older version, documents removed or changed);
:func:`load_models` opens the models the run used (naming a model that is no longer there);
:func:`resume_run` continues it under the same run id: the REPL is rebuilt by replay, the root's
conversation from the record, and the usage totals go on from what the first part spent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rlm_desktop.backends.base import CancelToken, LanguageModel
from rlm_desktop.documents import Document
from rlm_desktop.engine.loop import RLM, RLMConfig, RunResult
from rlm_desktop.engine.resume import ResumeState, resume_state
from rlm_desktop.errors import ResumeError, RLMDesktopError
from rlm_desktop.library.runs import RECORD_VERSION
from rlm_desktop.sandbox import SandboxLimits
from rlm_desktop.settings import Settings


@dataclass
class ResumePlan:
    """An interrupted run that can be continued, with everything needed to do it."""

    run_id: int
    question: str
    context: list[Document]
    state: ResumeState
    root_spec: str
    sub_spec: str
    config: RLMConfig
    settings: Settings | None     # the app's settings when the GUI stored the run, else None
    resumes: int                  # how many times it was resumed before
    events: list[dict[str, Any]]  # the stored trajectory so far


def plan_resume(library: Any, run_id: int) -> ResumePlan:
    """Check that run ``run_id`` can be continued; :class:`ResumeError` says why not. Nothing is changed."""
    record = library.run(run_id)
    if record.status == "finished":
        raise ResumeError(f"Run {run_id} has already finished; there is nothing to resume.")
    if record.status == "running":
        raise ResumeError(f"Run {run_id} is still running in another window or process.")
    if record.record_version < RECORD_VERSION:
        raise ResumeError(f"Run {run_id} was stored by an older version of rlm-desktop (record format "
                          f"{record.record_version}); it can be read with `rlm runs show {run_id}`, not resumed.")
    try:
        state = resume_state(record.events)
    except ResumeError as exc:
        raise ResumeError(f"Run {run_id} cannot be resumed: {_sentence(exc)}") from exc
    try:
        context = library.run_context(record)
    except RLMDesktopError as exc:
        raise ResumeError(f"{_sentence(exc)} It cannot be resumed; ask the question again.") from exc
    root_spec, sub_spec, config, settings = _models_and_config(record.settings, record.models)
    return ResumePlan(run_id=run_id, question=record.question, context=context, state=state, root_spec=root_spec,
                      sub_spec=sub_spec, config=config, settings=settings,
                      resumes=sum(1 for e in record.events if e.get("kind") == "run_resumed"), events=record.events)


def load_models(plan: ResumePlan, load: Callable[..., LanguageModel] | None = None,
                **options: Any) -> tuple[LanguageModel, LanguageModel]:
    """The run's root and sub models (separate objects); a missing one is named in a :class:`ResumeError`."""
    if load is None:
        from rlm_desktop.runtime import load_model as load  # noqa: N813 - lazy: loads llama.cpp
    models = []
    for role, spec, extra in (("root", plan.root_spec, {}), ("sub", plan.sub_spec,
                                                            {"parallel": plan.config.parallel_sub_calls})):
        try:
            models.append(load(spec, **options, **extra))
        except RLMDesktopError as exc:
            for model in models:
                model.close()
            raise ResumeError(f"Run {plan.run_id} needs the {role} model {spec!r}, which is not available: "
                              f"{_sentence(exc)}") from exc
    return models[0], models[1]


def resume_run(plan: ResumePlan, library: Any, root: LanguageModel, sub: LanguageModel, *,
               on_event: Callable[[Any], None] | None = None, cancel: CancelToken | None = None) -> RunResult:
    """Continue the run under its own id; every new event is stored with it, the outcome too."""
    library.reopen_run(plan.run_id)
    doc_ids = [d.doc_id for d in plan.context if d.doc_id is not None]

    def listen(event: Any) -> None:
        library.add_event(plan.run_id, event)
        if on_event is not None:
            on_event(event)

    rlm = RLM(root, sub, plan.config, sub_call_cache=library.sub_call_cache)
    tools = {"search": lambda query, k=10: library.search(str(query), int(k), doc_ids=doc_ids)}
    try:
        result = rlm.run(plan.question, plan.context, on_event=listen, cancel=cancel, tools=tools, resume=plan.state)
    except Exception as exc:
        library.finish_run(plan.run_id, {"answer": "", "stopped_by": "error", "error": str(exc)})
        raise
    library.finish_run(plan.run_id, {**result.summary(), "resumed": plan.resumes + 1})
    return result


def _models_and_config(stored: dict[str, Any], models: dict[str, Any]) -> tuple[str, str, RLMConfig, Settings | None]:
    """(root spec, sub spec, engine config, app settings) from what the run stored.

    The CLI stores the engine config and the model specs; the GUI stores the app settings
    (specs included) and the models' names.
    """
    if "root_model" in stored:
        known = {f.name for f in dataclasses.fields(Settings)}
        settings = Settings(**{k: v for k, v in stored.items() if k in known})
        from rlm_desktop.runtime import engine_config

        return settings.root_model, settings.sub_model, engine_config(settings, settings.root_model), settings
    if not models.get("root") or not models.get("sub"):
        raise ResumeError("The run did not store which models it used.")
    known = {f.name for f in dataclasses.fields(RLMConfig)} - {"sandbox"}
    limits = {f.name for f in dataclasses.fields(SandboxLimits)}
    config = RLMConfig(**{k: v for k, v in stored.items() if k in known},
                       sandbox=SandboxLimits(**{k: v for k, v in (stored.get("sandbox") or {}).items() if k in limits}))
    return str(models["root"]), str(models["sub"]), config, None


def _sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith(".") else text + "."

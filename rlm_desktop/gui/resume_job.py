"""Continuing an interrupted run on a worker thread (the History tab's Resume button).

Like run_job.execute_run, everything here runs off the GUI thread and reports through
``report``: ``("question", text)`` and ``("history", events)`` first, so the panel shows the
stored part, then ``("status", ...)``, ``("run_id", id)`` and ``("event", event_dict)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import ResumeError, RLMDesktopError
from rlm_desktop.gui.run_job import ModelFactory, Reporter, RunOutcome
from rlm_desktop.settings import Settings


def execute_resume(run_id: int, library: Any, models: ModelFactory, current: Settings, cancel: CancelToken,
                   report: Reporter) -> RunOutcome:
    """Check, load the run's models, and continue run ``run_id`` under its own id."""
    from rlm_desktop import resume

    report(("status", f"Checking run #{run_id}…"))
    plan = resume.plan_resume(library, run_id)
    report(("question", plan.question))
    report(("history", plan.events))
    settings = plan.settings or dataclasses.replace(current, root_model=plan.root_spec, sub_model=plan.sub_spec)
    report(("status", "Loading models…"))
    try:
        root, sub = models(settings)
    except RLMDesktopError as exc:
        raise ResumeError(f"Run {run_id} needs the models {plan.root_spec!r} (root) and {plan.sub_spec!r} (sub), "
                          f"which are not available: {exc}") from exc
    if cancel.cancelled:
        return RunOutcome(None, "", "cancelled")
    report(("run_id", run_id))
    report(("status", f"Rebuilding the REPL of run #{run_id}…"))
    result = resume.resume_run(plan, library, root, sub or root, cancel=cancel,
                               on_event=lambda event: report(("event", event.to_dict())))
    return RunOutcome(run_id=run_id, answer=result.answer, stopped_by=result.stopped_by,
                      citations=list(result.citations), iterations=result.iterations, sub_calls=result.sub_calls,
                      cache_hits=result.cache_hits, seconds=result.seconds,
                      usage={k: dataclasses.asdict(v) for k, v in result.usage.items()})

"""Figures for `rlm bench core`: what resuming an interrupted run saves against asking again.

A scripted root asks a real sub model (the demo SmolLM2 by default) 12 questions over three
turns. The run is stored as it goes; a copy of its record, cut where a crash after the second
turn would cut it, is then resumed in a second library (empty sub-call cache, so every saved
sub-call comes from the run's own record). Both timings are printed, never asserted.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from rlm_desktop.backends.base import LanguageModel
from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.prompts import turns_since_question

_SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"
_TURNS = [
    "Ask about each section.\n```repl\nparts = [p for d in context for p in chunk(d, 800)][:8]\n"
    "notes = llm_query_batched(['In five words, what is this about?\\n' + p for p in parts])\nprint(len(notes))\n```",
    "Follow up.\n```repl\nmore = llm_query_batched(['Name one party in: ' + n for n in notes[:4]])\n"
    "answer = ' / '.join(m.strip()[:30] for m in more)\nprint(answer)\n```",
    "Check.\n```repl\nprint(len(grep('rent')))\n```",
    "FINAL_VAR(answer)",
]


def resume_savings(sub: LanguageModel) -> dict[str, Any]:
    """Seconds of a fresh run vs the resumed rest of the same run interrupted after turn 2."""
    from rlm_desktop import resume
    from rlm_desktop.library import Library

    config = RLMConfig(sub_max_tokens=32, max_iterations=6)
    with tempfile.TemporaryDirectory(prefix="rlm-bench-resume-") as scratch:
        with Library.open(Path(scratch) / "fresh.db") as fresh, Library.open(Path(scratch) / "resumed.db") as other:
            context, run_id = _new_run(fresh, config)
            started = time.perf_counter()
            whole = RLM(_root(), sub, config, sub_call_cache=fresh.sub_call_cache).run(
                "Who are the parties?", context, on_event=lambda event: fresh.add_event(run_id, event))
            fresh_s = time.perf_counter() - started
            fresh.finish_run(run_id, whole.summary())

            _context, copy_id = _new_run(other, config)
            events = fresh.run(run_id).events
            cut = next(i for i, e in enumerate(events) if e["kind"] == "root_messages" and e["iteration"] == 2)
            for event in events[:cut + 1]:
                other.add_event(copy_id, event)
            other.db.execute("UPDATE runs SET owner = NULL WHERE id = ?", [copy_id])  # its process is gone
            other.db.commit()
            started = time.perf_counter()
            plan = resume.plan_resume(other, copy_id)
            rest = resume.resume_run(plan, other, _root(), sub)
            resumed_s = time.perf_counter() - started
    if rest.answer != whole.answer:
        raise RuntimeError(f"the resumed run answered {rest.answer!r}, the fresh one {whole.answer!r}")
    served = next(e.sub_calls_served for e in rest.trajectory if e.kind == "run_resumed")
    return {"fresh_s": fresh_s, "resumed_s": resumed_s, "saved_s": fresh_s - resumed_s,
            "sub_calls": whole.sub_calls, "sub_calls_served": served}


def _new_run(library: Any, config: RLMConfig) -> tuple[list, int]:
    import dataclasses

    report = library.ingest([_SAMPLES], collection="bench")
    doc_ids = [f.doc_id for f in report.files if f.doc_id is not None]
    run_id = library.start_run("Who are the parties?", collection="bench", doc_ids=doc_ids,
                               settings=dataclasses.asdict(config), models={"root": "scripted", "sub": "bench"})
    return library.load_context(doc_ids=doc_ids), run_id


def _root() -> ScriptedModel:
    def turn(messages: list) -> str:
        return _TURNS[turns_since_question(messages)]
    return ScriptedModel(turn, name="scripted-bench-root")

"""Continuing a run from its stored trajectory, after the process that ran it died.

:func:`resume_state` reads the events a run stored (plain dicts, as the library keeps
them) and returns what the loop needs to go on as if nothing had happened: the root's
conversation exactly as it was sent (``root_messages`` events), the completed root
turns, the cells to replay with their recorded host-call results, and what the first
part already spent. Nothing here calls a model.

A root turn that was stored but whose cells did not all report back (the crash came
mid-cell) is *pending*: its code runs again without asking the root again, and
sub-calls it had already answered come from the sub-call cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlm_desktop.backends.base import Message, Usage
from rlm_desktop.engine.events import RunResumed
from rlm_desktop.errors import ResumeError
from rlm_desktop.sandbox.replay import ReplayCell, RestoreReport

SUB_CALL_FUNCTIONS = ("llm_query", "llm_query_batched", "llm_classify", "llm_answer", "llm_examples")


@dataclass
class ResumeState:
    """Where a stored run stopped, rebuilt from its events."""

    question: str
    messages: list[Message]
    iterations: int                       # completed root turns
    pending_turn: str | None              # text of a stored turn whose cells run again
    cells: list[ReplayCell]               # earlier cells, in order, to replay
    outputs: list[str] = field(default_factory=list)
    usage: dict[str, Usage] = field(default_factory=dict)
    sub_calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    samples: int = 0                      # root turns sampled so far (each drew the next sampling seed)


def resume_state(events: list[dict[str, Any]]) -> ResumeState:
    """The state a run's stored events describe; :class:`ResumeError` when they cannot be continued."""
    top = [e for e in events if not int(e.get("depth") or 0)]
    started = next((e for e in top if e.get("kind") == "run_started"), None)
    if started is None:
        raise ResumeError("its trajectory has no start event")
    if any(e.get("kind") == "final" for e in top):
        raise ResumeError("it already ended with an answer")
    messages: list[Message] = []
    turns: dict[int, tuple[int, str]] = {}   # iteration -> (position, text)
    last_recorded = -1                    # position of the last root_messages event
    codes: dict[tuple[int, int], str] = {}
    cells: list[ReplayCell] = []
    outputs: list[str] = []
    for position, event in enumerate(top):
        kind = event.get("kind")
        if kind == "root_messages":
            messages.extend({"role": m["role"], "content": m["content"]} for m in event.get("messages", []))
            last_recorded = position
        elif kind == "root_turn":
            turns[int(event["iteration"])] = (position, str(event.get("text", "")))
        elif kind == "code_cell":
            codes[(int(event["iteration"]), int(event["index"]))] = str(event.get("code", ""))
        elif kind == "cell_output":
            where = (int(event["iteration"]), int(event["index"]))
            if event.get("output", "").strip():
                outputs.append(str(event["output"]))
            if where in codes and not event.get("restarted"):  # the cell that broke a limit is not replayed
                own_seconds = float(event.get("seconds") or 0) - float(event.get("host_seconds") or 0)
                cells.append(ReplayCell(codes[where], list(event.get("host_calls") or []),
                                        failed=event.get("error") is not None, seconds=own_seconds,
                                        label=f"turn {where[0]}, block {where[1] + 1}"))
    if not messages and turns:
        raise ResumeError("its trajectory does not hold the root's conversation (stored by an older version)")
    # A turn is done once the conversation was recorded after it (its feedback was added).
    iterations = max((i for i, (at, _text) in turns.items() if at < last_recorded), default=0)
    pending = sorted(i for i, (at, _text) in turns.items() if at > last_recorded)
    pending_turn = turns[pending[0]][1] if pending else None
    if pending_turn is not None:  # its cells run again live: do not replay the part that ran before the crash
        label = f"turn {pending[0]},"
        cells = [c for c in cells if not c.label.startswith(label)]
    usage, sub_calls, cache_hits = spent(events)
    return ResumeState(question=str(started.get("question", "")), messages=messages, iterations=iterations,
                       pending_turn=pending_turn, cells=cells, outputs=outputs, usage=usage, sub_calls=sub_calls,
                       cache_hits=cache_hits, seconds=_seconds(events),
                       samples=sum(1 for e in top if e.get("kind") in ("root_turn", "turn_taken_back") and e.get("sampled")))


def spent(events: list[dict[str, Any]]) -> tuple[dict[str, Usage], int, int]:
    """(usage per role, sub-calls, cache hits) that the stored events account for."""
    usage = {"root": Usage(), "sub": Usage()}
    sub_calls = cache_hits = 0
    for event in events:
        kind, depth = event.get("kind"), int(event.get("depth") or 0)
        if kind == "root_turn" or kind == "turn_taken_back":  # a refused sample's tokens are on its event
            role = "root" if depth == 0 else "sub"
            usage[role] = usage[role] + Usage(prompt_tokens=int(event.get("prompt_tokens") or 0),
                                              completion_tokens=int(event.get("completion_tokens") or 0),
                                              seconds=float(event.get("seconds") or 0),
                                              prompt_tokens_evaluated=int(event.get("prompt_tokens_evaluated") or 0))
        elif kind == "sub_call_finished" and depth == 0:
            sub_calls += 1
            cache_hits += int(bool(event.get("cached")))
            if not event.get("cached"):
                usage["sub"] = usage["sub"] + Usage(prompt_tokens=int(event.get("prompt_tokens") or 0),
                                                    completion_tokens=int(event.get("completion_tokens") or 0),
                                                    seconds=float(event.get("seconds") or 0))
    return usage, sub_calls, cache_hits


def _seconds(events: list[dict[str, Any]]) -> float:
    """Wall time of the stored parts: from each (re)start to the last event before the next."""
    total, began, last = 0.0, None, None
    for event in events:
        at = event.get("at")
        if at is None:
            continue
        if event.get("kind") in ("run_started", "run_resumed") and not int(event.get("depth") or 0):
            if began is not None and last is not None:
                total += last - began
            began = at
        last = at
    if began is not None and last is not None:
        total += last - began
    return total


def sub_calls_in(cells: list[ReplayCell]) -> int:
    """How many sub-calls the recorded host calls of ``cells`` answered."""
    count = 0
    for cell in cells:
        for call in cell.host_calls:
            name, result = call.get("name"), call.get("result")
            if name in ("llm_query", "llm_answer"):
                count += 1
            elif name in SUB_CALL_FUNCTIONS and isinstance(result, list):  # one sub-call per answer
                count += len(result)
    return count


def resumed_event(state: ResumeState, report: RestoreReport, replayed: list[ReplayCell]) -> RunResumed:
    return RunResumed(from_iteration=state.iterations, pending_turn=state.pending_turn is not None,
                      cells=report.cells, replayed=report.replayed, sub_calls_served=sub_calls_in(replayed),
                      variables=list(report.variables), stopped=report.stopped, seconds=report.seconds)


def resume_note(report: RestoreReport) -> str | None:
    """What the root is told when the replay could not rebuild everything (None: it did)."""
    if report.complete:
        return None
    return f"[This run was interrupted and resumed in a new REPL. {report.describe()}]"

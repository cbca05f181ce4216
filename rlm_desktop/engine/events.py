"""Trajectory events: every step of a run, emitted through one callback.

Events are plain dataclasses so that the GUI, the CLI trace and the run log in
SQLite can all listen; ``to_dict`` gives a JSON-safe form for storage.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable


@dataclass
class Event:
    """Base event. ``depth`` is 0 for the top-level run, 1 inside a depth-2 sub-RLM."""

    kind: str = field(init=False, default="event")
    at: float = field(default_factory=time.time, kw_only=True)
    depth: int = field(default=0, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunStarted(Event):
    question: str
    context_summary: str
    settings: dict[str, Any]
    kind: str = field(init=False, default="run_started")


@dataclass
class RootTurn(Event):
    iteration: int
    text: str
    prompt_tokens: int
    completion_tokens: int
    prompt_tokens_evaluated: int
    seconds: float
    repaired: bool = False  # the turn needed repair (```python fence, FINAL in prose)
    runnable: bool = True   # the turn held a code block or a FINAL
    stopped_early: str | None = None  # why the turn guard stopped it (repeating itself, prose in code)
    prompt_tokens_restored: int = 0  # reused from a saved prompt state (an earlier run), not evaluated
    sampled: bool = False   # drawn at a temperature with the run's next sampling seed (a resumed run goes on from it)
    draft_tokens_proposed: int = 0  # speculative decoding: draft tokens the root checked
    draft_tokens_accepted: int = 0  # of them, those it agreed with
    kind: str = field(init=False, default="root_turn")


TAKEN_BACK_REASONS = {
    "same_reply": "the same reply as before, which ran nothing",
    "repeated_failure": "the failed block again, unchanged",
    "refused_again": "an answer refused before, written again",
    "answer_again": "the answer was refused; the root answers the same output again",
    "sample_failed_checks": "a sampled answer the checks refuse; another is sampled",
}


def taken_back_line(reason: str, next_sampled: bool) -> str:
    """How a taken-back turn is described in traces and the trajectory view."""
    sampled = "; the next turn is sampled, not greedy" if next_sampled else ""
    return f"taken back: {TAKEN_BACK_REASONS.get(reason, reason)}{sampled}"


@dataclass
class TurnTakenBack(Event):
    """A root turn the loop did not keep in the conversation (the root will not see it again), and why.

    ``reason``: ``same_reply`` (a reply that ran nothing, written again word for word), ``repeated_failure``
    (a failed block written again unchanged), ``refused_again`` (an answer refused before, written again),
    ``answer_again`` (a refused answer taken back so that the root answers the same output again with the
    refusal's note), ``sample_failed_checks`` (one of the answers sampled after a refused answer was written
    again, which the checks refuse; ``note`` holds it). ``next_sampled``: the next turn is sampled, not
    greedy (greedy decoding repeated itself). A refused sample has no RootTurn of its own, so its tokens and
    seconds are here (zero for the other reasons, whose turn's RootTurn counts them).
    """

    iteration: int
    reason: str
    next_sampled: bool = False
    sampled: bool = False  # the turn taken back was itself sampled (it drew a sampling seed)
    note: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    seconds: float = 0.0
    draft_tokens_proposed: int = 0
    draft_tokens_accepted: int = 0
    kind: str = field(init=False, default="turn_taken_back")


@dataclass
class CodeCell(Event):
    iteration: int
    index: int
    code: str
    kind: str = field(init=False, default="code_cell")


@dataclass
class CellOutput(Event):
    iteration: int
    index: int
    output: str           # what the model is shown (already truncated)
    error: str | None
    truncated: bool
    seconds: float
    restarted: bool = False  # the worker was killed (limit breach) and restarted
    host_calls: list[dict] = field(default_factory=list)  # llm_query/search results: the record replays use
    host_seconds: float = 0.0  # of ``seconds``, the time spent in llm_query/search (a replay skips it)
    kind: str = field(init=False, default="cell_output")


@dataclass
class RootMessages(Event):
    """Messages added to the root's conversation (prompts, its turns, cell feedback), stored so a
    resumed run rebuilds exactly the prompt the root saw."""

    iteration: int
    messages: list[dict]
    kind: str = field(init=False, default="root_messages")


@dataclass
class RunResumed(Event):
    """A run interrupted by a crash continues: what was rebuilt before its next root turn."""

    from_iteration: int          # root turns done before the interruption
    pending_turn: bool           # a stored root turn whose code runs again (its root call is not repeated)
    cells: int                   # earlier cells to replay
    replayed: int                # cells replayed as they first ran
    sub_calls_served: int        # sub-call answers taken from the run's record instead of a model
    variables: list[str]
    stopped: str | None          # why the replay ended early, if it did
    seconds: float
    kind: str = field(init=False, default="run_resumed")


@dataclass
class SubCallStarted(Event):
    call_id: int
    prompt_preview: str
    prompt_chars: int
    kind: str = field(init=False, default="sub_call_started")


@dataclass
class SubCallFinished(Event):
    call_id: int
    answer_preview: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False
    error: str | None = None
    prompt_tokens_evaluated: int | None = None  # fewer than prompt_tokens when a cached or shared prefix was reused
    kind: str = field(init=False, default="sub_call_finished")


@dataclass
class FinalAnswer(Event):
    answer: str
    stopped_by: str | None  # None when the model gave FINAL; else the guard's name
    unconfirmed: list[str] = field(default_factory=list)  # what the answer checks could not confirm
    warnings: list[str] = field(default_factory=list)  # for the user: the answer does what a document demands
    kind: str = field(init=False, default="final")


@dataclass
class ErrorEvent(Event):
    message: str
    kind: str = field(init=False, default="error")


EventCallback = Callable[[Event], None]

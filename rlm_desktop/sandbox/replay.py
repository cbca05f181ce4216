"""Rebuilding a REPL's variables in a fresh worker by replaying earlier cells.

A worker killed for a limit (or a run resumed after the app died) loses its
namespace. The session keeps every cell that ended without a limit breach, with
the results of the host calls it made (``llm_query``, ``search``, ...). Replaying
those cells in order, with each host call answered from that record instead of
the real host function, rebuilds the same variables (functions, Hit objects and
all) without calling any model. Measured against saving the variables as plain
data after every cell, replay restores everything and costs nothing until a
restart happens (``rlm bench core`` prints both).
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any


def call_key(name: str, args: Any, kwargs: Any) -> str:
    """A stable key for one host call: sha256 of its name and (plain, JSON-able) arguments."""
    blob = json.dumps([name, args, kwargs], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class ReplayCell:
    """One earlier cell as it can be replayed: its code, its host calls, how it ended."""

    code: str
    host_calls: list[dict[str, Any]] = field(default_factory=list)  # {"name", "key", "result"|"error"}
    failed: bool = False        # it ended with an error (its partial effects still count)
    seconds: float = 0.0        # how long it ran the first time, time in host functions not counted
    label: str = ""             # how the model knows it, e.g. "turn 2, block 1"

    def name(self, position: int) -> str:
        return self.label or f"cell {position + 1}"


@dataclass
class RestoreReport:
    """What a replay rebuilt and what it could not."""

    cells: int                              # cells there were to replay
    replayed: int = 0                       # cells replayed as they first ran
    host_calls_served: int = 0              # host calls answered from the record
    variables: list[str] = field(default_factory=list)   # defined after the replay
    lost: list[str] = field(default_factory=list)        # defined before, gone now
    stopped: str | None = None              # why the replay ended early
    hits: list[dict] = field(default_factory=list)       # what the replayed cells found (grep, search, cite)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.stopped is None and self.replayed == self.cells

    def describe(self) -> str:
        """The sentence the root model is shown after a restart."""
        if self.cells == 0:
            restored = "There were no earlier blocks to restore."
        else:
            names = ", ".join(self.variables) if self.variables else "none"
            restored = (f"Restored by replaying {self.replayed} of {self.cells} earlier blocks "
                        f"({self.host_calls_served} recorded llm_query/search results reused, no model called, "
                        f"{self.seconds:.1f} s); variables now defined: {names}.")
        if self.stopped:
            restored += f" The replay stopped early: {self.stopped}."
        if self.lost:
            restored += f" Not restored: {', '.join(self.lost)}."
        return restored + " Whatever the stopped block itself assigned is gone."


class RecordedHost:
    """Answers host calls from the results recorded when the cells first ran."""

    def __init__(self, cells: list[ReplayCell]) -> None:
        self._answers: dict[str, deque[dict[str, Any]]] = {}
        for cell in cells:
            for call in cell.host_calls:
                self._answers.setdefault(str(call.get("key")), deque()).append(call)
        self.served = 0
        self.missing: list[str] = []

    def answer(self, name: str, args: Any, kwargs: Any) -> tuple[str, Any]:
        """``("return", value)`` or ``("raise", message)``, as the worker expects."""
        queue = self._answers.get(call_key(name, args, kwargs))
        if not queue:
            self.missing.append(name)
            return ("raise", f"{name}: no recorded result for this call, and a replay never calls a model")
        call = queue.popleft() if len(queue) > 1 else queue[0]  # a repeated call reuses the last answer
        self.served += 1
        if "error" in call:
            return ("raise", str(call["error"]))
        return ("return", call.get("result"))

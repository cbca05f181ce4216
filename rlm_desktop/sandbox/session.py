"""Parent side of the sandbox: start the worker, run cells, serve host functions, enforce time.

The worker is a ``multiprocessing`` *spawn* child (the only start method that works
the same on Linux, macOS, Windows and inside a frozen PyInstaller app, which must call
``multiprocessing.freeze_support()`` in its entry point). The context is sent once per
worker; a worker killed for a limit breach, a crash or a cancel is replaced by a fresh
one that gets the context again, and the earlier cells are replayed in it (host calls
answered from their record, see replay.py) so their variables come back; the cell's
result says exactly what was restored.
"""

from __future__ import annotations

import json
import pickle
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from rlm_desktop.child_process import spawn_worker, stop_worker
from rlm_desktop.documents import Document
from rlm_desktop.errors import SandboxError
from rlm_desktop.sandbox.replay import RecordedHost, ReplayCell, RestoreReport, call_key
from rlm_desktop.sandbox.results import CellResult, SandboxLimits
from rlm_desktop.sandbox.worker import EXIT_CPU, EXIT_MEMORY, worker_main

POLL_S = 0.05
START_TIMEOUT_S = 120.0
_RESERVED = frozenset({"context", "FINAL", "FINAL_VAR", "grep", "chunk", "cite", "SHOW_VARS", "print", "Doc", "Hit", "table",
                        "ask", "share_of", "total_of", "party_of"})
_LOST = ("The sandbox was restarted: `context` and the helpers are back, but variables from earlier cells are "
         "lost; recompute what you still need, in smaller steps.")
_RESTARTED = "The sandbox was restarted with `context` and the helpers. "


class Cancellable(Protocol):
    """What the session needs of a cancel token (backends.base.CancelToken fits)."""

    @property
    def cancelled(self) -> bool: ...


def context_payload(context: Any) -> tuple[str, Any]:
    """The picklable form of a context sent to the worker once."""
    if isinstance(context, str):
        return ("str", context)
    if isinstance(context, (list, tuple)):
        if all(isinstance(item, str) for item in context):
            return ("strs", [str(item) for item in context])
        if all(isinstance(item, Document) for item in context):
            return ("docs", [(d.name, d.text, tuple(d.page_starts), d.doc_id) for d in context])
    raise SandboxError(f"The context must be a str, a list of str or a list of Document, "
                       f"not {type(context).__name__}.")


class SandboxSession:
    """A sandboxed Python REPL over ``context`` in a child process; use as a context manager."""

    def __init__(self, context: Any, *, limits: SandboxLimits | None = None,
                 host_functions: dict[str, Callable[..., Any]] | None = None,
                 cancel: Cancellable | None = None, focus: str = "") -> None:
        """``focus``: the question being answered; grep then returns the hits most about it first."""
        self._payload = context_payload(context)
        self._focus = focus
        self._limits = limits or SandboxLimits()
        self._host_functions = dict(host_functions or {})
        for name in self._host_functions:
            if not name.isidentifier() or name.startswith("_") or name in _RESERVED:
                raise ValueError(f"host function name {name!r} is not allowed in the REPL")
        self._cancel = cancel
        self._lock = threading.RLock()
        self._process: Any = None
        self._conn: Any = None
        self._last_exit_code: int | None = None
        self._closed = False
        self._history: list[ReplayCell] = []   # cells whose effects the worker's namespace holds
        self._calls: list[dict] = []           # host calls of the cell running now
        self._recorded: RecordedHost | None = None  # set while replaying
        self._variables: list[str] = []
        self._host_seconds = 0.0               # time the last cell spent in host functions

    def __enter__(self) -> "SandboxSession":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Spawn the worker and send it the context (once). No-op when it is running."""
        with self._lock:
            self._closed = False
            if self._process is not None and self._process.is_alive():
                return
            self._stop_process()
            config = {"output_chars": self._limits.output_chars, "cpu_s": self._limits.cpu_s,
                      "memory_mb": self._limits.memory_mb, "host_names": sorted(self._host_functions),
                      "focus": self._focus}
            self._process, self._conn = spawn_worker(worker_main, (config,), "rlm-sandbox")
            try:
                self._conn.send(("context", self._payload))
                ready = self._wait_ready()
            except (OSError, EOFError, ValueError) as exc:
                code = self._stop_process()
                raise SandboxError(f"The sandbox worker could not start (exit code {code}): {exc}") from None
            if ready is None:
                code = self._stop_process()
                raise SandboxError(f"The sandbox worker did not start within {START_TIMEOUT_S:.0f} s "
                                   f"(exit code {code}).")

    @property
    def worker_pid(self) -> int | None:
        """Process id of the running worker (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def _wait_ready(self) -> dict | None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._conn.poll(POLL_S):
                message = json.loads(self._conn.recv_bytes())
                return message if message.get("type") == "ready" else None
            if not self._process.is_alive():
                raise EOFError("the worker exited during start-up")
        return None

    def close(self) -> None:
        """Stop the worker. Safe to call twice, and from another thread during run()."""
        self._closed = True
        if not self._lock.acquire(timeout=1.0):
            self._kill_quietly()  # a cell is running: run() sees the worker die and returns
            return
        try:
            if self._process is not None and self._process.is_alive():
                try:
                    self._conn.send(("close",))
                    self._process.join(1.0)
                except OSError:
                    pass
            self._stop_process()
        finally:
            self._lock.release()

    def _kill_quietly(self) -> None:
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def _stop_process(self) -> int | None:
        """Kill the worker if alive, release the pipe; return its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        return stop_worker(process, conn)

    # --- cells ---------------------------------------------------------------
    def run(self, code: str, *, label: str = "") -> CellResult:
        """Run one cell; blocks, serving host-function calls, until it ends or a limit stops it.

        ``label`` names the cell in restore reports (e.g. "turn 2, block 1").
        """
        with self._lock:
            if self._process is None or not self._process.is_alive():
                self.start()  # the worker was stopped (a cancel, a failed read): rebuild what it held
                if self._history and self._replay_budget() > 0:
                    self._replay(list(self._history), self._replay_budget())
            started = time.monotonic()
            self._calls = []
            self._conn.send(("run", code))
            reply, breach = self._await_reply(self._limits.timeout_s)
            seconds = time.monotonic() - started
            calls, self._calls = self._calls, []
            if breach is not None:
                return self._breach_result(breach, seconds, calls)
            self._variables = list(reply["variables"])
            if reply["limit"] is None:
                self._history.append(ReplayCell(code, calls, failed=reply["error"] is not None,
                                                seconds=max(0.0, seconds - self._host_seconds), label=label))
            return CellResult(output=reply["output"], error=reply["error"], final=reply["final"],
                              seconds=seconds, truncated=reply["truncated"], restarted=False,
                              limit=reply["limit"], hits=reply["hits"], variables=reply["variables"],
                              host_calls=calls, host_seconds=self._host_seconds)

    @property
    def history(self) -> list[ReplayCell]:
        """The cells whose effects the REPL holds now, in order, as they can be replayed."""
        return list(self._history)

    def replay(self, cells: list[ReplayCell], budget_s: float | None = None) -> RestoreReport:
        """Rebuild variables in this (fresh) REPL by replaying ``cells``; host calls come from their record.

        Stops early, and says why, when a cell would take longer than the ``budget_s`` left (the
        replay limit by default), ends differently than it first did, or makes an unrecorded call.
        """
        with self._lock:
            self.start()
            return self._replay(list(cells), self._replay_budget() if budget_s is None else budget_s)

    def _replay_budget(self) -> float:
        limits = self._limits
        return limits.timeout_s if limits.replay_s is None else limits.replay_s

    def _replay(self, cells: list[ReplayCell], budget_s: float, *, retry: bool = True) -> RestoreReport:
        started = time.monotonic()
        report = RestoreReport(cells=len(cells))
        host = RecordedHost(cells)
        done: list[ReplayCell] = []
        variables: list[str] = []
        try:
            for position, cell in enumerate(cells):
                name, left = cell.name(position), budget_s - (time.monotonic() - started)
                if cell.seconds > left:
                    report.stopped = (f"replaying {name} would take about {cell.seconds:.1f} s, more than the "
                                      f"{max(left, 0.0):.1f} s left of the {budget_s:g} s replay limit")
                    break
                missing = len(host.missing)
                self._recorded = host
                self._conn.send(("run", cell.code))
                reply, breach = self._await_reply(max(left, POLL_S))
                self._recorded = None
                if breach is not None:
                    report.stopped = f"{name} did not finish within the {budget_s:g} s replay limit ({breach})"
                    self._stop_process()
                    if self._closed or breach == "cancelled":
                        break
                    self.start()  # the stopped replay left a half-built namespace: rebuild what ran in time
                    if retry and done:
                        again = self._replay(done, budget_s, retry=False)
                        done, variables, host.served = self._history, again.variables, again.host_calls_served
                    else:
                        done, variables = [], []
                    break
                variables = list(reply["variables"])
                report.hits.extend(reply["hits"])
                if len(host.missing) > missing:
                    report.stopped = f"{name} made a {host.missing[-1]} call it did not make the first time"
                    break
                if (reply["error"] is not None) != cell.failed:
                    what = (reply["error"] or "no error").strip().splitlines()[-1]
                    report.stopped = f"{name} ended differently on replay ({what})"
                    break
                done.append(cell)
        finally:
            self._recorded = None
        report.replayed, report.host_calls_served, report.variables = len(done), host.served, variables
        report.seconds = time.monotonic() - started
        self._history, self._variables = done, variables
        return report

    def get_variable(self, name: str) -> str:
        """``str()`` of a REPL variable (for a FINAL_VAR given outside code)."""
        with self._lock:
            self.start()
            self._conn.send(("get", name))
            reply, breach = self._await_reply(self._limits.timeout_s)
            if breach is not None:
                self._stop_process()
                raise SandboxError(f"Reading variable {name!r} from the sandbox failed ({breach}).")
            if reply.get("type") != "value":
                raise SandboxError(f"Variable {name!r}: {reply.get('message', 'not found')}.")
            return reply["text"]

    def _await_reply(self, timeout_s: float) -> tuple[dict | None, str | None]:
        """Serve host calls until the worker answers; return (reply, None) or (None, breach)."""
        conn, process = self._conn, self._process
        started = time.monotonic()
        host_seconds = self._host_seconds = 0.0
        try:
            while True:
                if self._cancel is not None and self._cancel.cancelled:
                    return None, "cancelled"
                left = timeout_s - (time.monotonic() - started - host_seconds)
                if left <= 0:
                    return None, "timeout"
                try:
                    if not conn.poll(min(POLL_S, left)):
                        if not process.is_alive():
                            return None, self._exit_reason()
                        continue
                    message = json.loads(conn.recv_bytes())
                except (EOFError, OSError, ValueError):
                    return None, self._exit_reason()
                if message.get("type") != "call":
                    return message, None
                call_started = time.monotonic()
                self._serve_call(message)
                host_seconds += time.monotonic() - call_started
                self._host_seconds = host_seconds
        except BaseException:
            self._stop_process()  # the worker waits for an answer it will never get
            raise

    def _serve_call(self, message: dict) -> None:
        name = message.get("name", "")
        args, kwargs = message.get("args", []), message.get("kwargs", {})
        if self._recorded is not None:  # replaying: answers come from the record, never from a model
            reply: tuple[str, Any] = self._recorded.answer(name, args, kwargs)
        else:
            function = self._host_functions.get(name)
            try:
                if function is None:
                    raise LookupError(f"no host function named {name!r}")
                reply = ("return", function(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - reported to the cell, which may recover
                reply = ("raise", f"{type(exc).__name__}: {exc}")
            outcome = {"result": reply[1]} if reply[0] == "return" else {"error": reply[1]}
            self._calls.append({"name": name, "key": call_key(name, args, kwargs), **outcome})
        try:
            try:
                self._conn.send(reply)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                self._conn.send(("raise", f"its result could not be sent to the sandbox: {exc}"))
        except OSError:
            pass  # the worker died; the poll loop reports why

    def _exit_reason(self) -> str:
        process = self._process
        process.join(2.0)
        code = process.exitcode
        self._last_exit_code = code
        if code == EXIT_MEMORY:
            return "memory"
        if code == EXIT_CPU or (hasattr(signal, "SIGXCPU") and code == -signal.SIGXCPU):
            return "cpu"
        return "crash"

    def _breach_result(self, breach: str, seconds: float, calls: list[dict]) -> CellResult:
        code = self._last_exit_code
        self._stop_process()
        limits = self._limits
        reasons = {
            "timeout": f"TimeoutError: the cell ran longer than {limits.timeout_s:g} s (time spent in "
                       f"llm_query and other host functions not counted) and was stopped.",
            "cpu": f"CPU limit: the cell used more than {limits.cpu_s:g} s of CPU time and was stopped.",
            "memory": f"MemoryError: the cell went over the sandbox memory limit ({limits.memory_mb} MB) "
                      f"and was stopped.",
            "crash": f"The sandbox process stopped unexpectedly (exit code {code})"
                     + (", probably killed by the system for lack of memory." if code == -9 else "."),
            "cancelled": "Cancelled: the cell was stopped because the run was cancelled.",
        }
        if self._closed:
            return CellResult(output="", error="The sandbox was closed while the cell ran.", seconds=seconds,
                              restarted=False, limit="cancelled")
        if breach == "cancelled":
            error = reasons[breach] + (" The sandbox restarts with `context` on the next cell, which replays the "
                                       "earlier cells first.")
            return CellResult(output="", error=error, seconds=seconds, restarted=False, limit="cancelled")
        report: RestoreReport | None = None
        try:
            self.start()
            restarted = True
            if self._replay_budget() > 0:
                before = list(self._variables)
                report = self._replay(list(self._history), self._replay_budget())
                report.lost = [name for name in before if name not in report.variables]
            else:
                self._history, self._variables = [], []
            error = reasons[breach] + " " + (_RESTARTED + report.describe() if report else _LOST)
        except SandboxError as exc:
            error = reasons[breach] + f" {_LOST} (Restarting the sandbox failed: {exc})"
            restarted = False
        return CellResult(output="", error=error, seconds=seconds, restarted=restarted, limit=breach,
                          host_calls=calls, restore=report)

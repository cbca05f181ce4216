"""The sandbox worker: a child process that holds ``context`` and runs cells.

Protocol (see session.py): the host sends pickled tuples (``("context", payload)``
once, then ``("run", code)``, ``("get", name)``, ``("close",)``, and ``("return", value)``
/ ``("raise", message)`` answering host calls); the worker answers with JSON bytes
only (``ready``, ``call``, ``result``, ``value``, ``missing``), so the host never
unpickles anything the sandboxed code could have shaped.

Limits: on Linux RLIMIT_AS (memory beyond what the context already takes) and
RLIMIT_CPU (per cell; the kernel kills the process with SIGXCPU, which also stops
code stuck inside C). Where rlimits do not exist or are not enforced (Windows,
macOS) a watchdog thread ends the process with EXIT_MEMORY / EXIT_CPU instead.
The wall-clock timeout is the host's job.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import reprlib
import signal
import sys
import threading
import time
import traceback
from typing import Any

from rlm_desktop.errors import SandboxPolicyError
from rlm_desktop.sandbox.helpers import HostFunctionError, ReplHelpers, build_context, plain_str, user_variables
from rlm_desktop.sandbox.guards import ALLOWED_MODULES
from rlm_desktop.sandbox.policy import CellPrinter, build_builtins, compile_cell

EXIT_MEMORY = 86
EXIT_CPU = 87
MAX_HITS_PER_CELL = 1000
MAX_TRACEBACK_FRAMES = 8
WATCHDOG_ENV = "RLM_SANDBOX_WATCHDOG"
"""Set to 1 to use the watchdog even where rlimits exist (tests of the Windows path)."""


class CappedWriter:
    """A text sink that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._parts: list[str] = []
        self._kept = 0
        self.dropped = 0

    def write(self, text: str) -> int:
        text = plain_str(text)
        room = self._cap - self._kept
        if room > 0:
            piece = text[:room]
            self._parts.append(piece)
            self._kept += len(piece)
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self._parts)


def _display_repr(cap: int) -> reprlib.Repr:
    shown = reprlib.Repr()
    shown.maxlevel = 4
    shown.maxlist = shown.maxtuple = shown.maxset = shown.maxfrozenset = shown.maxdeque = shown.maxdict = 100
    shown.maxstring = shown.maxother = cap
    shown.maxlong = 400
    return shown


class CellRuntime:
    """The REPL of one worker: persistent namespace, helpers, limits, result building."""

    def __init__(self, conn: Any, config: dict[str, Any], payload: tuple[str, Any]) -> None:
        self._conn = conn
        self._output_chars = int(config["output_chars"])
        self._cpu_s = float(config["cpu_s"])
        self._namespace: dict[str, Any] = {"__name__": "__cell__"}
        self._sources: dict[str, list[str]] = {}
        self._writer = CappedWriter(self._output_chars)
        self._hits: list[dict] = []
        self._final: str | None = None
        self._cell_number = 0
        self._repr = _display_repr(self._output_chars)
        self.cell_cpu_start: float | None = None
        context, sources = build_context(payload)
        helpers = ReplHelpers(sources, call_host=self._call_host, host_names=list(config["host_names"]),
                              on_hit=self._add_hit, on_final=self._set_final, namespace=self._namespace,
                              writer=lambda: self._writer, focus=str(config.get("focus") or ""))
        # The allowed modules come imported: a small model often uses csv or re without importing it
        # (the names are builtins, so a cell may shadow them and SHOW_VARS does not list them).
        modules = {name: importlib.import_module(name) for name in ALLOWED_MODULES}
        extras = {**modules, "context": context, **helpers.functions()}
        self._namespace["__builtins__"] = build_builtins(CellPrinter(lambda: self._writer), self._display, extras)

    # --- called from cell code -------------------------------------------------
    def _add_hit(self, hit: dict) -> None:
        if len(self._hits) < MAX_HITS_PER_CELL:
            self._hits.append(hit)

    def _set_final(self, answer: str) -> None:
        self._final = answer

    def _display(self, value: Any) -> None:
        if value is not None:
            self._writer.write(self._repr.repr(value) + "\n")

    def _call_host(self, name: str, args: list, kwargs: dict) -> Any:
        _send(self._conn, {"type": "call", "name": name, "args": args, "kwargs": kwargs})
        reply = self._conn.recv()
        if reply[0] == "return":
            return reply[1]
        raise HostFunctionError(f"{name}() failed: {reply[1]}")

    # --- requests from the host ------------------------------------------------
    def run_cell(self, code: str) -> dict[str, Any]:
        self._cell_number += 1
        filename = f"<cell {self._cell_number}>"
        self._sources[filename] = code.splitlines()
        self._writer = CappedWriter(self._output_chars)
        self._hits, self._final = [], None
        error: str | None = None
        limit: str | None = None
        _set_cpu_limit(self._cpu_s)
        self.cell_cpu_start = time.process_time()
        try:
            compiled = compile_cell(code, filename)
        except SandboxPolicyError as exc:
            compiled, error = None, _describe_refusal(str(exc))
        except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
            compiled, error = None, f"The cell could not be compiled: {type(exc).__name__}: {exc}"
        try:
            if compiled is not None:
                exec(compiled, self._namespace)  # noqa: S102 - compiled under the sandbox policy
        except MemoryError:
            limit = "memory"
            error = ("MemoryError: the cell went over the sandbox memory limit and was stopped. Variables from "
                     "earlier cells are kept; work on smaller pieces (slices, chunk(), one document at a time) "
                     "and `del` large values you no longer need.")
        except BaseException as exc:  # noqa: BLE001 - cell code may raise anything, even SystemExit
            error = self._format_exception(exc, filename)
        finally:
            self.cell_cpu_start = None
        output = self._writer.getvalue()
        if self._writer.dropped:
            output += (f"\n[output capped at {self._output_chars} characters; "
                       f"{self._writer.dropped} more were not kept]")
        return {"type": "result", "output": output, "error": error, "final": self._final,
                "truncated": bool(self._writer.dropped), "limit": limit, "hits": self._hits,
                "variables": list(user_variables(self._namespace))}

    def get_variable(self, name: str) -> dict[str, Any]:
        variables = user_variables(self._namespace)
        if name not in variables:
            return {"type": "missing", "message": f"no variable named {name!r} in the REPL; "
                                                  f"defined: {', '.join(variables) or 'none'}"}
        try:
            return {"type": "value", "text": plain_str(variables[name])}
        except Exception as exc:  # noqa: BLE001 - a user-defined __str__ may fail
            return {"type": "missing", "message": f"str({name}) failed: {type(exc).__name__}: {exc}"}

    def _format_exception(self, exc: BaseException, current: str) -> str:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
        if len(frames) > MAX_TRACEBACK_FRAMES:
            half = MAX_TRACEBACK_FRAMES // 2
            frames = frames[:half] + [None] + frames[-half:]  # type: ignore[list-item]
        lines = ["Traceback (most recent call last):"]
        for frame in frames:
            if frame is None:
                lines.append("  ...")
                continue
            where = f"line {frame.lineno}" if frame.filename == current else f"{frame.filename[1:-1]}, line {frame.lineno}"
            if frame.name != "<module>":
                where += f", in {frame.name}"
            source = self._sources.get(frame.filename, [])
            text = source[frame.lineno - 1].strip() if frame.lineno and frame.lineno <= len(source) else ""
            lines.append(f"  {where}: {text}")
        message = str(exc)
        if len(message) > 2000:
            message = message[:2000] + "..."
        lines.append(f"{_exception_name(exc)}: {message}" if message else _exception_name(exc))
        return "\n".join(lines)


def _describe_refusal(message: str) -> str:
    if "SyntaxError" in message or "IndentationError" in message:
        return "SyntaxError: the cell is not valid Python:\n" + message
    return "Refused by the sandbox:\n" + message


def _exception_name(exc: BaseException) -> str:
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__cell__") or module.startswith("rlm_desktop"):
        return cls.__name__
    return f"{module}.{cls.__qualname__}"


def _send(conn: Any, message: dict[str, Any]) -> None:
    conn.send_bytes(json.dumps(message).encode("utf-8"))


# --- process limits --------------------------------------------------------------
def _uses_rlimits() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(WATCHDOG_ENV) != "1"


def _set_cpu_limit(cpu_s: float) -> None:
    if not _uses_rlimits():
        return
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(math.ceil(usage.ru_utime + usage.ru_stime + cpu_s))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _address_space_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _apply_memory_limit(memory_mb: int) -> None:
    import resource

    limit = _address_space_bytes() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _start_watchdog(runtime: CellRuntime, memory_mb: int, cpu_s: float) -> None:
    """Where rlimits are missing: end the process when memory or per-cell CPU runs over."""
    import psutil

    process = psutil.Process()
    ceiling = process.memory_info().rss + memory_mb * 1024 * 1024

    def watch() -> None:
        while True:
            time.sleep(0.05)
            if process.memory_info().rss > ceiling:
                os._exit(EXIT_MEMORY)
            started = runtime.cell_cpu_start
            if started is not None and time.process_time() - started > cpu_s:
                os._exit(EXIT_CPU)

    threading.Thread(target=watch, name="sandbox-watchdog", daemon=True).start()


def _exit_with_parent() -> None:
    """End the worker when the app that started it is gone (no orphan running a cell)."""
    import psutil

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent or not psutil.pid_exists(parent):
                os._exit(0)

    threading.Thread(target=watch, name="sandbox-parent-watch", daemon=True).start()


def _harden_process() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the host's to handle
    if sys.platform != "win32":
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU must not leave core files


# --- main loop -------------------------------------------------------------------
def worker_main(conn: Any, config: dict[str, Any]) -> None:
    """Entry point of the worker process (multiprocessing spawn target)."""
    try:
        _serve(conn, config)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the host went away: nothing left to do


def _serve(conn: Any, config: dict[str, Any]) -> None:
    _harden_process()
    _exit_with_parent()
    kind, payload = conn.recv()
    assert kind == "context"
    runtime = CellRuntime(conn, config, payload)
    del payload
    if _uses_rlimits():
        _apply_memory_limit(int(config["memory_mb"]))
        mode = "rlimit"
    else:
        _start_watchdog(runtime, int(config["memory_mb"]), float(config["cpu_s"]))
        mode = "watchdog"
    _send(conn, {"type": "ready", "pid": os.getpid(), "mode": mode})
    while True:
        request = conn.recv()
        if request[0] == "run":
            _send(conn, runtime.run_cell(request[1]))
        elif request[0] == "get":
            _send(conn, runtime.get_variable(request[1]))
        elif request[0] == "close":
            return

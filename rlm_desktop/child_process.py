"""Start and stop the app's helper processes (the sandbox worker, the OCR worker) the same way.

Both are ``multiprocessing`` *spawn* children talking over one duplex pipe: spawn behaves the
same on every OS and in the frozen app (whose entry points call ``freeze_support()``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

_KILL_JOIN_S = 5.0


def spawn_worker(target: Callable[..., Any], args: tuple[Any, ...], name: str) -> tuple[BaseProcess, Connection]:
    """Start ``target(child_conn, *args)`` in a daemon spawn child; return it and the parent's end of the pipe."""
    spawn = multiprocessing.get_context("spawn")
    parent_conn, child_conn = spawn.Pipe(duplex=True)
    process = spawn.Process(target=target, args=(child_conn, *args), daemon=True, name=name)
    process.start()
    child_conn.close()
    return process, parent_conn


def stop_worker(process: BaseProcess | None, conn: Connection | None, *, goodbye: bytes | None = None,
                grace_s: float = 0.0) -> int | None:
    """End a worker and release its pipe; return its exit code (None if it could not be reaped).

    With ``goodbye``, a live worker is first sent that message and given ``grace_s`` to exit on
    its own; whatever is still alive then is killed.
    """
    code = None
    if process is not None:
        if goodbye is not None and conn is not None and process.is_alive():
            try:
                conn.send_bytes(goodbye)
            except (OSError, ValueError):
                pass
            process.join(grace_s)
        if process.is_alive():
            process.kill()
        process.join(_KILL_JOIN_S)
        code = process.exitcode
        if code is not None:
            process.close()
    if conn is not None:
        conn.close()
    return code

"""Blocking work (an RLM run, a model call) on a thread, awaited from a server's event loop.

Updates the work sends are handed to an async callback in order. If the awaiting task is
cancelled (client disconnect, MCP cancel), the work's cancel token fires and the task waits,
shielded, for the work to end, so a cancelled run is still recorded with what it found.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from rlm_desktop.backends.base import CancelToken

T = TypeVar("T")
Work = Callable[[CancelToken, Callable[[Any], None]], T]
_DONE = object()


async def run_blocking(work: Work[T], on_update: Callable[[Any], Awaitable[None]] | None = None,
                       cancel: CancelToken | None = None) -> T:
    """Run ``work(cancel, send_update)`` on a new thread; return its result or raise its error."""
    loop = asyncio.get_running_loop()
    updates: asyncio.Queue[Any] = asyncio.Queue()
    cancel = cancel or CancelToken()
    outcome: dict[str, Any] = {}

    def send(update: Any) -> None:
        try:
            loop.call_soon_threadsafe(updates.put_nowait, update)
        except RuntimeError:  # the loop has closed (server stopped): the run goes on unheard
            pass

    def target() -> None:
        try:
            outcome["result"] = work(cancel, send)
        except BaseException as exc:  # re-raised on the loop below
            outcome["error"] = exc
        finally:
            try:
                loop.call_soon_threadsafe(updates.put_nowait, _DONE)
            except RuntimeError:  # the loop is gone (server shut down); nobody waits
                pass

    threading.Thread(target=target, name="rlm-service-work", daemon=True).start()
    try:
        while (update := await updates.get()) is not _DONE:
            if on_update is not None:
                await on_update(update)
    except BaseException:
        cancel.cancel()
        with anyio.CancelScope(shield=True):
            while await updates.get() is not _DONE:
                pass
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]

"""One run at a time per model: a first-come queue that tells each waiter its place."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import RunCancelled

_POLL_S = 0.1  # how often a waiter looks at its cancel token


class RunQueue:
    """Per-key FIFO slots (the key is the served model name), safe from any thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: dict[str, list[object]] = {}
        self._busy: set[str] = set()

    @contextmanager
    def slot(self, key: str, *, cancel: CancelToken | None = None,
             on_position: Callable[[int], None] | None = None) -> Iterator[None]:
        """Wait for ``key``'s slot, calling ``on_position(n)`` (1 = next) whenever the place changes.

        Raises :class:`RunCancelled` if ``cancel`` fires while waiting; the waiter leaves the line.
        """
        ticket = object()
        reported: int | None = None
        with self._cond:
            line = self._waiting.setdefault(key, [])
            line.append(ticket)
            try:
                while True:
                    ahead = line.index(ticket) + (1 if key in self._busy else 0)
                    if ahead == 0:
                        break
                    if cancel is not None and cancel.cancelled:
                        raise RunCancelled("Cancelled while queued.")
                    if ahead != reported and on_position is not None:
                        on_position(ahead)
                    reported = ahead
                    self._cond.wait(_POLL_S)
                self._busy.add(key)
            finally:
                line.remove(ticket)
                if not line:
                    del self._waiting[key]
                self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._busy.discard(key)
                self._cond.notify_all()

    def snapshot(self) -> dict[str, tuple[bool, int]]:
        """``{key: (running, waiting)}`` for the keys in use."""
        with self._cond:
            keys = self._busy | set(self._waiting)
            return {k: (k in self._busy, len(self._waiting.get(k, ()))) for k in sorted(keys)}

"""Who is connected to the local servers and which runs they started (for Settings > Local services)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ClientSeen:
    """One client: its label (user agent or MCP client name) and address."""

    label: str
    address: str
    first_seen: float
    last_seen: float
    requests: int = 1


@dataclass(frozen=True)
class ServedRun:
    """A run a client started: ``status`` is queued, running, finished, cancelled or failed."""

    key: int
    client: str
    model: str
    question: str
    status: str
    position: int | None = None
    run_id: int | None = None
    started: float = field(default_factory=time.time)


class Activity:
    """Thread-safe record of clients and served runs; the GUI reads :meth:`clients` and :meth:`runs`."""

    def __init__(self, keep_runs: int = 200) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], ClientSeen] = {}
        self._runs: dict[int, ServedRun] = {}
        self._next = 1
        self._keep = keep_runs

    def saw_client(self, label: str, address: str) -> None:
        now = time.time()
        with self._lock:
            seen = self._clients.get((label, address))
            self._clients[(label, address)] = (ClientSeen(label, address, now, now) if seen is None else
                                               replace(seen, last_seen=now, requests=seen.requests + 1))

    def run_queued(self, client: str, model: str, question: str) -> int:
        with self._lock:
            key = self._next
            self._next += 1
            self._runs[key] = ServedRun(key, client, model, question, "queued")
            for old in sorted(self._runs)[:-self._keep]:
                del self._runs[old]
            return key

    def update_run(self, key: int, **changes: object) -> None:
        with self._lock:
            if key in self._runs:
                self._runs[key] = replace(self._runs[key], **changes)  # type: ignore[arg-type]

    def clients(self) -> list[ClientSeen]:
        with self._lock:
            return sorted(self._clients.values(), key=lambda c: -c.last_seen)

    def runs(self) -> list[ServedRun]:
        """Newest first."""
        with self._lock:
            return [self._runs[k] for k in sorted(self._runs, reverse=True)]

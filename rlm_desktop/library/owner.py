"""Which process is doing a piece of work, so that work left by a process that died can be told apart.

A run or an ingest stores its owner (pid, process start time, host name) while it runs. Work marked
running whose owner is gone was interrupted by a crash, a kill or a power cut.
"""

from __future__ import annotations

import json
import os
import socket

import psutil


def current_owner() -> str:
    """This process, as stored in the ``owner`` columns."""
    return json.dumps({"pid": os.getpid(), "started": psutil.Process().create_time(), "host": socket.gethostname()})


def owner_alive(owner: str | None) -> bool:
    """True while the process that stored ``owner`` runs (or runs on another machine, where we cannot tell)."""
    if not owner:
        return False
    try:
        data = json.loads(owner)
        pid, started, host = int(data["pid"]), float(data["started"]), str(data.get("host", ""))
    except (ValueError, KeyError, TypeError):
        return False
    if host and host != socket.gethostname():
        return True
    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - started) < 1.0 and process.status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False

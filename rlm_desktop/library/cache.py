"""The sub-call cache: a repeated sub-model call is answered from SQLite.

Keyed by (model identity, prompt, sampling settings). For a local GGUF the model
identity should be its file hash (:meth:`SubCallCache.model_id_for_file`), so a
renamed file still hits and a replaced file with the same name does not.
Implements the engine's ``SubCallCache`` protocol structurally.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import sqlite_utils


def cache_key(model_id: str, prompt: str, settings: dict[str, Any]) -> str:
    blob = json.dumps([model_id, prompt, settings], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class SubCallCache:
    """get/put of sub-call answers; safe to call from several threads."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def get(self, model_id: str, prompt: str, settings: dict[str, Any]) -> str | None:
        """The cached answer, counting the hit; None on a miss."""
        key = cache_key(model_id, prompt, settings)
        with self._lock, self._db.atomic():
            row = self._db.execute("SELECT answer FROM subcall_cache WHERE key = ?", [key]).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE subcall_cache SET hits = hits + 1, last_hit = ? WHERE key = ?",
                             [time.time(), key])
        return row[0]

    def put(self, model_id: str, prompt: str, settings: dict[str, Any], answer: str) -> None:
        key = cache_key(model_id, prompt, settings)
        with self._lock, self._db.atomic():
            self._db.execute(
                "INSERT INTO subcall_cache (key, model_id, prompt, settings, answer, created, hits) "
                "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT(key) DO UPDATE SET answer = excluded.answer",
                [key, model_id, prompt, json.dumps(settings, sort_keys=True, default=str), answer, time.time()])

    def stats(self) -> dict[str, int]:
        """``{"entries": n, "hits": total hits so far}``."""
        with self._lock:
            entries, hits = self._db.execute("SELECT count(*), coalesce(sum(hits), 0) FROM subcall_cache").fetchone()
        return {"entries": int(entries), "hits": int(hits)}

    def clear(self) -> int:
        """Remove every cached answer; returns how many there were."""
        with self._lock, self._db.atomic():
            count = self._db.execute("SELECT count(*) FROM subcall_cache").fetchone()[0]
            self._db.execute("DELETE FROM subcall_cache")
        return int(count)

    def model_id_for_file(self, path: Path) -> str:
        """``sha256:<hex>`` of a model file, hashed once per (path, size, mtime) and remembered."""
        path = Path(path).resolve()
        stat = path.stat()
        with self._lock:
            row = self._db.execute("SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime = ?",
                                   [str(path), stat.st_size, stat.st_mtime]).fetchone()
        if row:
            return f"sha256:{row[0]}"
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 22):
                digest.update(chunk)
        sha = digest.hexdigest()
        with self._lock, self._db.atomic():
            self._db.execute("INSERT OR REPLACE INTO file_hashes (path, size, mtime, sha256) VALUES (?, ?, ?, ?)",
                             [str(path), stat.st_size, stat.st_mtime, sha])
        return f"sha256:{sha}"

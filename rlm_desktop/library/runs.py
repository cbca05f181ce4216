"""Runs and their trajectory events: the log of record for every question asked.

A run is stored as it goes (question, settings, models, documents in order, every event), with
the process that runs it as its owner. A run left ``running`` by a process that died is
*interrupted* (:func:`recover_runs`) and can be continued (:func:`reopen_run`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import sqlite_utils

from rlm_desktop.errors import DocumentNotFound, LibraryError
from rlm_desktop.library.owner import current_owner, owner_alive
from rlm_desktop.library.records import RunRecord

RECORD_VERSION = 2
"""Format of a run's record. 2: events hold the root's conversation and the host-call results
that let a run be resumed. Runs stored with 1 can be read, not resumed."""

# RunResult-like summaries: these keys get their own columns, the rest is kept in `summary`.
_COLUMNS = ("answer", "stopped_by", "usage")


def to_json(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return repr(value)


def event_dict(event: Any) -> dict[str, Any]:
    """An engine Event (anything with to_dict) or a dict, as a JSON-safe dict."""
    if isinstance(event, dict):
        data = event
    elif hasattr(event, "to_dict"):
        data = event.to_dict()
    elif dataclasses.is_dataclass(event):
        data = dataclasses.asdict(event)
    else:
        raise TypeError(f"cannot store event of type {type(event).__name__}")
    return json.loads(to_json(data))


def start_run(db: sqlite_utils.Database, question: str, *, collection: str | None, doc_ids: list[int],
              settings: dict[str, Any], models: dict[str, Any]) -> int:
    with db.atomic():
        run_id = db["runs"].insert({"question": question, "collection": collection, "settings": to_json(settings),
                                    "models": to_json(models), "status": "running", "started": time.time(),
                                    "owner": current_owner(), "record_version": RECORD_VERSION}).last_pk
        for position, doc_id in enumerate(doc_ids):  # in context order: a resumed run needs the same `context`
            db.execute("INSERT OR IGNORE INTO run_documents (run_id, doc_id, name, sha256, position) "
                       "SELECT ?, id, name, sha256, ? FROM documents WHERE id = ?", [run_id, position, doc_id])
    return int(run_id)


def add_event(db: sqlite_utils.Database, run_id: int, event: Any) -> None:
    data = event_dict(event)
    with db.atomic():
        seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE run_id = ?", [run_id]).fetchone()[0]
        db.execute("INSERT INTO events (run_id, seq, kind, at, data) VALUES (?, ?, ?, ?, ?)",
                   [run_id, seq, str(data.get("kind", "event")), data.get("at"), to_json(data)])


def finish_run(db: sqlite_utils.Database, run_id: int, result_summary: dict[str, Any]) -> None:
    """Record the outcome: answer, stopped_by and usage in columns, everything else in `summary`."""
    summary = json.loads(to_json(result_summary))
    with db.atomic():
        cursor = db.execute(
            "UPDATE runs SET answer = ?, stopped_by = ?, usage = ?, summary = ?, status = 'finished', finished = ? "
            "WHERE id = ?",
            [summary.get("answer"), summary.get("stopped_by"), to_json(summary.get("usage")),
             to_json({k: v for k, v in summary.items() if k not in _COLUMNS}), time.time(), run_id])
        if cursor.rowcount == 0:
            raise DocumentNotFound(f"No run with id {run_id}.")


def recover_runs(db: sqlite_utils.Database) -> list[tuple[int, str]]:
    """Mark runs left running by a process that is gone as interrupted; return (id, question) of each."""
    rows = db.execute("SELECT id, question, owner FROM runs WHERE status = 'running'").fetchall()
    dead = [(run_id, question) for run_id, question, owner in rows if not owner_alive(owner)]
    if dead:
        with db.atomic():
            for run_id, _question in dead:
                db.execute("UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", [run_id])
    return dead


def reopen_run(db: sqlite_utils.Database, run_id: int) -> None:
    """Take an interrupted run over in this process, to continue it."""
    with db.atomic():
        row = db.execute("SELECT status, owner FROM runs WHERE id = ?", [run_id]).fetchone()
        if row is None:
            raise DocumentNotFound(f"No run with id {run_id}.")
        status, owner = row
        if status == "running" and owner_alive(owner):
            raise LibraryError(f"Run {run_id} is still running in another process.")
        if status == "finished":
            raise LibraryError(f"Run {run_id} has already finished.")
        db.execute("UPDATE runs SET status = 'running', owner = ?, finished = NULL WHERE id = ?",
                   [current_owner(), run_id])


def _record(row: dict[str, Any], documents: list[dict[str, Any]] | None = None,
            events: list[dict[str, Any]] | None = None) -> RunRecord:
    def load(text: str | None) -> Any:
        return json.loads(text) if text else None

    return RunRecord(
        id=row["id"], question=row["question"], collection=row["collection"], settings=load(row["settings"]) or {},
        models=load(row["models"]) or {}, answer=row["answer"], stopped_by=row["stopped_by"],
        usage=load(row["usage"]), summary=load(row["summary"]), status=row["status"], started=row["started"],
        finished=row["finished"], documents=documents or [], events=events or [],
        record_version=int(row.get("record_version") or 1),
    )


def list_runs(db: sqlite_utils.Database, collection: str | None = None, limit: int = 200) -> list[RunRecord]:
    """Newest first, without their events."""
    where, args = ("WHERE collection = ?", [collection]) if collection is not None else ("", [])
    rows = db.execute_returning_dicts(f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*args, limit])
    return [_record(row) for row in rows]


def get_run(db: sqlite_utils.Database, run_id: int) -> RunRecord:
    rows = db.execute_returning_dicts("SELECT * FROM runs WHERE id = ?", [run_id])
    if not rows:
        raise DocumentNotFound(f"No run with id {run_id}.")
    documents = db.execute_returning_dicts(
        "SELECT doc_id, name, sha256 FROM run_documents WHERE run_id = ? ORDER BY coalesce(position, doc_id), doc_id",
        [run_id])
    events = [json.loads(data) for (data,) in
              db.execute("SELECT data FROM events WHERE run_id = ? ORDER BY seq", [run_id])]
    return _record(rows[0], documents, events)

"""Ingest jobs: each batch is logged while it runs, so the next start can say one was interrupted.

Each file is still stored in its own transaction (ingest.py): a killed batch leaves whole
documents only. This log adds what the user needs to know: which batch stopped, after how many
files, so that running it again adds the rest (files already stored come back "unchanged").
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlite_utils

from rlm_desktop.library.owner import current_owner, owner_alive


@dataclass(frozen=True)
class InterruptedIngest:
    id: int
    collection: str | None
    paths: list[str]
    files_done: int
    started: float

    def describe(self) -> str:
        where = f" into collection {self.collection!r}" if self.collection else ""
        shown = ", ".join(self.paths[:3]) + (" ..." if len(self.paths) > 3 else "")
        return (f"An ingest of {shown}{where} was interrupted after {self.files_done} file(s); every file it "
                f"finished is stored whole. Add the same files again to store the rest.")


def start_ingest(db: sqlite_utils.Database, paths: list[str], collection: str | None) -> int:
    with db.atomic():
        return int(db["ingest_jobs"].insert({"collection": collection, "paths": json.dumps(paths), "files_done": 0,
                                             "status": "running", "owner": current_owner(),
                                             "started": time.time()}).last_pk)


def ingest_progress(db: sqlite_utils.Database, job_id: int, files_done: int) -> None:
    with db.atomic():
        db.execute("UPDATE ingest_jobs SET files_done = ? WHERE id = ?", [files_done, job_id])


def finish_ingest(db: sqlite_utils.Database, job_id: int) -> None:
    with db.atomic():
        db.execute("UPDATE ingest_jobs SET status = 'finished', finished = ? WHERE id = ?", [time.time(), job_id])


def recover_ingests(db: sqlite_utils.Database) -> list[InterruptedIngest]:
    """Mark running jobs whose process is gone as interrupted; return them (each is reported once)."""
    rows = db.execute_returning_dicts("SELECT * FROM ingest_jobs WHERE status = 'running'")
    dead = [row for row in rows if not owner_alive(row["owner"])]
    if dead:
        with db.atomic():
            for row in dead:
                db.execute("UPDATE ingest_jobs SET status = 'interrupted' WHERE id = ?", [row["id"]])
    return [InterruptedIngest(row["id"], row["collection"], json.loads(row["paths"]), row["files_done"],
                              row["started"]) for row in dead]

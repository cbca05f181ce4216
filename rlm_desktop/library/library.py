"""The document library: one SQLite file holding documents, pages, runs and the sub-call cache.

Every public method is safe to call from any thread (one connection, one lock), so the
GUI can open the library on its thread and ingest or run from worker threads.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from rlm_desktop import settings
from rlm_desktop.documents import Document
from rlm_desktop.errors import DocumentNotFound, LibraryError
from rlm_desktop.library import flags as doc_flags
from rlm_desktop.library import jobs
from rlm_desktop.library import runs as run_log
from rlm_desktop.library import search as fts
from rlm_desktop.library.cache import SubCallCache
from rlm_desktop.library.db import connect
from rlm_desktop.library.ingest import IngestLimits, Ingestor, ProgressCallback
from rlm_desktop.library.records import CollectionInfo, DocumentFlag, DocumentInfo, IngestReport, RunRecord


_PARENT = ("(SELECT m.parent_id FROM document_members m WHERE m.child_id = d.id ORDER BY m.rowid LIMIT 1) AS parent_id, "
           "(SELECT count(*) FROM document_flags f WHERE f.doc_id = d.id) AS flags")


class Library:
    """Open with :meth:`Library.open`; close with :meth:`close` (or use as a context manager)."""

    def __init__(self, db: Any, path: Path, limits: IngestLimits) -> None:
        self.db = db
        self.path = path
        self.limits = limits
        self._lock = threading.RLock()
        self.sub_call_cache = SubCallCache(db, self._lock)
        self.interrupted: list[str] = []  # what a crash interrupted, found when the library was opened

    @classmethod
    def open(cls, path: Path | str | None = None, *, limits: IngestLimits | None = None) -> "Library":
        """Open (creating and migrating if needed) the library at ``path`` or the per-user default."""
        target = Path(path) if path is not None else settings.library_path()
        library = cls(connect(target), target, limits or IngestLimits())
        library.interrupted = library.recover()
        return library

    def recover(self) -> list[str]:
        """Mark runs and ingests whose process died as interrupted; one message for each (said once)."""
        with self._lock:
            runs = run_log.recover_runs(self.db)
            ingests = jobs.recover_ingests(self.db)
        return ([f"Run {run_id} ({question[:60]!r}) was interrupted before it finished; resume it with "
                 f"`rlm runs resume {run_id}` or the Resume button in History." for run_id, question in runs]
                + [job.describe() for job in ingests])

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingest ---------------------------------------------------------------
    def ingest(self, paths: list[Path] | list[str], *, collection: str | None = None,
               on_progress: ProgressCallback | None = None, cancel: Any = None) -> IngestReport:
        """Files and folders into the library, each file in its own transaction (see ingest.py)."""
        ingestor = Ingestor(self.db, self._lock, self.limits)
        with self._lock:
            job_id = jobs.start_ingest(self.db, [str(p) for p in paths], collection)
        done = 0

        def progress(event: Any) -> None:
            nonlocal done
            if event.stage == "done":
                done += 1
                with self._lock:
                    jobs.ingest_progress(self.db, job_id, done)
            if on_progress is not None:
                on_progress(event)

        try:
            return ingestor.ingest([Path(p) for p in paths], collection=collection, on_progress=progress, cancel=cancel)
        finally:
            with self._lock:
                jobs.finish_ingest(self.db, job_id)

    # --- documents and collections ----------------------------------------------
    def collections(self) -> list[CollectionInfo]:
        with self._lock:
            rows = self.db.execute(
                "SELECT c.id, c.name, c.created, count(d.id), coalesce(sum(d.chars), 0) FROM collections c "
                "LEFT JOIN collection_documents cd ON cd.collection_id = c.id "
                "LEFT JOIN documents d ON d.id = cd.doc_id AND d.status = 'stored' "
                "GROUP BY c.id ORDER BY c.name").fetchall()
        return [CollectionInfo(id=r[0], name=r[1], created=r[2], documents=r[3], chars=r[4]) for r in rows]

    def documents(self, collection: str | None = None, *, include_failed: bool = True) -> list[DocumentInfo]:
        """Current versions (and failed files), optionally of one collection, by name."""
        where = ["d.current = 1"]
        args: list[Any] = []
        if collection is not None:
            self._collection_id(collection)
            where.append("d.id IN (SELECT cd.doc_id FROM collection_documents cd JOIN collections c "
                         "ON c.id = cd.collection_id WHERE c.name = ?)")
            args.append(collection)
        if not include_failed:
            where.append("d.status = 'stored'")
        with self._lock:
            rows = self.db.execute_returning_dicts(
                f"SELECT d.*, {_PARENT} FROM documents d WHERE {' AND '.join(where)} "
                f"ORDER BY d.name COLLATE NOCASE, d.id", args)
            names = self._collection_names([r["id"] for r in rows])
        return [DocumentInfo.from_row(r, names.get(r["id"], ())) for r in rows]

    def document(self, doc_id: int) -> DocumentInfo:
        with self._lock:
            rows = self.db.execute_returning_dicts(f"SELECT d.*, {_PARENT} FROM documents d WHERE d.id = ?", [doc_id])
            if not rows:
                raise DocumentNotFound(f"No document with id {doc_id}.")
            names = self._collection_names([doc_id])
        return DocumentInfo.from_row(rows[0], names.get(doc_id, ()))

    def find_documents(self, ref: str) -> list[DocumentInfo]:
        """Documents matching an id ("12") or a file name (current versions), for the faces."""
        if re.fullmatch(r"\d+", ref.strip()):
            return [self.document(int(ref))]
        with self._lock:
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM documents WHERE current = 1 AND (name = ? OR path = ?) ORDER BY id", [ref, ref])]
        return [self.document(i) for i in ids]

    def pages(self, doc_id: int) -> list[dict[str, Any]]:
        """``{"page", "start", "text", "source", "flag"}`` per page of a document."""
        self.document(doc_id)
        with self._lock:
            return self.db.execute_returning_dicts(
                "SELECT page, start, text, source, flag FROM pages WHERE doc_id = ? ORDER BY page", [doc_id])

    def document_flags(self, doc_id: int) -> list[DocumentFlag]:
        """The passages of a document written to steer an AI, and its hidden text, in order of position."""
        return self.flags_of([doc_id]).get(doc_id, [])

    def flags_of(self, doc_ids: list[int]) -> dict[int, list[DocumentFlag]]:
        """:meth:`document_flags` of many documents at once (the flagged ones only), by id."""
        with self._lock:
            return doc_flags.load_flags(self.db, list(doc_ids))

    def check_flags(self, limit: int | None = None) -> int:
        """Flag documents stored before flags existed, from their stored text; how many were checked."""
        with self._lock:
            return doc_flags.check_unflagged(self.db, limit)

    def members(self, doc_id: int) -> list[tuple[str, DocumentInfo]]:
        """(name inside it, document) for each member of an archive or attachment of an e-mail."""
        with self._lock:
            rows = self.db.execute("SELECT member, child_id FROM document_members WHERE parent_id = ? "
                                   "ORDER BY rowid", [doc_id]).fetchall()
        return [(member, self.document(child_id)) for member, child_id in rows]

    def page_images(self, doc_id: int) -> dict[int, bytes]:
        """Pictures of a document's pages (images and scans), by 1-based page number."""
        with self._lock:
            return {page: bytes(data) for page, data in self.db.execute(
                "SELECT page, data FROM page_images WHERE doc_id = ? ORDER BY page", [doc_id])}

    def remove_document(self, doc_id: int) -> None:
        """Delete a document, its pages (and index entries) and memberships; runs keep its name.

        An archive's or e-mail's members go with it, unless another container also holds them.
        """
        with self._lock, self.db.atomic():
            if self.db.execute("SELECT 1 FROM documents WHERE id = ?", [doc_id]).fetchone() is None:
                raise DocumentNotFound(f"No document with id {doc_id}.")
            doomed = [doc_id]
            index = 0
            while index < len(doomed):
                parent = doomed[index]
                index += 1
                for (child,) in self.db.execute(
                        "SELECT child_id FROM document_members m WHERE parent_id = ? AND NOT EXISTS (SELECT 1 "
                        "FROM document_members o WHERE o.child_id = m.child_id AND o.parent_id != ?)",
                        [parent, parent]).fetchall():
                    if child not in doomed:
                        doomed.append(child)
            for doomed_id in doomed:
                self.db.execute("DELETE FROM pages WHERE doc_id = ?", [doomed_id])
                self.db.execute("DELETE FROM collection_documents WHERE doc_id = ?", [doomed_id])
                self.db.execute("DELETE FROM documents WHERE id = ?", [doomed_id])

    def _expand_containers(self, doc_ids: list[int]) -> list[int]:
        """Archives in a selection stand for their members (recursively); other ids stay as they are."""
        out: list[int] = []
        pending = list(doc_ids)
        while pending:
            doc_id = pending.pop(0)
            row = self.db.execute("SELECT status FROM documents WHERE id = ?", [doc_id]).fetchone()
            if row is not None and row[0] == "archive":
                pending[0:0] = [child for (child,) in self.db.execute(
                    "SELECT child_id FROM document_members WHERE parent_id = ? ORDER BY rowid", [doc_id])]
            elif doc_id not in out:
                out.append(doc_id)
        return out

    def rename_collection(self, old: str, new: str) -> None:
        with self._lock, self.db.atomic():
            collection_id = self._collection_id(old)
            if self.db.execute("SELECT 1 FROM collections WHERE name = ?", [new]).fetchone():
                raise LibraryError(f"A collection named {new!r} already exists.")
            self.db.execute("UPDATE collections SET name = ? WHERE id = ?", [new, collection_id])

    def remove_collection(self, name: str) -> None:
        """Delete the collection (not its documents, which may belong to others)."""
        with self._lock, self.db.atomic():
            collection_id = self._collection_id(name)
            self.db.execute("DELETE FROM collection_documents WHERE collection_id = ?", [collection_id])
            self.db.execute("DELETE FROM collections WHERE id = ?", [collection_id])

    # --- what the RLM reads ----------------------------------------------------------
    def load_context(self, collection: str | None = None, doc_ids: list[int] | None = None) -> list[Document]:
        """Stored documents (a collection, a selection, or all current ones) with text and page starts."""
        with self._lock:
            if doc_ids is not None:
                doc_ids = self._expand_containers(list(doc_ids))
                marks = ",".join("?" * len(doc_ids)) or "NULL"
                rows = self.db.execute(f"SELECT id, name FROM documents WHERE status = 'stored' AND id IN ({marks}) "
                                       f"ORDER BY id", list(doc_ids)).fetchall()
                missing = set(doc_ids) - {r[0] for r in rows}
                if missing:
                    raise DocumentNotFound(f"No stored document with id {', '.join(map(str, sorted(missing)))}.")
                order = {doc_id: i for i, doc_id in enumerate(doc_ids)}
                rows.sort(key=lambda r: order[r[0]])
            else:
                where, args = fts.scope_clause(None, collection)
                if collection is not None:
                    self._collection_id(collection)
                rows = self.db.execute(f"SELECT d.id, d.name FROM documents d WHERE d.status = 'stored' AND {where} "
                                       f"ORDER BY d.name COLLATE NOCASE, d.id", args).fetchall()
            documents = []
            for doc_id, name in rows:
                pages = self.db.execute("SELECT start, text FROM pages WHERE doc_id = ? ORDER BY page",
                                        [doc_id]).fetchall()
                documents.append(Document(name=name, text="".join(p[1] for p in pages),
                                          page_starts=tuple(p[0] for p in pages) or (0,), doc_id=doc_id))
        return documents

    def search(self, query: str, k: int = 10, doc_ids: list[int] | None = None, *,
               collection: str | None = None) -> list[dict[str, Any]]:
        """bm25-ranked page hits ``{"document","doc_id","page","start","end","snippet","score"}``."""
        with self._lock:
            if doc_ids is not None:
                doc_ids = self._expand_containers(list(doc_ids))
            return fts.search(self.db, query, k, doc_ids=doc_ids, collection=collection)

    def grep(self, pattern: str, *, doc_ids: list[int] | None = None, collection: str | None = None,
             max_hits: int = 200) -> list[dict[str, Any]]:
        """Regex hits (case-insensitive) with document, page, span and snippet."""
        try:
            with self._lock:
                if doc_ids is not None:
                    doc_ids = self._expand_containers(list(doc_ids))
                return fts.grep(self.db, pattern, doc_ids=doc_ids, collection=collection, max_hits=max_hits)
        except re.error as exc:
            raise LibraryError(f"Bad pattern {pattern!r}: {exc}") from exc

    # --- runs and cache ------------------------------------------------------------------
    def start_run(self, question: str, *, collection: str | None = None, doc_ids: list[int] | None = None,
                  settings: dict[str, Any] | None = None, models: dict[str, Any] | None = None) -> int:
        with self._lock:
            return run_log.start_run(self.db, question, collection=collection, doc_ids=list(doc_ids or []),
                                     settings=settings or {}, models=models or {})

    def add_event(self, run_id: int, event: Any) -> None:
        """Append an engine Event (or its dict) to a run's trajectory."""
        with self._lock:
            run_log.add_event(self.db, run_id, event)

    def finish_run(self, run_id: int, result_summary: dict[str, Any]) -> None:
        with self._lock:
            run_log.finish_run(self.db, run_id, result_summary)

    def runs(self, collection: str | None = None) -> list[RunRecord]:
        with self._lock:
            run_log.recover_runs(self.db)
            return run_log.list_runs(self.db, collection)

    def run(self, run_id: int) -> RunRecord:
        with self._lock:
            run_log.recover_runs(self.db)
            return run_log.get_run(self.db, run_id)

    def reopen_run(self, run_id: int) -> None:
        """Continue an interrupted run in this process (its status goes back to running)."""
        with self._lock:
            run_log.reopen_run(self.db, run_id)

    def run_context(self, run: RunRecord) -> list[Document]:
        """The documents ``run`` read, the versions it read, in its order; a clear error if one is gone."""
        with self._lock:
            for doc in run.documents:
                row = self.db.execute("SELECT sha256, status FROM documents WHERE id = ?", [doc["doc_id"]]).fetchone()
                if row is None or row[1] != "stored":
                    raise DocumentNotFound(f"Run {run.id} read {doc['name']!r} (document {doc['doc_id']}), which "
                                           "was since removed from the library.")
                if doc["sha256"] and row[0] != doc["sha256"]:
                    raise LibraryError(f"Run {run.id} read {doc['name']!r} (document {doc['doc_id']}), whose "
                                       "stored text has changed since.")
        if not run.documents:
            raise DocumentNotFound(f"Run {run.id} has no stored documents to read.")
        return self.load_context(doc_ids=[doc["doc_id"] for doc in run.documents])

    def clear_cache(self) -> int:
        """Empty the sub-call cache; returns the number of entries removed."""
        return self.sub_call_cache.clear()

    # --- helpers ---------------------------------------------------------------------------
    def _collection_id(self, name: str) -> int:
        row = self.db.execute("SELECT id FROM collections WHERE name = ?", [name]).fetchone()
        if row is None:
            raise DocumentNotFound(f"No collection named {name!r}.")
        return int(row[0])

    def _collection_names(self, doc_ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not doc_ids:
            return {}
        names: dict[int, list[str]] = {}
        for start in range(0, len(doc_ids), 500):
            chunk = doc_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for doc_id, name in self.db.execute(
                    f"SELECT cd.doc_id, c.name FROM collection_documents cd JOIN collections c "
                    f"ON c.id = cd.collection_id WHERE cd.doc_id IN ({marks}) ORDER BY c.name", chunk):
                names.setdefault(doc_id, []).append(name)
        return {k: tuple(v) for k, v in names.items()}

    def stats(self) -> dict[str, Any]:
        """Counts and sizes for `rlm library` and the GUI status bar."""
        with self._lock:
            docs, failed, pages, chars = self.db.execute(
                "SELECT sum(status = 'stored' AND current = 1), sum(status = 'failed'), "
                "coalesce(sum(CASE WHEN status = 'stored' THEN pages END), 0), "
                "coalesce(sum(CASE WHEN status = 'stored' THEN chars END), 0) FROM documents").fetchone()
        return {"documents": docs or 0, "failed": failed or 0, "pages": pages, "chars": chars,
                "cache": self.sub_call_cache.stats(), "path": str(self.path)}

"""The ingest's database steps, each one transaction: store, fail, duplicate, container rows, links.

A :class:`Source` is what is being ingested: a file on disk, or a member of an archive or an
e-mail copied into a private temporary folder. Members are keyed by their container's key plus
their path inside it (``/data/room.zip/02 Contracts/msa.pdf``) and named the same way from the
container's name (``room.zip/02 Contracts/msa.pdf``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from rlm_desktop.library.flags import compute_flags, store_flags
from rlm_desktop.library.pages import Extracted
from rlm_desktop.library.records import FileResult


@dataclass(frozen=True)
class Source:
    """One thing to ingest and where it sits."""

    file: Path                  # where its bytes are: the real file, or a private temporary copy
    name: str                   # document name
    key: str                    # documents.path: an absolute path, or container key + '/' + member
    display: Path               # FileResult.path: the real path, or container path / member
    size: int
    mtime: float | None = None
    crc: int | None = None      # CRC-32 of an archive member (from the archive's directory)
    depth: int = 0              # containers (archives, e-mails) above it
    parent_id: int | None = None
    member: str | None = None   # its name inside the parent
    format: str | None = None
    container: str | None = None  # the name of the archive or e-mail it came from

    def result(self, status: str, doc_id: int | None = None, **kwargs: object) -> FileResult:
        name = self.name if self.depth else None
        return FileResult(self.display, status, doc_id, size=self.size, name=name, **kwargs)  # type: ignore[arg-type]


class DocumentStore:
    """Writes of one ingest; ``lock`` serialises use of the shared connection."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock) -> None:
        self.db = db
        self.lock = lock

    # --- look-ups ---------------------------------------------------------------
    def collection_id(self, name: str) -> int:
        with self.lock, self.db.atomic():
            self.db.execute("INSERT OR IGNORE INTO collections (name, created) VALUES (?, ?)", [name, time.time()])
            return self.db.execute("SELECT id FROM collections WHERE name = ?", [name]).fetchone()[0]

    def unchanged(self, src: Source, status: str = "stored") -> int | None:
        """The stored document (or completely ingested archive, ``status='archive'``) for this source
        when it has not changed: same path and size, and same CRC-32 (archive members) or mtime."""
        if src.crc is not None:
            sql, args = "member_crc = ?", [src.crc]
        elif src.mtime is not None:
            sql, args = "mtime = ?", [src.mtime]
        else:
            return None
        with self.lock:
            row = self.db.execute(
                f"SELECT id FROM documents WHERE path = ? AND current = 1 AND status = ? AND complete = 1 "
                f"AND size = ? AND {sql}", [src.key, status, src.size, *args]).fetchone()
        return row[0] if row else None

    def stored_with_hash(self, sha: str) -> int | None:
        with self.lock:
            row = self.db.execute(
                "SELECT id FROM documents WHERE sha256 = ? AND status = 'stored' ORDER BY current DESC, id DESC",
                [sha]).fetchone()
        return row[0] if row else None

    def pages_of(self, doc_id: int) -> int:
        with self.lock:
            return self.db.execute("SELECT pages FROM documents WHERE id = ?", [doc_id]).fetchone()[0]

    # --- writes ----------------------------------------------------------------------
    def keep_unchanged(self, src: Source, doc_id: int, collection_id: int | None) -> FileResult:
        """An unchanged document (or archive, with its members) joins the collection again."""
        with self.lock, self.db.atomic():
            self._join(src, doc_id, collection_id)
            if collection_id is not None:
                self.db.execute(
                    "WITH RECURSIVE tree(id) AS (SELECT child_id FROM document_members WHERE parent_id = ? UNION "
                    "SELECT m.child_id FROM document_members m JOIN tree ON m.parent_id = tree.id) "
                    "INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
                    "SELECT ?, id, ? FROM tree", [doc_id, collection_id, time.time()])
            status = self.db.execute("SELECT status FROM documents WHERE id = ?", [doc_id]).fetchone()[0]
        note = "archive unchanged: its members were not read again" if status == "archive" else None
        return src.result("unchanged", doc_id, pages=0 if note else self.pages_of(doc_id), reason=note)

    def duplicate(self, src: Source, doc_id: int, collection_id: int | None) -> FileResult:
        with self.lock, self.db.atomic():
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [src.key])
            self._join(src, doc_id, collection_id)
            name, stored_path, pages, current = self.db.execute(
                "SELECT name, path, pages, current FROM documents WHERE id = ?", [doc_id]).fetchone()
            if stored_path == src.key and not current:
                self._make_current(doc_id, src.key)  # the file went back to an earlier version
        status = "unchanged" if stored_path == src.key else "duplicate"
        note = None if status == "unchanged" else f"same content as {name} (document {doc_id}), stored once"
        return src.result(status, doc_id, reason=note, pages=pages)

    def fail(self, src: Source, sha: str | None, reason: str, collection_id: int | None) -> FileResult:
        with self.lock, self.db.atomic():
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [src.key])
            doc_id = self.db["documents"].insert(
                {"name": src.name, "path": src.key, "sha256": sha, "size": src.size, "format": src.format,
                 "status": "failed", "error": reason, "current": 1, "ingested": time.time(),
                 "member_crc": src.crc}).last_pk
            self._join(src, doc_id, collection_id)
        return src.result("failed", doc_id, reason=reason)

    def container(self, src: Source, members: int, collection_id: int | None) -> int:
        """The archive's own row (status 'archive', never part of a run's context), created or refreshed."""
        with self.lock, self.db.atomic():
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [src.key])
            row = self.db.execute("SELECT id FROM documents WHERE path = ? AND status = 'archive' AND current = 1",
                                  [src.key]).fetchone()
            values = {"name": src.name, "path": src.key, "size": src.size, "mtime": src.mtime, "format": "zip",
                      "unit": "member", "pages": members, "status": "archive", "current": 1, "complete": 0,
                      "ingested": time.time(), "member_crc": src.crc}
            if row:
                doc_id = row[0]
                self.db["documents"].update(doc_id, values)
            else:
                doc_id = self.db["documents"].insert(values).last_pk
            self._join(src, doc_id, collection_id)
        return int(doc_id)

    def finish_container(self, doc_id: int) -> None:
        """Every member of the archive was tried: a re-run may skip it while it is unchanged."""
        with self.lock, self.db.atomic():
            self.db.execute("UPDATE documents SET complete = 1 WHERE id = ?", [doc_id])

    def store(self, src: Source, sha: str, extracted: Extracted, collection_id: int | None,
              members: list[tuple[str, int]] = ()) -> FileResult:  # type: ignore[assignment]
        """Document, pages, page pictures, memberships and member links in one transaction."""
        pages = extracted.pages
        ocr_pages = sum(1 for p in pages if p.source == "ocr")
        empty_pages = sum(1 for p in pages if p.flag)
        with self.lock, self.db.atomic():
            again = self.stored_with_hash(sha)  # another process may have stored it meanwhile
            if again is not None:
                return self.duplicate(src, again, collection_id)
            previous = self.db.execute(
                "SELECT id, version FROM documents WHERE path = ? AND current = 1 AND status = 'stored'",
                [src.key]).fetchone()
            doc_id = self.db["documents"].insert(
                {"name": src.name, "path": src.key, "sha256": sha, "size": src.size, "mtime": src.mtime,
                 "format": extracted.format, "unit": extracted.unit, "pages": len(pages),
                 "chars": extracted.chars, "ocr_pages": ocr_pages, "empty_pages": empty_pages,
                 "status": "stored", "version": previous[1] + 1 if previous else 1,
                 "previous_id": previous[0] if previous else None, "current": 1, "ingested": time.time(),
                 "member_crc": src.crc}).last_pk
            rows = []
            start = 0
            for number, page in enumerate(pages, start=1):
                rows.append((doc_id, number, start, page.text, page.source, page.flag))
                start += len(page.text)
            self.db.conn.executemany(
                "INSERT INTO pages (doc_id, page, start, text, source, flag) VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.db.conn.executemany(
                "INSERT INTO page_images (doc_id, page, mime, data) VALUES (?, ?, 'image/jpeg', ?)",
                [(doc_id, number, page.image) for number, page in enumerate(pages, start=1) if page.image])
            store_flags(self.db, doc_id, compute_flags(src.name, [page.text for page in pages], extracted.hidden))
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [src.key])
            if previous:
                # The new version replaces the old in its collections; runs keep the old id.
                self.db.execute("UPDATE documents SET current = 0 WHERE id = ?", [previous[0]])
                self._move_memberships(previous[0], doc_id)
            self._join(src, doc_id, collection_id)
            for member, child_id in members:
                self.db.execute("INSERT OR REPLACE INTO document_members (parent_id, member, child_id) "
                                "VALUES (?, ?, ?)", [doc_id, member, child_id])
        return src.result("new_version" if previous else "stored", doc_id, pages=len(pages),
                          ocr_pages=ocr_pages, empty_pages=empty_pages)

    # --- within a transaction ----------------------------------------------------------
    def _join(self, src: Source, doc_id: int, collection_id: int | None) -> None:
        """Add to the collection and link to the parent container."""
        if collection_id is not None:
            self.db.execute("INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
                            "VALUES (?, ?, ?)", [collection_id, doc_id, time.time()])
        if src.parent_id is not None and src.member is not None:
            self.db.execute("INSERT OR REPLACE INTO document_members (parent_id, member, child_id) VALUES (?, ?, ?)",
                            [src.parent_id, src.member, doc_id])

    def _make_current(self, doc_id: int, key: str) -> None:
        """``doc_id`` becomes the current version at ``key``."""
        for (other,) in self.db.execute(
                "SELECT id FROM documents WHERE path = ? AND current = 1 AND status = 'stored' AND id != ?",
                [key, doc_id]).fetchall():
            self._move_memberships(other, doc_id)
            self.db.execute("UPDATE documents SET current = 0 WHERE id = ?", [other])
        self.db.execute("UPDATE documents SET current = 1 WHERE id = ?", [doc_id])

    def _move_memberships(self, old_id: int, new_id: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
            "SELECT collection_id, ?, ? FROM collection_documents WHERE doc_id = ?", [new_id, time.time(), old_id])
        self.db.execute("DELETE FROM collection_documents WHERE doc_id = ?", [old_id])

"""Paths -> dedupe by sha256 -> extract -> store, one transaction per file.

A kill mid-batch leaves every committed file whole and no half document; a re-run
skips what is already stored (same path, size and mtime, or same sha256) and goes on.
A file that cannot be read is recorded as failed with the reason; the batch goes on.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.extract import extract_file, file_format
from rlm_desktop.library.extract_office import ZipLimits
from rlm_desktop.library.ocr import PageOCR, ocr_engine
from rlm_desktop.library.pages import Extracted
from rlm_desktop.library.records import FileResult, IngestProgress, IngestReport

ProgressCallback = Callable[[IngestProgress], None]


@dataclass(frozen=True)
class IngestLimits:
    max_file_bytes: int = 500 * 1024 * 1024
    zip: ZipLimits = field(default_factory=ZipLimits)
    ocr: bool = True


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest (folders walked recursively, hidden entries left out) and skipped entries.

    Inside folders, files of unsupported types are reported as skipped; a file named
    explicitly is always attempted (and fails with the reason if unsupported).
    """
    files: list[Path] = []
    skipped: list[FileResult] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for path in paths:
        path = Path(path)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for name in sorted(names):
                    child = Path(root) / name
                    if name.startswith(".") or not child.is_file():
                        continue
                    if file_format(child) is None:
                        skipped.append(FileResult(child, "skipped", reason=f"unsupported file type {child.suffix or '(no extension)'}"))
                    else:
                        add(child)
        elif path.exists():
            add(path)
        else:
            skipped.append(FileResult(path, "failed", reason=f"{path.name}: no such file or folder"))
    return files, skipped


def sha256_file(path: Path, cancelled: Callable[[], bool] = lambda: False) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            if cancelled():
                raise ExtractionError(f"{path.name}: cancelled")
            digest.update(chunk)
    return digest.hexdigest()


class Ingestor:
    """Ingests files into one library database; ``lock`` serialises use of its connection."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock, limits: IngestLimits) -> None:
        self.db = db
        self.lock = lock
        self.limits = limits

    # --- the batch ----------------------------------------------------------
    def ingest(self, paths: list[Path], *, collection: str | None = None,
               on_progress: ProgressCallback | None = None, cancel: Any = None) -> IngestReport:
        files, skipped = expand_paths(paths)
        report = IngestReport(files=list(skipped))
        sizes = [_size(p) for p in files]
        total = sum(sizes)
        done = 0
        cancelled = lambda: bool(getattr(cancel, "cancelled", False))  # noqa: E731
        collection_id = self._collection_id(collection) if collection else None
        for index, (path, size) in enumerate(zip(files, sizes)):
            if cancelled():
                report.cancelled = True
                break
            if on_progress:
                on_progress(IngestProgress("start", path, index, len(files), done, total))
            result = self.ingest_file(path, collection_id, cancelled)
            if result.status == "failed" and cancelled():
                report.cancelled = True
                break
            report.files.append(result)
            done += size
            if on_progress:
                on_progress(IngestProgress("done", path, index, len(files), done, total, result))
        return report

    # --- one file -------------------------------------------------------------
    def ingest_file(self, path: Path, collection_id: int | None,
                    cancelled: Callable[[], bool] = lambda: False) -> FileResult:
        abspath = str(path.resolve())
        try:
            stat = path.stat()
        except OSError as exc:
            return FileResult(path, "failed", reason=f"{path.name}: cannot be read ({exc.strerror})")
        size = stat.st_size
        if size == 0:
            return self._fail(path, abspath, size, None, f"{path.name}: empty file", collection_id)
        if size > self.limits.max_file_bytes:
            return self._fail(path, abspath, size, None,
                              f"{path.name}: {size / 2**20:.0f} MB is over the "
                              f"{self.limits.max_file_bytes / 2**20:.0f} MB limit for one file", collection_id)
        unchanged = self._unchanged(abspath, size, stat.st_mtime)
        if unchanged is not None:
            self._add_to_collection(unchanged, collection_id)
            return FileResult(path, "unchanged", unchanged, pages=self._pages_of(unchanged), size=size)
        try:
            sha = sha256_file(path, cancelled)
        except OSError as exc:
            return FileResult(path, "failed", reason=f"{path.name}: cannot be read ({exc.strerror})")
        except ExtractionError as exc:
            return FileResult(path, "failed", reason=str(exc))
        duplicate = self._stored_with_hash(sha)
        if duplicate is not None:
            return self._duplicate(path, abspath, size, duplicate, collection_id)
        try:
            extracted = extract_file(path, ocr=self._ocr, zip_limits=self.limits.zip, cancelled=cancelled)
        except ExtractionError as exc:
            return self._fail(path, abspath, size, sha, str(exc), collection_id)
        except MemoryError:
            return self._fail(path, abspath, size, sha, f"{path.name}: too large to extract in memory", collection_id)
        except Exception as exc:  # a damaged file can make any parser raise anything
            return self._fail(path, abspath, size, sha,
                              f"{path.name}: could not be read ({type(exc).__name__}: {exc})", collection_id)
        return self._store(path, abspath, size, stat.st_mtime, sha, extracted, collection_id)

    def _ocr(self) -> PageOCR | None:
        return ocr_engine() if self.limits.ocr else None

    # --- database steps, each one transaction ----------------------------------
    def _collection_id(self, name: str) -> int:
        with self.lock, self.db.atomic():
            self.db.execute("INSERT OR IGNORE INTO collections (name, created) VALUES (?, ?)", [name, time.time()])
            return self.db.execute("SELECT id FROM collections WHERE name = ?", [name]).fetchone()[0]

    def _unchanged(self, abspath: str, size: int, mtime: float) -> int | None:
        with self.lock:
            row = self.db.execute(
                "SELECT id FROM documents WHERE path = ? AND current = 1 AND status = 'stored' "
                "AND size = ? AND mtime = ?", [abspath, size, mtime]).fetchone()
        return row[0] if row else None

    def _stored_with_hash(self, sha: str) -> int | None:
        with self.lock:
            row = self.db.execute(
                "SELECT id FROM documents WHERE sha256 = ? AND status = 'stored' ORDER BY current DESC, id DESC",
                [sha]).fetchone()
        return row[0] if row else None

    def _pages_of(self, doc_id: int) -> int:
        with self.lock:
            return self.db.execute("SELECT pages FROM documents WHERE id = ?", [doc_id]).fetchone()[0]

    def _add_to_collection(self, doc_id: int, collection_id: int | None) -> None:
        if collection_id is None:
            return
        with self.lock, self.db.atomic():
            self.db.execute("INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) VALUES (?, ?, ?)",
                            [collection_id, doc_id, time.time()])

    def _duplicate(self, path: Path, abspath: str, size: int, doc_id: int, collection_id: int | None) -> FileResult:
        with self.lock, self.db.atomic():
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [abspath])
            if collection_id is not None:
                self.db.execute("INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
                                "VALUES (?, ?, ?)", [collection_id, doc_id, time.time()])
            name, stored_path, pages, current = self.db.execute(
                "SELECT name, path, pages, current FROM documents WHERE id = ?", [doc_id]).fetchone()
            if stored_path == abspath and not current:
                self._make_current(doc_id, abspath)  # the file went back to an earlier version
        status = "unchanged" if stored_path == abspath else "duplicate"
        note = None if status == "unchanged" else f"same content as {name} (document {doc_id}), stored once"
        return FileResult(path, status, doc_id, reason=note, pages=pages, size=size)

    def _make_current(self, doc_id: int, abspath: str) -> None:
        """Within a transaction: ``doc_id`` becomes the current version at ``abspath``."""
        for (other,) in self.db.execute(
                "SELECT id FROM documents WHERE path = ? AND current = 1 AND status = 'stored' AND id != ?",
                [abspath, doc_id]).fetchall():
            self._move_memberships(other, doc_id)
            self.db.execute("UPDATE documents SET current = 0 WHERE id = ?", [other])
        self.db.execute("UPDATE documents SET current = 1 WHERE id = ?", [doc_id])

    def _move_memberships(self, old_id: int, new_id: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
            "SELECT collection_id, ?, ? FROM collection_documents WHERE doc_id = ?", [new_id, time.time(), old_id])
        self.db.execute("DELETE FROM collection_documents WHERE doc_id = ?", [old_id])

    def _fail(self, path: Path, abspath: str, size: int, sha: str | None, reason: str,
              collection_id: int | None) -> FileResult:
        with self.lock, self.db.atomic():
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [abspath])
            doc_id = self.db["documents"].insert(
                {"name": path.name, "path": abspath, "sha256": sha, "size": size, "format": file_format(path),
                 "status": "failed", "error": reason, "current": 1, "ingested": time.time()}).last_pk
            if collection_id is not None:
                self.db.execute("INSERT INTO collection_documents (collection_id, doc_id, added) VALUES (?, ?, ?)",
                                [collection_id, doc_id, time.time()])
        return FileResult(path, "failed", doc_id, reason=reason, size=size)

    def _store(self, path: Path, abspath: str, size: int, mtime: float, sha: str, extracted: Extracted,
               collection_id: int | None) -> FileResult:
        pages = extracted.pages
        ocr_pages = sum(1 for p in pages if p.source == "ocr")
        empty_pages = sum(1 for p in pages if p.flag)
        with self.lock, self.db.atomic():
            again = self._stored_with_hash(sha)  # another process may have stored it meanwhile
            if again is not None:
                return self._duplicate(path, abspath, size, again, collection_id)
            previous = self.db.execute(
                "SELECT id, version FROM documents WHERE path = ? AND current = 1 AND status = 'stored'",
                [abspath]).fetchone()
            doc_id = self.db["documents"].insert(
                {"name": path.name, "path": abspath, "sha256": sha, "size": size, "mtime": mtime,
                 "format": extracted.format, "unit": extracted.unit, "pages": len(pages),
                 "chars": extracted.chars, "ocr_pages": ocr_pages, "empty_pages": empty_pages,
                 "status": "stored", "version": previous[1] + 1 if previous else 1,
                 "previous_id": previous[0] if previous else None, "current": 1, "ingested": time.time()}).last_pk
            rows = []
            start = 0
            for number, page in enumerate(pages, start=1):
                rows.append((doc_id, number, start, page.text, page.source, page.flag))
                start += len(page.text)
            self.db.conn.executemany(
                "INSERT INTO pages (doc_id, page, start, text, source, flag) VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.db.execute("DELETE FROM documents WHERE path = ? AND status = 'failed'", [abspath])
            if previous:
                # The new version replaces the old in its collections; runs keep the old id.
                self.db.execute("UPDATE documents SET current = 0 WHERE id = ?", [previous[0]])
                self._move_memberships(previous[0], doc_id)
            if collection_id is not None:
                self.db.execute("INSERT OR IGNORE INTO collection_documents (collection_id, doc_id, added) "
                                "VALUES (?, ?, ?)", [collection_id, doc_id, time.time()])
        return FileResult(path, "new_version" if previous else "stored", doc_id, pages=len(pages),
                          ocr_pages=ocr_pages, empty_pages=empty_pages, size=size)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

"""Paths -> dedupe by sha256 -> extract -> store, one transaction per file (and per member).

A kill mid-batch leaves every committed file whole and no half document; a re-run
skips what is already stored (same path, size and mtime; for archive members the same
size and CRC-32, so they are not even read; else the same sha256) and goes on.
A file that cannot be read is recorded as failed with the reason; the batch goes on.

A file's format is decided by its name and content together (detect.py): a text file is read as
text whatever its name, a binary that is no document is skipped with its kind. ZIP and tar
archives (dropped, or found in a dropped folder) are walked member by member: each
member is streamed into a private temporary folder, ingested like a file and linked to its
archive; nested archives likewise, to a bounded depth. An e-mail's attachments are ingested
before the e-mail itself, which is stored with links to them (so a kill never leaves an
e-mail whose attachments were not all tried). A gzip, bzip2 or xz file is the document it holds
('changelog.gz' is stored as 'changelog'). A file that carries no text (an icon, a blank scan)
is skipped, not failed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import sqlite_utils

from rlm_desktop.errors import ExtractionError, NoTextFound
from rlm_desktop.library.archive import ArchiveLimits, ArchiveMember, copy_member, list_members, open_archive, \
    peek_member, safe_file_name
from rlm_desktop.library.archive_tar import copy_tar_member, list_tar_members, open_tar, peek_tar_member
from rlm_desktop.library.compressed import decompress_file, inner_name
from rlm_desktop.library.detect import Detected, detect_format
from rlm_desktop.library.extract import extract_file, file_format
from rlm_desktop.library.sniff import COMPRESSED, OLE_SIGNATURE, sniff_bytes
from rlm_desktop.library.extract_office import ZipLimits
from rlm_desktop.library.ocr import PageOCR, ocr_batch, ocr_engine
from rlm_desktop.library.pages import Extracted
from rlm_desktop.library.records import FileResult, IngestProgress, IngestReport
from rlm_desktop.library.store import DocumentStore, Source

ProgressCallback = Callable[[IngestProgress], None]


@dataclass(frozen=True)
class IngestLimits:
    max_file_bytes: int = 500 * 1024 * 1024
    zip: ZipLimits = field(default_factory=ZipLimits)
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)
    ocr: bool = True


def expand_paths(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Files to ingest (folders walked recursively, hidden entries left out) and skipped entries.

    Inside folders, files whose content is no document are reported as skipped with their kind;
    a file named explicitly is always attempted.
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
                        try:
                            detected = detect_format(child)
                        except OSError as exc:
                            skipped.append(FileResult(child, "failed", reason=f"{name}: cannot be read ({exc.strerror})"))
                            continue
                        if detected.format is None:
                            skipped.append(FileResult(child, "skipped", reason=detected.skip_reason(name)))
                            continue
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


TEMP_PREFIX = "rlm-ingest-"


def remove_stale_temp_folders(root: Path | None = None) -> None:
    """Delete private temporary folders left by ingests that were killed (their process is gone)."""
    import psutil

    base = Path(root or tempfile.gettempdir())
    for folder in base.glob(TEMP_PREFIX + "*"):
        match = re.match(re.escape(TEMP_PREFIX) + r"(\d+)-", folder.name)
        if match and folder.is_dir() and not psutil.pid_exists(int(match.group(1))):
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class _Batch:
    """State of one ingest call shared by the steps below."""

    report: IngestReport
    on_progress: ProgressCallback | None
    collection_id: int | None
    cancelled: Callable[[], bool]
    temp: Path
    total_files: int
    total_bytes: int
    index: int = 0
    bytes_done: int = 0
    budget: list[int] = field(default_factory=lambda: [0])   # uncompressed bytes left for the current archive
    temp_count: int = 0

    def progress(self, stage: str, src: Source, result: FileResult | None = None,
                 member: tuple[int, int] = (0, 0)) -> None:
        if self.on_progress:
            self.on_progress(IngestProgress(stage, src.display, self.index, self.total_files, self.bytes_done,
                                            self.total_bytes, result, name=src.name if src.depth else None,
                                            container=src.container, member_index=member[0],
                                            member_total=member[1]))

    def temp_file(self, name: str) -> Path:
        """A fresh path in the private temporary folder, keeping the member's file name."""
        self.temp_count += 1
        folder = self.temp / str(self.temp_count)
        folder.mkdir()
        return folder / safe_file_name(name)


class Ingestor:
    """Ingests files into one library database; ``lock`` serialises use of its connection."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock, limits: IngestLimits) -> None:
        self.db = db
        self.lock = lock
        self.limits = limits
        self.store = DocumentStore(db, lock)

    # --- the batch ----------------------------------------------------------
    def ingest(self, paths: list[Path], *, collection: str | None = None,
               on_progress: ProgressCallback | None = None, cancel: Any = None) -> IngestReport:
        files, skipped = expand_paths(paths)
        report = IngestReport(files=list(skipped))
        sizes = [_size(p) for p in files]
        cancelled = lambda: bool(getattr(cancel, "cancelled", False))  # noqa: E731
        collection_id = self.store.collection_id(collection) if collection else None
        remove_stale_temp_folders()
        # The batch's scanned pages share one OCR worker process, ended (its memory returned) with the batch.
        with ocr_batch() if self.limits.ocr else nullcontext(), \
                tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as temp:
            batch = _Batch(report, on_progress, collection_id, cancelled, Path(temp), len(files), sum(sizes))
            done = 0
            for index, (path, size) in enumerate(zip(files, sizes)):
                if cancelled():
                    report.cancelled = True
                    break
                batch.index, batch.bytes_done = index, done
                batch.budget = [self.limits.archive.max_total_bytes]
                src = _file_source(path)
                batch.progress("start", src)
                result = self.ingest_file(path, batch)
                if result.status == "failed" and cancelled():
                    report.cancelled = True
                    break
                report.files.append(result)
                done += size
                batch.bytes_done = done
                batch.progress("done", src, result)
        return report

    # --- one file -------------------------------------------------------------
    def ingest_file(self, path: Path, batch: _Batch) -> FileResult:
        try:
            stat = path.stat()
        except OSError as exc:
            return FileResult(path, "failed", reason=f"{path.name}: cannot be read ({exc.strerror})")
        src = replace(_file_source(path), size=stat.st_size, mtime=stat.st_mtime)
        if src.size == 0:  # nothing went wrong: there is no text to read
            return src.result("skipped", reason=f"{path.name}: empty file")
        return self._route(src, batch)

    def _route(self, src: Source, batch: _Batch, sha: str | None = None, layers: int = 0) -> FileResult:
        """Send a file (or a copied member) to what reads it, by its name and content together."""
        try:
            detected = detect_format(src.file, src.name.rsplit("/", 1)[-1])
        except OSError as exc:
            return src.result("failed", reason=f"{src.name}: cannot be read ({exc.strerror})")
        src = replace(src, format=detected.format)
        if detected.format in ("zip", "tar"):
            return self._archive(src, batch)
        if detected.format in COMPRESSED:
            return self._decompressed(src, batch, layers)
        if detected.format in (None, "7z"):
            return src.result("skipped", reason=detected.skip_reason(src.name))
        if src.size > self.limits.max_file_bytes:
            return self._fail(src, None, f"{src.name}: {src.size / 2**20:.0f} MB is over the "
                                         f"{self.limits.max_file_bytes / 2**20:.0f} MB limit for one file", batch)
        result = self._ingest_source(src, batch, sha)
        if detected.note and result.ok:
            result = replace(result, reason="; ".join(filter(None, [result.reason, f"{src.name}: {detected.note}"])))
        return result

    def _decompressed(self, src: Source, batch: _Batch, layers: int) -> FileResult:
        """A gzip, bzip2 or xz file: its content streamed to a temporary file and read as the document."""
        if layers >= self.limits.archive.max_depth:
            return self._fail(src, None, f"{src.name}: refused, compressed more than "
                                         f"{self.limits.archive.max_depth} times over", batch)
        unchanged = self.store.unchanged(src)
        if unchanged is not None:
            return self.store.keep_unchanged(src, unchanged, batch.collection_id)
        name = inner_name(src.name)
        target = batch.temp_file(name.rsplit("/", 1)[-1])
        try:
            try:
                sha, written = decompress_file(src.file, src.format or "", target, limits=self.limits.archive,
                                               max_bytes=min(self.limits.max_file_bytes, batch.budget[0]),
                                               cancelled=batch.cancelled)
            except ExtractionError as exc:
                return self._fail(src, None, f"{src.name}: {exc}", batch)
            if written == 0:
                return src.result("skipped", reason=f"{src.name}: empty file")
            batch.budget[0] -= written
            return self._route(replace(src, file=target, name=name), batch, sha, layers + 1)
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)

    def _ingest_source(self, src: Source, batch: _Batch, sha: str | None = None) -> FileResult:
        """Unchanged? duplicate? else extract (attachments first) and store."""
        unchanged = self.store.unchanged(src)
        if unchanged is not None:
            return self.store.keep_unchanged(src, unchanged, batch.collection_id)
        if sha is None:
            try:
                sha = sha256_file(src.file, batch.cancelled)
            except OSError as exc:
                return src.result("failed", reason=f"{src.name}: cannot be read ({exc.strerror})")
            except ExtractionError as exc:
                return src.result("failed", reason=str(exc))
        duplicate = self.store.stored_with_hash(sha)
        if duplicate is not None:
            return self.store.duplicate(src, duplicate, batch.collection_id)
        try:
            extracted = extract_file(src.file, ocr=self._ocr, zip_limits=self.limits.zip, cancelled=batch.cancelled,
                                     fmt=src.format)
        except NoTextFound as exc:
            return src.result("skipped", reason=self._named(src, str(exc)))
        except ExtractionError as exc:
            return self._fail(src, sha, str(exc), batch)
        except MemoryError:
            return self._fail(src, sha, f"{src.name}: too large to extract in memory", batch)
        except Exception as exc:  # a damaged file can make any parser raise anything
            return self._fail(src, sha, f"{src.name}: could not be read ({type(exc).__name__}: {exc})", batch)
        members = self._attachments(src, extracted, batch) if extracted.attachments else []
        if batch.cancelled():
            return src.result("failed", reason=f"{src.name}: cancelled")
        return self.store.store(src, sha, extracted, batch.collection_id, members)

    def _ocr(self) -> PageOCR | None:
        return ocr_engine() if self.limits.ocr else None

    def _fail(self, src: Source, sha: str | None, reason: str, batch: _Batch) -> FileResult:
        """Record the failure, its reason naming the document (a member by its path in the container)."""
        reason = self._named(src, reason)
        if batch.cancelled():
            return src.result("failed", reason=reason)  # cancelled: nothing is recorded
        return self.store.fail(src, sha, reason, batch.collection_id)

    @staticmethod
    def _named(src: Source, reason: str) -> str:
        """``reason`` starting with the document's name (a member by its path in the container)."""
        if src.file.name != src.name and reason.startswith(src.file.name + ":"):
            return src.name + reason[len(src.file.name):]
        return reason if reason.startswith(src.name) else f"{src.name}: {reason}"

    # --- containers ----------------------------------------------------------------
    def _archive(self, src: Source, batch: _Batch) -> FileResult:
        """Every member of a ZIP or tar archive as its own document, linked to the archive's row."""
        limits = self.limits.archive
        if src.depth >= limits.max_depth:
            return self._fail(src, None, f"{src.name}: refused, archives nested more than "
                                         f"{limits.max_depth} deep", batch)
        unchanged = self.store.unchanged(src, status="archive")
        if unchanged is not None:  # completely ingested before: its members are not read again
            return self.store.keep_unchanged(src, unchanged, batch.collection_id)
        tar = src.format == "tar"
        try:
            archive: Any = open_tar(src.file, src.name) if tar else open_archive(src.file, src.name)
        except ExtractionError as exc:
            return self._fail(src, None, str(exc), batch)
        with archive:
            try:
                members = list_tar_members(archive, limits, batch.budget, src.file.stat().st_size) if tar \
                    else list_members(archive, limits, batch.budget)
            except ExtractionError as exc:
                return self._fail(src, None, f"{src.name}: {exc}", batch)
            container_id = self.store.container(src, len(members), batch.collection_id)
            counts: dict[str, int] = {}
            for index, member in enumerate(members):
                if batch.cancelled():
                    break
                child = _member_source(src, member.name, member.size, container_id, member=member)
                batch.progress("start", child, member=(index, len(members)))
                result = self._archive_member(archive, member, child, batch)
                counts[result.status] = counts.get(result.status, 0) + 1
                batch.report.files.append(result)
                if src.depth == 0:
                    batch.bytes_done += member.packed
                batch.progress("done", child, result, member=(index, len(members)))
            if not batch.cancelled():
                self.store.finish_container(container_id)
        ok = sum(n for status, n in counts.items() if status not in ("failed", "skipped"))
        note = f"archive of {len(members)} file{'s' if len(members) != 1 else ''}: {ok} in the library"
        for status in ("failed", "skipped"):
            if counts.get(status):
                note += f", {counts[status]} {status}"
        return src.result("archive", container_id, reason=note)

    def _archive_member(self, archive: Any, member: ArchiveMember, child: Source, batch: _Batch) -> FileResult:
        if member.problem and member.not_a_file:
            return child.result("skipped", reason=f"{child.name}: {member.problem}")
        if member.problem:
            return self._fail(child, None, f"{child.name}: {member.problem}", batch)
        refused = self._refusal(child)
        if refused:
            return refused if refused.status == "skipped" else self._fail(child, None, refused.reason or "", batch)
        unchanged = self.store.unchanged(child, status="archive" if child.format in ("zip", "tar") else "stored")
        if unchanged is not None:  # same path, size and CRC-32: not even read
            return self.store.keep_unchanged(child, unchanged, batch.collection_id)
        zipped = isinstance(archive, zipfile.ZipFile)
        if child.format is None:  # a binary that is no document is skipped without being copied
            head = (peek_member if zipped else peek_tar_member)(archive, member)
            sniffed = sniff_bytes(head)
            if head and sniffed.format is None and not head.startswith(OLE_SIGNATURE):
                return child.result("skipped", reason=Detected(None, sniffed.kind).skip_reason(child.name))
        target = batch.temp_file(member.name)
        try:
            try:
                copy = copy_member if zipped else copy_tar_member
                sha = copy(archive, member, target, batch.cancelled)
            except ExtractionError as exc:
                return self._fail(child, None, f"{child.name}: {exc}", batch)
            return self._route(replace(child, file=target), batch, sha)
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)

    def _attachments(self, src: Source, extracted: Extracted, batch: _Batch) -> list[tuple[str, int]]:
        """Each attachment ingested as its own document; returns (name, doc id) links for the e-mail."""
        links: list[tuple[str, int]] = []
        total = len(extracted.attachments)
        for index, attachment in enumerate(extracted.attachments):
            if batch.cancelled():
                break
            child = _member_source(src, attachment.name, len(attachment.data), None)
            batch.progress("start", child, member=(index, total))
            result = self._refusal(child)
            if result is not None and result.status == "failed":
                result = self._fail(child, None, result.reason or "", batch)
            elif src.depth + 1 > self.limits.archive.max_depth:
                result = self._fail(child, None, f"{child.name}: refused, attachments nested more than "
                                                 f"{self.limits.archive.max_depth} deep", batch)
            elif result is None:
                target = batch.temp_file(attachment.name)
                try:
                    target.write_bytes(attachment.data)
                    result = self._route(replace(child, file=target), batch,
                                         hashlib.sha256(attachment.data).hexdigest())
                finally:
                    shutil.rmtree(target.parent, ignore_errors=True)
            batch.report.files.append(result)
            if result.doc_id is not None:
                links.append((attachment.name, result.doc_id))
            batch.progress("done", child, result, member=(index, total))
        return links

    def _refusal(self, child: Source) -> FileResult | None:
        """A member that is not read: empty (skipped) or too large (failed); its content decides the rest."""
        if child.size == 0:
            return child.result("skipped", reason=f"{child.name}: empty file")
        if child.format not in ("zip", "tar") and child.size > self.limits.max_file_bytes:
            return child.result("failed", reason=f"{child.name}: {child.size / 2**20:.0f} MB is over the "
                                                 f"{self.limits.max_file_bytes / 2**20:.0f} MB limit for one file")
        return None


def _file_source(path: Path) -> Source:
    return Source(file=path, name=path.name, key=str(path.resolve()), display=path, size=0,
                  format=file_format(path))


def _member_source(container: Source, name: str, size: int, parent_id: int | None,
                   member: ArchiveMember | None = None) -> Source:
    """A member of an archive (``member`` given) or an attachment of an e-mail."""
    return Source(file=container.file, name=f"{container.name}/{name}", key=f"{container.key}/{name}",
                  display=container.display / name.lstrip("/\\"), size=size, mtime=member.mtime if member else None,
                  crc=member.crc if member else None, depth=container.depth + 1, parent_id=parent_id,
                  member=name, format=file_format(Path(name)), container=container.name)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0

"""Values the library hands to its faces: documents, collections, ingest results, runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DocumentFlag:
    """A passage of a document written to steer an AI, or text a reader cannot see (rlm_desktop/instructions.py).

    ``start``/``end`` are offsets in the document's text (None when the text is not in it: an HTML comment,
    the file name); ``page`` is 1-based (None for the file name).
    """

    page: int | None
    start: int | None
    end: int | None
    kind: str
    reason: str
    excerpt: str

    @property
    def is_instruction(self) -> bool:
        return self.kind != "hidden_text"

    def line(self) -> str:
        """One line for the user: where, what, and the passage."""
        where = f"page {self.page}" if self.page else "file name"
        return f"{where}: {self.reason}: “{self.excerpt}”"


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    name: str
    path: str
    sha256: str | None
    size: int
    format: str | None
    unit: str                   # "page" or "section"
    pages: int
    chars: int
    ocr_pages: int
    empty_pages: int            # pages flagged "no text (scanned?)"
    status: str                 # "stored" | "failed" | "archive" (a ZIP archive: its members are documents)
    error: str | None
    version: int
    previous_id: int | None
    current: bool
    ingested: float
    collections: tuple[str, ...] = ()
    parent_id: int | None = None    # the archive or e-mail it came from
    flags: int = 0                  # instruction-like passages and hidden text found in it (document_flags)

    @classmethod
    def from_row(cls, row: dict[str, Any], collections: tuple[str, ...] = ()) -> "DocumentInfo":
        return cls(
            id=row["id"], name=row["name"], path=row["path"], sha256=row["sha256"], size=row["size"],
            format=row["format"], unit=row["unit"], pages=row["pages"], chars=row["chars"],
            ocr_pages=row["ocr_pages"], empty_pages=row["empty_pages"], status=row["status"],
            error=row["error"], version=row["version"], previous_id=row["previous_id"],
            current=bool(row["current"]), ingested=row["ingested"], collections=collections,
            parent_id=row.get("parent_id"), flags=row.get("flags") or 0,
        )


@dataclass(frozen=True)
class CollectionInfo:
    id: int
    name: str
    documents: int
    chars: int
    created: float


@dataclass(frozen=True)
class FileResult:
    """What happened to one file of a batch."""

    path: Path
    status: str                 # "stored" | "new_version" | "duplicate" | "unchanged" | "archive" | "failed" | "skipped"
    doc_id: int | None = None
    reason: str | None = None   # why it failed or was skipped; a note for duplicates
    pages: int = 0
    ocr_pages: int = 0
    empty_pages: int = 0
    size: int = 0
    name: str | None = None     # for a member of an archive or e-mail: 'room.zip/02 Contracts/msa.pdf'

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "skipped")

    @property
    def label(self) -> str:
        """What to call it in a list: the member path, or the file name."""
        return self.name or self.path.name


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    cancelled: bool = False

    def count(self, *statuses: str) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def all_failed(self) -> bool:
        """True when there were files and none of them ended in the library."""
        return bool(self.files) and not any(f.ok for f in self.files)


@dataclass(frozen=True)
class IngestProgress:
    """One progress report: a file (or a member of an archive or e-mail) started or finished.

    For a member, ``path`` is its container's path joined with the member's path, ``name`` its
    document name, and ``member_index`` / ``member_total`` its place in the container;
    ``index`` and ``total_files`` still count the files of the batch.
    """

    stage: str                  # "start" | "done"
    path: Path
    index: int                  # 0-based position of the file in the batch
    total_files: int
    bytes_done: int             # bytes of files finished so far (this one included when "done")
    total_bytes: int
    result: FileResult | None = None
    name: str | None = None     # a member's document name ('room.zip/02 Contracts/msa.pdf')
    container: str | None = None  # the name of its archive or e-mail ('room.zip')
    member_index: int = 0       # 0-based position of the member in its container
    member_total: int = 0       # members of its container (0 for a file of the batch)

    @property
    def label(self) -> str:
        return self.name or self.path.name


@dataclass(frozen=True)
class RunRecord:
    id: int
    question: str
    collection: str | None
    settings: dict[str, Any]
    models: dict[str, Any]
    answer: str | None
    stopped_by: str | None
    usage: dict[str, Any] | None
    summary: dict[str, Any] | None
    status: str                 # "running" | "finished" | "interrupted" (its process died before it ended)
    started: float
    finished: float | None
    documents: list[dict[str, Any]] = field(default_factory=list)   # {"doc_id","name","sha256"}, context order
    events: list[dict[str, Any]] = field(default_factory=list)
    record_version: int = 1     # format of the stored record; 2 and later can be resumed

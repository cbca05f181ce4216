"""Flags on stored documents: instruction-like passages and text a reader cannot see.

Computed at ingest from the extracted pages (the passage may run over a page break: the detector reads
the whole text), the hidden text the extractor reported, and the file name; stored in
``document_flags`` with document-wide offsets (None when the text is not in the extracted text, as an
HTML comment is not). Documents stored before flags existed are checked by :func:`check_unflagged`.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import sqlite_utils

from rlm_desktop.instructions import excerpt, find_instructions
from rlm_desktop.library.pages import HiddenText
from rlm_desktop.library.records import DocumentFlag

MAX_FLAGS = 200  # per document: a page of generated orders should not fill the database


def compute_flags(name: str, pages: Sequence[str], hidden: Sequence[HiddenText] = ()) -> list[DocumentFlag]:
    """The flags of one document from its name, its pages' texts and its hidden text."""
    text = "".join(pages)
    starts = _starts(pages)
    flags = [DocumentFlag(page=_page(starts, s.start), start=s.start, end=s.end, kind=s.kind, reason=s.reason,
                          excerpt=excerpt(text, s)) for s in find_instructions(text)]
    flags += [DocumentFlag(page=None, start=None, end=None, kind=s.kind, reason=f"the file name {s.reason[:1].lower()}"
                           f"{s.reason[1:]}", excerpt=excerpt(name, s)) for s in find_instructions(name, names=True)
              if s.is_instruction]
    for item in hidden:
        at = text.find(item.text) if item.text else -1
        start, end = (at, at + len(item.text)) if at >= 0 else (None, None)
        page = _page(starts, at) if at >= 0 else item.page
        orders = [s for s in find_instructions(item.text) if s.is_instruction]
        kind = orders[0].kind if orders else "hidden_text"
        reason = f"hidden text: {item.why}" + (f" that {orders[0].reason}" if orders else "")
        flag = DocumentFlag(page=page, start=start, end=end, kind=kind, reason=reason,
                            excerpt=" ".join(item.text.split())[:160])
        same = [i for i, f in enumerate(flags) if start is not None and f.start is not None and f.end is not None
                and f.start < end and start < f.end]  # type: ignore[operator]
        if same:  # the detector found the passage in the text: one flag, saying it is hidden too
            old = flags[same[0]]
            flags[same[0]] = DocumentFlag(old.page, min(old.start, start), max(old.end, end),  # type: ignore[type-var]
                                          old.kind if old.is_instruction else kind, reason, old.excerpt)
        else:
            flags.append(flag)
    return flags[:MAX_FLAGS]


def store_flags(db: sqlite_utils.Database, doc_id: int, flags: Sequence[DocumentFlag]) -> None:
    """Replace a document's flags (inside the caller's transaction) and mark it checked."""
    db.execute("DELETE FROM document_flags WHERE doc_id = ?", [doc_id])
    db.conn.executemany(
        "INSERT INTO document_flags (doc_id, page, start, \"end\", kind, reason, excerpt) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(doc_id, f.page, f.start, f.end, f.kind, f.reason, f.excerpt) for f in flags])
    db.execute("UPDATE documents SET flags_checked = 1 WHERE id = ?", [doc_id])


def load_flags(db: sqlite_utils.Database, doc_ids: Sequence[int]) -> dict[int, list[DocumentFlag]]:
    """The flags of the given documents, by document id, in order of position."""
    if not doc_ids:
        return {}
    marks = ", ".join("?" for _ in doc_ids)
    rows = db.execute(f"SELECT doc_id, page, start, \"end\", kind, reason, excerpt FROM document_flags "
                      f"WHERE doc_id IN ({marks}) ORDER BY doc_id, coalesce(start, -1), id", list(doc_ids)).fetchall()
    found: dict[int, list[DocumentFlag]] = {}
    for doc_id, page, start, end, kind, reason, text in rows:
        found.setdefault(doc_id, []).append(DocumentFlag(page, start, end, kind, reason, text))
    return found


def check_unflagged(db: sqlite_utils.Database, limit: int | None = None) -> int:
    """Flag stored documents never checked (stored before flags existed) from their stored text; how many."""
    query = "SELECT id, name FROM documents WHERE status = 'stored' AND flags_checked = 0 ORDER BY id"
    rows = db.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
    for doc_id, name in rows:
        pages = [r[0] for r in db.execute("SELECT text FROM pages WHERE doc_id = ? ORDER BY page", [doc_id])]
        with db.atomic():
            store_flags(db, doc_id, compute_flags(name, pages))
    return len(rows)


def _starts(pages: Sequence[str]) -> list[int]:
    starts, pos = [], 0
    for page in pages:
        starts.append(pos)
        pos += len(page)
    return starts or [0]


def _page(starts: list[int], offset: int) -> int:
    return max(1, bisect.bisect_right(starts, offset))

"""Read-only views of the library for the servers' tools: collections, documents, search, pages.

The text handed to a client is read by its model: a passage written to steer that model is shown as quoted
data (rlm_desktop/instructions.py), and the documents that hold one say so (``warnings``).
"""

from __future__ import annotations

from typing import Any

from rlm_desktop.errors import DocumentNotFound, RequestRejected
from rlm_desktop.instructions import find_instructions, quote_instructions

MAX_SEARCH_HITS = 100


class LibraryReader:
    """What a client may read; nothing here writes documents."""

    def __init__(self, library: Any) -> None:
        self.library = library

    def collections(self) -> list[dict[str, Any]]:
        return [{"name": c.name, "documents": c.documents, "chars": c.chars} for c in self.library.collections()]

    def collection_names(self) -> list[str]:
        return [c.name for c in self.library.collections()]

    def require_collection(self, name: str) -> None:
        """Raise DocumentNotFound (naming the known ones) unless collection ``name`` exists."""
        names = self.collection_names()
        if name not in names:
            known = ", ".join(names) or "none yet"
            raise DocumentNotFound(f"No collection named {name!r} (collections: {known}).")

    def documents(self, collection: str) -> list[dict[str, Any]]:
        self.require_collection(collection)
        documents = self.library.documents(collection, include_failed=False)
        flags = self.library.flags_of([d.id for d in documents if d.flags])
        return [{"id": d.id, "name": quote_instructions(d.name, names=True), "pages": d.pages, "chars": d.chars,
                 "format": d.format, "warnings": [f.line() for f in flags.get(d.id, [])]} for d in documents]

    def search(self, collection: str, query: str, k: int = 10) -> list[dict[str, Any]]:
        if not query.strip():
            raise RequestRejected("The search query is empty.")
        if not 1 <= k <= MAX_SEARCH_HITS:
            raise RequestRejected(f"k must be between 1 and {MAX_SEARCH_HITS}, not {k}.")
        self.require_collection(collection)
        hits = self.library.search(query, k, collection=collection)
        return [{"document": h["document"], "doc_id": h["doc_id"], "page": h["page"],
                 "snippet": quote_instructions(h["snippet"]), "score": h["score"]} for h in hits]

    def read_page(self, document: str, page: int) -> dict[str, Any]:
        """Page ``page`` (1-based) of a document given by id or file name."""
        matches = [d for d in self.library.find_documents(str(document)) if d.status == "stored"]
        if not matches:
            raise DocumentNotFound(f"No document named {document!r}.")
        if len(matches) > 1:
            ids = ", ".join(str(d.id) for d in matches)
            raise RequestRejected(f"Several documents are named {document!r} (ids {ids}): give the id.")
        info = matches[0]
        pages = self.library.pages(info.id)
        if not 1 <= page <= len(pages):
            raise RequestRejected(f"{info.name} has {len(pages)} pages, not page {page}.")
        row = pages[page - 1]
        spans = [s for s in find_instructions(row["text"]) if s.is_instruction]
        warnings = [f.line() for f in self.library.document_flags(info.id) if f.page in (page, None)]
        return {"document": info.name, "doc_id": info.id, "page": page, "pages": len(pages),
                "text": quote_instructions(row["text"], spans), "warnings": warnings}

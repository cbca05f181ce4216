"""Read-only views of the library for the servers' tools: collections, documents, search, pages."""

from __future__ import annotations

from typing import Any

from rlm_desktop.errors import DocumentNotFound, RequestRejected

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
        return [{"id": d.id, "name": d.name, "pages": d.pages, "chars": d.chars, "format": d.format}
                for d in self.library.documents(collection, include_failed=False)]

    def search(self, collection: str, query: str, k: int = 10) -> list[dict[str, Any]]:
        if not query.strip():
            raise RequestRejected("The search query is empty.")
        if not 1 <= k <= MAX_SEARCH_HITS:
            raise RequestRejected(f"k must be between 1 and {MAX_SEARCH_HITS}, not {k}.")
        self.require_collection(collection)
        hits = self.library.search(query, k, collection=collection)
        return [{"document": h["document"], "doc_id": h["doc_id"], "page": h["page"], "snippet": h["snippet"],
                 "score": h["score"]} for h in hits]

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
        return {"document": info.name, "doc_id": info.id, "page": page, "pages": len(pages), "text": row["text"]}

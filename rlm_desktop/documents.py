"""The value type that crosses layers: one document of a run's context.

A leaf module (no imports from the package) so that library, engine, sandbox
and faces can all share it without breaking the dependency rules.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A named text with optional page boundaries.

    ``page_starts`` holds the character offset where each page begins (first is 0);
    page numbers are 1-based. ``doc_id`` is the library's id (``None`` outside it).
    """

    name: str
    text: str
    page_starts: tuple[int, ...] = field(default=(0,))
    doc_id: int | None = None

    def page_at(self, offset: int) -> int:
        """1-based page number containing character ``offset``."""
        if not self.page_starts:
            return 1
        return max(1, bisect.bisect_right(self.page_starts, offset))

    def page_text(self, page: int) -> str:
        """Text of 1-based ``page``."""
        starts = self.page_starts or (0,)
        if page < 1 or page > len(starts):
            raise IndexError(f"{self.name} has {len(starts)} pages, not {page}")
        end = starts[page] if page < len(starts) else len(self.text)
        return self.text[starts[page - 1]:end]

    @property
    def page_count(self) -> int:
        return max(1, len(self.page_starts))

    @classmethod
    def from_pages(cls, name: str, pages: list[str], doc_id: int | None = None,
                   separator: str = "\n\n") -> "Document":
        """Join pages with ``separator`` and record where each starts."""
        starts: list[int] = []
        parts: list[str] = []
        pos = 0
        for i, page in enumerate(pages):
            if i:
                parts.append(separator)
                pos += len(separator)
            starts.append(pos)
            parts.append(page)
            pos += len(page)
        return cls(name=name, text="".join(parts), page_starts=tuple(starts) or (0,), doc_id=doc_id)


Context = str | list[str] | list[Document]
"""What a run reads: one string, a list of strings, or a list of documents."""


def context_texts(context: Context) -> list[str]:
    """The texts of a context, one per document (a single string is one text)."""
    if isinstance(context, str):
        return [context]
    return [item.text if isinstance(item, Document) else item for item in context]


@dataclass(frozen=True)
class Citation:
    """A span of a document that an answer was built from."""

    document: str
    page: int
    start: int
    end: int
    snippet: str = ""
    doc_id: int | None = None

    def label(self) -> str:
        """'room.zip/02 Contracts/msa.pdf, page 3'; slides of a presentation are called slides."""
        unit = "slide" if self.document.lower().endswith((".pptx", ".odp")) else "page"
        return f"{self.document}, {unit} {self.page}"

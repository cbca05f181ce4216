"""What extraction produces: a document's text cut into pages (or sections).

Page texts are exact slices of the document text: joined with no separator they
give the document back, so a page's start offset is the sum of the lengths before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SECTION_CHARS = 4000
"""Target size of a section when a format has no pages of its own (about one printed page)."""

NO_TEXT_FLAG = "no text (scanned?)"


@dataclass(frozen=True)
class ExtractedPage:
    text: str
    source: str = "text"        # "text" (text layer / file text), "ocr", or "none"
    flag: str | None = None     # e.g. NO_TEXT_FLAG; shown to the user, never silent
    image: bytes | None = None  # a picture of the page for the viewer (images), PNG or JPEG bytes


@dataclass(frozen=True)
class Attachment:
    """A file carried inside a document (an e-mail's attachment), ingested as its own document."""

    name: str                   # file name, no folders
    data: bytes


@dataclass(frozen=True)
class HiddenText:
    """Text in a file that a reader does not see (white or tiny PDF text, a hidden DOCX run, an HTML comment
    or hidden element): flagged to the user, whether or not it is in the extracted text."""

    text: str
    why: str                    # "white text", "hidden run", "HTML comment", ...
    page: int | None = None     # 1-based, where the format knows it


@dataclass
class Extracted:
    """One file's text: its format, what a page means for it, the pages, and files it carries."""

    format: str
    unit: str                    # "page" (PDF, images), "slide", "section" (everything else)
    pages: list[ExtractedPage] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    hidden: list[HiddenText] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pages)


def split_sections(text: str, size: int = SECTION_CHARS) -> list[str]:
    """Cut ``text`` into pieces of about ``size`` chars at line (else word) breaks.

    The pieces concatenate back to ``text`` exactly; an empty text gives ``[]``.
    """
    pieces: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        if n - pos <= size:
            pieces.append(text[pos:])
            break
        window_end = pos + size
        cut = text.rfind("\n", pos + size // 2, window_end)
        if cut < 0:
            cut = text.rfind(" ", pos + size // 2, window_end)
        cut = window_end if cut < 0 else cut + 1
        pieces.append(text[pos:cut])
        pos = cut
    return pieces


def sections(text: str, size: int = SECTION_CHARS) -> list[ExtractedPage]:
    return [ExtractedPage(piece) for piece in split_sections(text, size)]


def with_page_breaks(pages: list[ExtractedPage], separator: str = "\n\n") -> list[ExtractedPage]:
    """End every page but the last with ``separator`` so joined pages read as a document."""
    out: list[ExtractedPage] = []
    for i, page in enumerate(pages):
        text = page.text.rstrip()
        if i < len(pages) - 1:
            text += separator
        out.append(ExtractedPage(text, page.source, page.flag, page.image))
    return out

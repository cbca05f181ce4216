"""Page numbers in a written answer's source notes, checked against the documents.

A small root copies the form "(lease.md, page 3)" from its worked examples and often
invents the number: "page 3" of a one-page document, or a page its searches never
showed. The run knows better: every document's page count, the pages its hits came
from, and which page holds a figure the answer quotes. A note's page is corrected
only when that evidence names exactly one page, and its document only when the quoted
figure is in exactly one other document; otherwise the note is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rlm_desktop.documents import Context, Document

_NOTE = re.compile(r"\(([^()]*\b(?:page|p\.)\s*\d+[^()]*)\)", re.IGNORECASE)
_REFERENCE = re.compile(r"(?P<doc>[^\s,;()]+\.[A-Za-z]\w{0,4})\s*,?\s*(?:page|p\.)\s*(?P<page>\d+)", re.IGNORECASE)
_FIGURE = re.compile(r"\d[\d,.' ]*\d")


def correct_page_citations(answer: str, context: Context, hits: Iterable[dict]) -> str:
    """``answer`` with each "(document, page N)" note pointing at a page that exists and holds its evidence."""
    documents = _documents(context)
    if not documents or not isinstance(answer, str) or "page" not in answer.lower() and "p." not in answer:
        return answer
    shown: dict[str, set[int]] = {}
    for hit in hits:
        if hit.get("document"):
            shown.setdefault(str(hit["document"]), set()).add(int(hit.get("page") or 1))
    pieces: list[str] = []
    last = 0
    for note in _NOTE.finditer(answer):
        claim = answer[last:note.start()]  # the words the note is attached to
        pieces.append(claim)
        pieces.append("(" + _REFERENCE.sub(lambda ref: _fixed(ref, claim, documents, shown), note.group(1)) + ")")
        last = note.end()
    pieces.append(answer[last:])
    return "".join(pieces)


def _fixed(reference: re.Match[str], claim: str, documents: dict[str, Document], shown: dict[str, set[int]]) -> str:
    document = _find(reference.group("doc"), documents)
    cited = int(reference.group("page"))
    if document is None:
        return reference.group(0)
    holder = _only_holder(claim, documents)
    if holder is not None and holder is not document and not _pages_holding_figures(document, claim):
        document = holder  # the quoted figure is not in the cited document, and in exactly one other
    page = _right_page(document, cited, claim, shown.get(document.name, set()))
    if page == cited and document.name == reference.group("doc"):
        return reference.group(0)
    separator = reference.group(0)[len(reference.group("doc")):reference.start("page") - reference.start()]
    return f"{document.name}{separator}{page}"


def _right_page(document: Document, cited: int, claim: str, shown: set[int]) -> int:
    """The page the evidence names, or ``cited`` when it names none (or several)."""
    if document.page_count == 1:
        return 1
    holding = _pages_holding_figures(document, claim)
    if len(holding) == 1:
        return holding.pop()
    if holding and cited in holding:
        return cited
    if 1 <= cited <= document.page_count and (cited in shown or not shown):
        return cited
    candidates = {page for page in holding or shown if 1 <= page <= document.page_count}
    return candidates.pop() if len(candidates) == 1 else cited


def _pages_holding_figures(document: Document, claim: str) -> set[int]:
    """The pages of ``document`` that hold the last figure of ``claim`` (an amount or a date's year)."""
    figures = [_digits(match.group(0)) for match in _FIGURE.finditer(claim)]
    figures = [figure for figure in figures if len(figure) >= 3]
    if not figures:
        return set()
    figure = figures[-1]
    return {page for page in range(1, document.page_count + 1) if figure in _digits(document.page_text(page))}


def _only_holder(claim: str, documents: dict[str, Document]) -> Document | None:
    """The one document that holds the last figure of ``claim``, if exactly one does."""
    holders = [doc for doc in documents.values() if _pages_holding_figures(doc, claim)]
    return holders[0] if len(holders) == 1 else None


def _digits(text: str) -> str:
    return re.sub(r"[,.' ]", "", text)


def _find(name: str, documents: dict[str, Document]) -> Document | None:
    """The document a note names: its full name, or the last part of a path."""
    if name in documents:
        return documents[name]
    lowered = name.lower()
    matches = [doc for key, doc in documents.items()
               if key.lower() == lowered or key.lower().endswith("/" + lowered)]
    return matches[0] if len(matches) == 1 else None


def _documents(context: Context) -> dict[str, Document]:
    if isinstance(context, str) or not isinstance(context, Sequence):
        return {}
    return {item.name: item for item in context if isinstance(item, Document)}

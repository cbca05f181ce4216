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
from rlm_desktop.engine.grounding import SOURCE_NOTE, figure_digits

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
    for note in SOURCE_NOTE.finditer(answer):
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
    holding = _pages_holding_figure(claim, documents)
    if len(holding) == 1 and document.name not in holding:
        document = documents[next(iter(holding))]  # the quoted figure is not in the cited document, only in this one
    page = _right_page(document, cited, holding.get(document.name, set()), shown.get(document.name, set()))
    if page == cited and document.name == reference.group("doc"):
        return reference.group(0)
    separator = reference.group(0)[len(reference.group("doc")):reference.start("page") - reference.start()]
    return f"{document.name}{separator}{page}"


def _right_page(document: Document, cited: int, holding: set[int], shown: set[int]) -> int:
    """The page the evidence names (``holding``: the pages with the quoted figure), or ``cited`` when it
    names none (or several)."""
    if document.page_count == 1:
        return 1
    if len(holding) == 1:
        return next(iter(holding))
    if holding and cited in holding:
        return cited
    if 1 <= cited <= document.page_count and (cited in shown or not shown):
        return cited
    candidates = {page for page in holding or shown if 1 <= page <= document.page_count}
    return candidates.pop() if len(candidates) == 1 else cited


def _pages_holding_figure(claim: str, documents: dict[str, Document]) -> dict[str, set[int]]:
    """For each document that holds the last figure of ``claim`` (an amount or a date's year), its pages."""
    figures = [figure_digits(match.group(0)) for match in _FIGURE.finditer(claim)]
    figures = [figure for figure in figures if len(figure) >= 3]
    if not figures:
        return {}
    figure = figures[-1]
    holding = {}
    for name, document in documents.items():
        pages = {page for page in range(1, document.page_count + 1)
                 if figure in figure_digits(document.page_text(page))}
        if pages:
            holding[name] = pages
    return holding


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

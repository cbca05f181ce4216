"""Choose the citations of an answer from the spans the sandbox handed out.

Explicit ``cite()`` calls come first: the model said what its answer rests on.
Without them, the grep/search hits whose snippets share the answer's salient
terms (numbers, names, rare words) are cited, best supported first; when some hits
hold a figure of the answer (an amount, a date), only those are cited. A total that
``total_of()`` printed cites every amount it added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rlm_desktop.documents import Citation

_MAX_CITATIONS = 5
_TERM = re.compile(r"[A-Za-z][A-Za-z'-]{3,}|\d[\d,.]*\d|\d")
_STOPWORDS = frozenset(
    "this that with from have were which their there about would could should these those "
    "into than then them they what when where will also been being page document answer "
    "found text says said shall under does each".split()
)


def choose_citations(hits: Iterable[dict], answer: str, limit: int = _MAX_CITATIONS) -> list[Citation]:
    """Citations for ``answer``: cite() hits, else the hits that best support it."""
    hits = [h for h in hits if h.get("document")]
    explicit = [h for h in hits if _is_explicit(h)]
    if explicit:
        return _dedupe((_citation(h) for h in explicit), limit)
    added = _added_up(hits, answer)
    if added:  # a total the answer gives rests on every amount that was added to make it
        return _dedupe((_citation(h) for h in added), max(limit, len(added)))
    terms = _terms(answer)
    if not terms:
        return []
    figures = {t for t in terms if t[0].isdigit() and len(t) >= 3}
    scored = []
    for order, hit in enumerate(hits):
        snippet_terms = _terms(str(hit.get("snippet", "")))
        score = sum(_weight(t) for t in terms & snippet_terms)
        if score > 0:
            scored.append((-score, order, hit, bool(figures & snippet_terms)))
    if any(has_figure for *_, has_figure in scored):  # an answer's figures identify its passage: cite those
        scored = [item for item in scored if item[3]]
    scored.sort(key=lambda item: (item[0], item[1]))
    return _dedupe((_citation(h) for _, _, h, _ in scored), limit)


def _added_up(hits: list[dict], answer: str) -> list[dict]:
    """The hits of the amounts whose total (a ``total_of()`` call's, on each of its hits) the answer gives."""
    figures = {re.sub(r"[,.]", "", t) for t in _TERM.findall(answer) if t[0].isdigit()}
    return [h for h in hits if h.get("total") and re.sub(r"[,.]", "", str(h["total"])) in figures]


def _is_explicit(hit: dict) -> bool:
    return hit.get("kind") == "cite" or hit.get("source") == "cite" or bool(hit.get("cited"))


def _terms(text: str) -> set[str]:
    return {t.lower().rstrip(".,") for t in _TERM.findall(text) if t.lower() not in _STOPWORDS}


def _weight(term: str) -> float:
    """Numbers and long words identify a passage better than short words."""
    if term[0].isdigit():
        return 3.0 if len(term) >= 3 else 1.0
    return 1.0 + min(len(term), 12) / 12


def _citation(hit: dict) -> Citation:
    return Citation(
        document=str(hit["document"]),
        page=int(hit.get("page") or 1),
        start=int(hit.get("start") or 0),
        end=int(hit.get("end") or 0),
        snippet=str(hit.get("snippet", "")),
        doc_id=hit.get("doc_id"),
    )


def _dedupe(citations: Iterable[Citation], limit: int) -> list[Citation]:
    seen: set[tuple[str, int]] = set()
    chosen: list[Citation] = []
    for citation in citations:
        key = (citation.document, citation.page)
        if key in seen:
            continue
        seen.add(key)
        chosen.append(citation)
        if len(chosen) >= limit:
            break
    return chosen

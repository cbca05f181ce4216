"""Full-text search (FTS5, bm25) and regex grep over stored pages.

Both return hits in the sandbox's shape: ``{"document", "doc_id", "page", "start",
"end", "snippet"}`` where ``start``/``end`` are character offsets in the document's
text (the same text :meth:`Library.load_context` gives the RLM), plus ``"score"``
for search (higher is better).
"""

from __future__ import annotations

import bisect
import re
from typing import Any

import sqlite_utils

SNIPPET_CHARS = 80
_WORD = re.compile(r"\w+(?:\*)?", re.UNICODE)


def _terms(query: str) -> list[str]:
    return [t for t in _WORD.findall(query) if t.strip("*")]


def fts_expression(query: str, operator: str = "AND") -> str | None:
    """A safe FTS5 MATCH expression: every word quoted (``word*`` kept as a prefix query)."""
    parts = []
    for term in _terms(query):
        if term.endswith("*"):
            parts.append('"' + term[:-1] + '"*')
        else:
            parts.append('"' + term + '"')
    return f" {operator} ".join(parts) if parts else None


def snippet(text: str, start: int, end: int, context_chars: int = SNIPPET_CHARS) -> str:
    before = text[max(0, start - context_chars):start]
    after = text[end:end + context_chars]
    return " ".join((before + text[start:end] + after).split())


def _span(text: str, terms: list[str]) -> tuple[int, int]:
    """Where the query shows in ``text``: the whole phrase if present, else the first term found."""
    words = [t.rstrip("*") for t in terms]
    if not words:
        return 0, 0
    phrase = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, words)), re.IGNORECASE)
    found = phrase.search(text)
    if found is None:
        any_term = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + ")", re.IGNORECASE)
        found = any_term.search(text)
    if found is None:
        return 0, min(len(text), 1)
    end = found.end()
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1  # prefix queries: cover the whole word
    return found.start(), end


def scope_clause(doc_ids: list[int] | None, collection: str | None) -> tuple[str, list[Any]]:
    """SQL condition on documents `d` (and its args): given ids, a collection's current ones, or all current."""
    if doc_ids is not None:
        marks = ",".join("?" * len(doc_ids)) or "NULL"
        return f"d.id IN ({marks})", list(doc_ids)
    if collection is not None:
        return ("d.current = 1 AND d.id IN (SELECT cd.doc_id FROM collection_documents cd "
                "JOIN collections c ON c.id = cd.collection_id WHERE c.name = ?)", [collection])
    return "d.current = 1", []


def search(db: sqlite_utils.Database, query: str, k: int = 10, *, doc_ids: list[int] | None = None,
           collection: str | None = None) -> list[dict[str, Any]]:
    """The ``k`` best pages for ``query`` by bm25: all words first, topped up with any word."""
    terms = _terms(query)
    if not terms or k <= 0:
        return []
    where, args = scope_clause(doc_ids, collection)
    sql = (
        "SELECT p.id, p.doc_id, p.page, p.start, p.text, d.name, bm25(pages_fts) AS rank "
        "FROM pages_fts JOIN pages p ON p.id = pages_fts.rowid JOIN documents d ON d.id = p.doc_id "
        f"WHERE pages_fts MATCH ? AND d.status = 'stored' AND {where} ORDER BY rank LIMIT ?"
    )
    hits: list[dict[str, Any]] = []
    seen: set[int] = set()
    operators = ("AND", "OR") if len(terms) > 1 else ("AND",)
    for operator in operators:
        expression = fts_expression(query, operator)
        for page_id, doc_id, page, page_start, text, name, rank in db.execute(sql, [expression, *args, k]):
            if page_id in seen or len(hits) >= k:
                continue
            seen.add(page_id)
            start, end = _span(text, terms)
            hits.append({"document": name, "doc_id": doc_id, "page": page, "start": page_start + start,
                         "end": page_start + end, "snippet": snippet(text, start, end), "score": -rank})
        if len(hits) >= k:
            break
    return hits


def grep(db: sqlite_utils.Database, pattern: str, *, doc_ids: list[int] | None = None,
         collection: str | None = None, max_hits: int = 200, flags: int = re.IGNORECASE,
         context_chars: int = SNIPPET_CHARS) -> list[dict[str, Any]]:
    """Regex matches over whole document texts (so a match may cross a page break)."""
    regex = re.compile(pattern, flags)
    where, args = scope_clause(doc_ids, collection)
    docs = db.execute(f"SELECT d.id, d.name FROM documents d WHERE d.status = 'stored' AND {where} ORDER BY d.id",
                      args).fetchall()
    hits: list[dict[str, Any]] = []
    for doc_id, name in docs:
        rows = db.execute("SELECT start, text FROM pages WHERE doc_id = ? ORDER BY page", [doc_id]).fetchall()
        starts = [r[0] for r in rows]
        text = "".join(r[1] for r in rows)
        for match in regex.finditer(text):
            page = bisect.bisect_right(starts, match.start())
            hits.append({"document": name, "doc_id": doc_id, "page": max(page, 1), "start": match.start(),
                         "end": match.end(), "snippet": snippet(text, match.start(), match.end(), context_chars)})
            if len(hits) >= max_hits:
                return hits
    return hits

"""What the REPL offers besides ``context``: documents, hits, grep/search/chunk/cite,
SHOW_VARS, FINAL/FINAL_VAR and proxies for the host's functions (llm_query, ...).

Runs inside the worker process. Every function handed to cell code is a plain
closure, so cell code sees no object that leads back to the worker's pipe.
"""

from __future__ import annotations

import bisect
import builtins
import re
import types
from collections import Counter as collections_counter
from dataclasses import dataclass
from typing import Any, Callable

from rlm_desktop.sandbox.bm25 import BM25Index
from rlm_desktop.sandbox.relevance import QuestionFocus
from rlm_desktop.sandbox import operators
from rlm_desktop.sandbox.operators import Candidate, Row, Rows
from rlm_desktop.sandbox.sentences import Sentence, phrase_pattern, sentence_at, sentences_matching
from rlm_desktop.tables import CELL_SEPARATOR, is_table_name, table_rows

MAX_SNIPPET_REPR = 160
# The REPL's own functions (host functions such as llm_query come on top): a FINAL answer that
# writes a call to one of them holds code, not an answer (engine/protocol.calls_in_answer).
HELPER_NAMES = ("grep", "search", "chunk", "cite", "ask_pages", "ask", "classify", "table", "extract", "filter")


class Doc(str):
    """One document of the context: its text (a ``str``) plus name, id and pages."""

    name: str
    doc_id: int | None
    page_starts: tuple[int, ...]

    def __new__(cls, text: str, name: str, page_starts: tuple[int, ...] = (0,),
                doc_id: int | None = None) -> "Doc":
        self = super().__new__(cls, text)
        self.name = name
        self.doc_id = doc_id
        self.page_starts = tuple(page_starts) or (0,)
        return self

    @property
    def pages(self) -> list[str]:
        """The text of each page, in order (page 1 is ``pages[0]``)."""
        bounds = list(self.page_starts) + [len(self)]
        return [str.__getitem__(self, slice(a, b)) for a, b in zip(bounds, bounds[1:])]

    def page(self, number: int) -> str:
        """Text of 1-based page ``number``."""
        if not 1 <= number <= len(self.page_starts):
            raise IndexError(f"{self.name} has {len(self.page_starts)} pages, not {number}")
        return self.pages[number - 1]

    def page_at(self, offset: int) -> int:
        """1-based page number holding character ``offset``."""
        return page_at(self.page_starts, offset)

    def __repr__(self) -> str:
        return f"Doc(name={self.name!r}, chars={len(self)}, pages={len(self.page_starts)})"


def page_at(page_starts: tuple[int, ...], offset: int) -> int:
    return max(1, bisect.bisect_right(page_starts, offset))


@dataclass(frozen=True)
class Hit:
    """A span of a document handed to the code: where it is and what it says."""

    document: str
    page: int
    start: int
    end: int
    snippet: str
    doc_id: int | None = None

    def __repr__(self) -> str:
        snippet = self.snippet if len(self.snippet) <= MAX_SNIPPET_REPR else self.snippet[:MAX_SNIPPET_REPR] + "..."
        return f"Hit(doc={self.document!r}, page={self.page}, span=({self.start}, {self.end}), snippet={snippet!r})"

    def to_dict(self, source: str) -> dict[str, Any]:
        return {"document": self.document, "doc_id": self.doc_id, "page": self.page, "start": self.start,
                "end": self.end, "snippet": self.snippet, "source": source}


@dataclass(frozen=True)
class Source:
    """A text that grep/search/cite look through (shares the string with ``context``)."""

    name: str
    text: str
    page_starts: tuple[int, ...]
    doc_id: int | None


def build_context(payload: tuple[str, Any]) -> tuple[Any, list[Source]]:
    """Turn the host's context payload into the REPL's ``context`` and the searchable sources."""
    kind, data = payload
    if kind == "str":
        return data, [Source("context", data, (0,), None)]
    if kind == "strs":
        return data, [Source(f"context[{i}]", text, (0,), None) for i, text in enumerate(data)]
    docs = [Doc(text, name, tuple(starts), doc_id) for name, text, starts, doc_id in data]
    return docs, [Source(d.name, d, d.page_starts, d.doc_id) for d in docs]


def plain_str(value: Any) -> str:
    """``str(value)`` as an exact ``str`` (never a subclass)."""
    text = value if isinstance(value, str) else str(value)
    return text if type(text) is str else str.__str__(text)


def to_plain(value: Any, depth: int = 0) -> Any:
    """Plain JSON-able data for the host; Doc -> str, Hit -> dict; anything else refused."""
    if depth > 20:
        raise ValueError("data nested more than 20 levels deep cannot be sent to the host")
    if value is None or type(value) in (bool, int, float):
        return value
    if isinstance(value, str):
        return plain_str(value)
    if isinstance(value, Hit):
        return value.to_dict("code")
    if isinstance(value, (list, tuple)):
        return [to_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {plain_str(k) if isinstance(k, str) else _bad_key(k): to_plain(v, depth + 1) for k, v in value.items()}
    raise TypeError(f"only plain data (str, int, float, bool, None, list, dict) can be passed to host functions, "
                    f"not {type(value).__name__}")


def _is_table(source: Source) -> bool:
    return is_table_name(source.name) or CELL_SEPARATOR in source.text.split("\n", 2)[0]


def _bad_key(key: Any) -> str:
    raise TypeError(f"dict keys passed to host functions must be str, not {type(key).__name__}")


class HostFunctionError(Exception):
    """A host function (llm_query, search, ...) failed; the message says why."""


def chunk(text: Any, size: int, overlap: int = 0) -> list[str]:
    """Cut ``text`` (or each text of a list) into pieces of ``size`` characters overlapping by ``overlap``."""
    if not isinstance(size, int) or size <= 0:
        raise ValueError("chunk(text, size, overlap=0): size must be a positive int")
    if not isinstance(overlap, int) or not 0 <= overlap < size:
        raise ValueError("chunk(text, size, overlap=0): overlap must be an int with 0 <= overlap < size")
    if isinstance(text, (list, tuple)):
        return [piece for item in text for piece in chunk(item, size, overlap)]
    if not isinstance(text, str):
        raise TypeError(f"chunk() needs a str or a list of str, not {type(text).__name__}")
    step = size - overlap
    last = max(len(text) - overlap, 1)
    return [str.__getitem__(text, slice(i, i + size)) for i in range(0, last, step)]


class ReplHelpers:
    """Builds the helper functions of one worker; they report hits and answers to the worker."""

    def __init__(self, sources: list[Source], *, call_host: Callable[[str, list, dict], Any],
                 host_names: list[str], on_hit: Callable[[dict], None], on_final: Callable[[str], None],
                 namespace: dict[str, Any], writer: Callable[[], Any], focus: str = "") -> None:
        self._sources = sources
        self._focus_question = focus
        self._focus: QuestionFocus | None = None
        self._call_host = call_host
        self._host_names = list(host_names)
        self._on_hit = on_hit
        self._on_final = on_final
        self._namespace = namespace
        self._writer = writer
        self._index: BM25Index | None = None

    def functions(self) -> dict[str, Callable[..., Any]]:
        """The names the REPL gets: helpers plus one proxy per host function."""
        funcs: dict[str, Callable[..., Any]] = {name: self._proxy(name) for name in self._host_names}
        helpers = dict(grep=self._grep_fn(), search=self._search_fn(), chunk=chunk, cite=self._cite_fn(),
                       ask_pages=self._ask_pages_fn(), ask=self._ask_fn(), classify=self._classify_fn(),
                       table=self._table_fn(), extract=self._extract_fn(), filter=self._filter_fn())
        funcs.update(helpers, SHOW_VARS=self._show_vars_fn(), FINAL=self._final_fn(),
                     FINAL_VAR=self._final_var_fn(), Doc=Doc, Hit=Hit)
        return funcs

    # --- host proxies --------------------------------------------------------
    def _proxy(self, name: str) -> Callable[..., Any]:
        call_host = self._call_host

        def proxy(*args: Any, **kwargs: Any) -> Any:
            return call_host(name, to_plain(list(args)), to_plain(kwargs))
        proxy.__name__ = proxy.__qualname__ = name
        return proxy

    # --- grep / search / cite -------------------------------------------------
    def _hit(self, source: Source, start: int, end: int, snippet: str, origin: str, **extra: Any) -> Hit:
        """A hit on ``source``, reported with its origin and any ``extra`` fields the answer checks read."""
        hit = Hit(source.name, page_at(source.page_starts, start), start, end, snippet, source.doc_id)
        self._on_hit({**hit.to_dict(origin), **extra})
        return hit

    def _grep_fn(self) -> Callable[..., list[Hit]]:
        def grep(pattern: Any, *where: Any, context_chars: Any = None, max_hits: int = 200, ignore_case: bool = True,
                 documents: Any = None) -> list[Hit]:
            """Regex ``pattern`` over every document, or over ``documents`` (case-insensitive unless ignore_case=False).

            ``grep(pattern, context[4])`` or ``grep(pattern, context[:2], context_chars=120)`` searches
            those documents only: a document (or a list of documents or hits) given after the pattern
            is taken as ``documents``; numbers there are ``context_chars`` then ``max_hits``.
            One hit per passage: a match that lies inside the previous hit's snippet is not
            returned again (count exact matches with ``len(re.findall(...))``). Without
            ``context_chars``, snippets hold 80 characters either side, or 300 when there are
            only a few hits, so that a clause or list that a few hits point to is read whole."""
            documents, numbers = _split_where(where, documents, "grep")
            if numbers:
                context_chars = numbers[0]
                max_hits = numbers[1] if len(numbers) > 1 else max_hits
            sources = self._sources if documents is None else self._sources_of(documents)
            flags = re.IGNORECASE if ignore_case else 0
            if isinstance(pattern, re.Pattern):
                return self._ranked(self._grep_hits(pattern, context_chars, max_hits, sources))
            text = plain_str(pattern)
            hits = self._grep_hits(re.compile(text, flags), context_chars, max_hits, sources)
            phrases = plain_alternatives(text)
            if hits and len(phrases) < 2:
                return self._ranked(hits)
            names = {source.name for source in sources}
            for phrase in phrases:  # "escrow|kestrel minimum annual purchase": each phrase must find something
                if hits and any(re.search(phrase, source.text, flags) for source in sources):
                    continue
                taken = {(h.document, h.start) for h in hits}
                hits += [h for h in self._phrase_fallback(phrase, flags, context_chars, max_hits, sources)
                         if (h.document, h.start) not in taken and h.document in names]
            return self._ranked(hits)
        return grep

    def _ranked(self, hits: list[Hit]) -> list[Hit]:
        """Hits holding more of the question's rarer words first, when the engine gave the question."""
        if not self._focus_question or len(hits) < 2:
            return hits
        if self._focus is None:
            self._focus = QuestionFocus(self._focus_question, [source.text for source in self._sources])
        return self._focus.rank(hits, lambda hit: hit.snippet)

    def _sources_of(self, documents: Any) -> list[Source]:
        """The sources that grep's ``documents`` names: a document, a name, a hit, or a list of them."""
        items = documents if isinstance(documents, (list, tuple, set)) else [documents]
        names = set()
        for item in items:
            if isinstance(item, (Hit, Row)):
                names.add(item.document)
            elif isinstance(item, Doc):
                names.add(item.name)
            elif isinstance(item, str) and any(s.name == item for s in self._sources):
                names.add(str(item))
            elif isinstance(item, str) and (same := [s.name for s in self._sources if s.text is item or s.text == item]):
                names.update(same)  # grep(pattern, context) where context is one str: that text
            elif isinstance(item, str) and (joined := self._joined_documents(item)):
                names.update(joined)  # grep(pattern, context[3] + context[7]): "+" joined their texts
                self._writer().write(f"[grep: searching {', '.join(repr(n) for n in joined)}; to search several "
                                     "documents give a list, e.g. [context[3], context[7]]]\n")
            else:
                raise TypeError("grep(pattern, documents): documents must be a document such as context[0], "
                                f"a document name, a hit, or a list of them; got {type(item).__name__} (to search "
                                "a text of your own, use re.finditer)")
        return [source for source in self._sources if source.name in names]

    def _joined_documents(self, text: str) -> list[str]:
        """The names of the documents whose texts, end to end, are ``text`` ([] when it is anything else)."""
        names: list[str] = []
        at = 0
        while at < len(text):
            part = next((s for s in self._sources if s.text and text.startswith(s.text, at)), None)
            if part is None:
                return []
            names.append(part.name)
            at += len(part.text)
        return names if len(names) > 1 else []

    def _phrase_fallback(self, phrase: str, flags: int, context_chars: int | None, max_hits: int,
                         sources: list[Source]) -> list[Hit]:
        """Hits for a plain phrase that matched nothing: its looser pattern, else the passages ranked by its words."""
        loose = loose_pattern(phrase)
        if loose is None:
            return []
        hits = self._grep_hits(re.compile(loose, flags), context_chars, max_hits, sources)
        if hits:
            self._writer().write(f"[grep: no exact match for {phrase!r}; returning {len(hits)} "
                                 f"matches of the looser pattern {loose!r}]\n")
        elif len(re.findall(r"[A-Za-z0-9]+", phrase)) > 1:
            # A phrase of several words the documents never use together: rank passages by its words.
            names = {s.name for s in sources} if len(sources) < len(self._sources) else None
            hits = self._local_search(phrase, PHRASE_FALLBACK_HITS, names=names,
                                      width=lambda n: 2 * _snippet_chars(context_chars, n) + 40)
            if hits:
                self._writer().write(f"[grep: no match for {phrase!r}, even loosened; returning the {len(hits)} "
                                     "passages that best match its words, as search() would]\n")
        return hits

    def _grep_hits(self, regex: re.Pattern, context_chars: int | None, max_hits: int,
                   sources: list[Source]) -> list[Hit]:
        """One hit per passage; ``context_chars`` None: :data:`GREP_CONTEXT_CHARS`, wider for a few hits."""
        matches = self._grep_matches(regex, GREP_CONTEXT_CHARS if context_chars is None else context_chars,
                                     max_hits, sources)
        width = _snippet_chars(context_chars, len(matches))
        hits = []
        for source, start, end in matches:
            lo, hi = _word_bounds(source.text, max(0, start - width), end + width)
            hits.append(self._hit(source, start, end, str.__getitem__(source.text, slice(lo, hi)), "grep"))
        return hits

    @staticmethod
    def _grep_matches(regex: re.Pattern, context_chars: int, max_hits: int,
                      sources: list[Source]) -> list[tuple[Source, int, int]]:
        """(source, start, end) of the first ``max_hits`` matches, one per passage of ``context_chars``."""
        matches: list[tuple[Source, int, int]] = []
        for source in sources:
            text = source.text
            shown_to = -1
            for match in regex.finditer(text):
                if len(matches) >= max_hits:
                    return matches
                start, end = match.span()
                if end <= shown_to:
                    continue
                shown_to = _word_bounds(text, max(0, start - context_chars), end + context_chars)[1]
                matches.append((source, start, end))
        return matches

    def _search_fn(self) -> Callable[..., list[Hit]]:
        host_search = "search" in self._host_names

        def search(query: str, *where: Any, k: int = 10, documents: Any = None) -> list[Hit]:
            """The ``k`` passages that best match ``query`` (keyword ranking), best first.

            ``search(query, context[4])`` ranks passages of those documents only."""
            documents, numbers = _split_where(where, documents, "search")
            k = int(numbers[0]) if numbers else int(k)
            names = None if documents is None else {source.name for source in self._sources_of(documents)}
            if host_search:
                wanted = k if names is None else k * 20  # ranked over everything, then narrowed to the documents
                rows = self._call_host("search", [plain_str(query)], {"k": wanted})
                rows = [row for row in rows if names is None or row.get("document") in names][:k]
                return [self._hit_from_row(row) for row in rows]
            return self._local_search(plain_str(query), k, names=names)
        return search

    def _hit_from_row(self, row: dict[str, Any]) -> Hit:
        hit = Hit(str(row.get("document", "")), int(row.get("page") or 1), int(row.get("start") or 0),
                  int(row.get("end") or 0), str(row.get("snippet", "")), row.get("doc_id"))
        self._on_hit(hit.to_dict("search"))
        return hit

    def _local_search(self, query: str, k: int, width: int | Callable[[int], int] = 300,
                      names: set[str] | None = None) -> list[Hit]:
        """The best ``k`` passages (of the documents ``names``); ``width``: each excerpt's characters, or a
        function of how many passages there are."""
        if self._index is None:
            self._index = BM25Index([s.text for s in self._sources], [s.page_starts for s in self._sources])
        weights = self._index.term_weights(query)
        passages = []
        # Narrowed to some documents, every passage is ranked: their best ones may rank low among all.
        for passage, _score in self._index.query(query, k if names is None else len(self._index.passages)):
            source = self._sources[passage.doc_index]
            if names is not None and source.name not in names:
                continue
            if len(passages) >= k:
                break
            passages.append((source, passage))
        chars = width(len(passages)) if callable(width) else width
        return [self._hit(source, passage.start, passage.end,
                          best_excerpt(str.__getitem__(source.text, slice(passage.start, passage.end)), weights, chars),
                          "search") for source, passage in passages]

    def _source_named(self, document: Any, caller: str = "cite") -> Source:
        if isinstance(document, Doc):
            document = document.name
        elif isinstance(document, Hit):
            document = document.document
        for source in self._sources:
            if source.name == document:
                return source
        names = ", ".join(repr(s.name) for s in self._sources[:10])
        raise ValueError(f"{caller}(): no document named {document!r}; documents: {names}"
                         + (" ..." if len(self._sources) > 10 else ""))

    def _cite_fn(self) -> Callable[..., Hit]:
        def cite(document: Any, page: int | None = None, quote: str = "") -> Hit:
            """Record that the answer rests on ``document`` (a name, Doc or Hit), ``page`` and ``quote``."""
            if isinstance(document, Hit):
                self._on_hit(document.to_dict("cite"))
                return document
            source = self._source_named(document)
            bounds = list(source.page_starts) + [len(source.text)]
            number = page if page is not None else 1
            if not 1 <= number < len(bounds):
                raise ValueError(f"cite(): {source.name} has {len(bounds) - 1} pages, not {number}")
            lo, hi = (bounds[number - 1], bounds[number]) if page is not None else (0, len(source.text))
            quote = plain_str(quote)
            found = source.text.find(quote, lo, hi) if quote else -1
            if found < 0 and quote:  # a snippet may run over a page break, or the page was wrong
                found = source.text.find(quote)
            start, end = (found, found + len(quote)) if found >= 0 else (lo, hi)
            snippet = quote if found >= 0 else str.__getitem__(source.text, slice(lo, min(hi, lo + 200)))
            hit = Hit(source.name, page_at(source.page_starts, start), start, end, snippet, source.doc_id)
            self._on_hit(hit.to_dict("cite"))
            return hit
        return cite

    # --- table: a stored CSV or spreadsheet read back as rows ------------------------
    def _table_fn(self) -> Callable[..., list[dict[str, Any]]]:
        def table(document: Any) -> list[dict[str, Any]]:
            """The rows of a table document (CSV, TSV, spreadsheet; a document, its name or a hit) as
            dicts keyed by the first row's column names, numbers as numbers. With several sheets each
            row also has its sheet's name under "sheet"."""
            source = self._table_source(document, "table")
            shown = min(len(source.text), TABLE_SNIPPET_CHARS)
            self._hit(source, 0, shown, str.__getitem__(source.text, slice(0, shown)), "table")
            return table_rows(source.text)
        return table

    def _table_source(self, document: Any, caller: str) -> Source:
        source = self._source_named(document, caller)
        if not _is_table(source):
            tables = [f"context[{index}] ({other.name})" for index, other in enumerate(self._sources)
                      if _is_table(other)]
            where = (f"the tables among the documents: {', '.join(tables)}" if tables
                     else "no document is a table; read it with grep, search or its .pages")
            raise ValueError(f"{caller}(): {source.name} is not a table (a CSV or spreadsheet); {where}")
        return source

    def _given_sources(self, documents: Any, caller: str) -> list[Source]:
        sources = self._sources if documents is None else self._sources_of(documents)
        if not sources:
            raise ValueError(f"{caller}(): documents is empty; an earlier step found no document to read")
        return sources

    # --- extract / filter: one question mapped over candidate passages ----------------
    def _extract_fn(self) -> Callable[..., Rows]:
        def extract(question: Any, documents: Any = None, per_document: int = 1) -> Rows:
            """For each document of ``documents`` (all when None; or hits, each read with the text around it),
            the helper model answers ``question`` from its most relevant passage; returns the rows whose quote
            is on the page: .document, .page, .value, .unit, .quote, .amount, .currency, .date, .number."""
            return self._map("extract", question, documents, per_document)
        return extract

    def _filter_fn(self) -> Callable[..., Any]:
        def filter(condition: Any, documents: Any = None, per_document: int = 1) -> Any:  # noqa: A001
            """The documents of ``documents`` (all when None; or hits) for which the helper model finds
            ``condition`` holds, as rows (one per document, value "yes", with the quote that shows it).
            ``filter(function, items)`` is Python's own filter."""
            if callable(condition) or condition is None:
                return builtins_filter(condition, documents)
            return self._map("filter", condition, documents, per_document)
        return filter

    def _map(self, mode: str, question: Any, documents: Any, per_document: Any) -> Rows:
        """Read the candidate passages with the sub model in one batch and keep the rows whose quotes check out."""
        if "llm_extract" not in self._host_names:
            raise RuntimeError(f"{mode}() needs the helper model, which this run does not offer")
        question = plain_str(question).strip()
        if not question:
            raise ValueError(f"{mode}(question, documents): the question is empty")
        if not isinstance(per_document, int) or not 1 <= per_document <= 10:
            raise ValueError(f"{mode}(..., per_document=N): N must be an int from 1 to 10")
        candidates, left_out, count = self._candidates(mode, question, documents, per_document)
        if len(candidates) > operators.MAX_PASSAGES:
            raise ValueError(f"{mode}() would read {len(candidates):,} passages, more than "
                             f"{operators.MAX_PASSAGES}: narrow the documents first (grep, or a filter())")
        answers = self._call_host("llm_extract", [mode, question, [operators.passage_prompt(c) for c in candidates]],
                                  {}) if candidates else []
        rows: list[Row] = []
        dropped: collections_counter = collections_counter()
        silent = 0
        seen: set[tuple[str, str]] = set()
        for candidate, answer in zip(candidates, answers):
            parsed = operators.parse_json_answer(plain_str(answer)) if answer is not None else None
            if parsed is None:
                dropped["answer failed" if answer is None else "not JSON"] += 1
                continue
            row, why = operators.row_of(candidate, parsed, mode=mode)
            if row is None:
                if why == "silent":
                    silent += 1
                else:
                    dropped[why] += 1
                continue
            key = (row.document, "yes" if mode == "filter" else " ".join(row.value.casefold().split()))
            if key in seen:
                continue
            seen.add(key)
            rows.append(row)
            self._hit(candidate.source, row.start, row.end, row.quote, mode)
        if mode == "filter":
            yes = {row.document for row in rows}
            silent = len({c.source.name for c in candidates} - yes)
        result = Rows(rows, operator=mode, read=len(candidates), documents=count, silent=silent, dropped=dropped,
                      skipped=left_out, report=self._report_row)
        if not candidates:
            self._writer().write(f"[{mode}: no passage to read: the documents given are empty]\n")
        return result

    def _report_row(self, row: Row, extra: dict[str, Any]) -> None:
        source = self._source_named(row.document, "extract")
        self._hit(source, row.start, row.end, row.quote, "extract", **extra)

    def _candidates(self, mode: str, question: str, documents: Any,
                    per_document: int) -> tuple[list[Candidate], int, int]:
        """(the passages to read, documents left out for sharing no word with the question, documents read)."""
        items = documents if isinstance(documents, (list, tuple)) else ([] if documents is None else [documents])
        if documents is not None and not items:
            raise ValueError(f"{mode}(question, documents): documents is empty; an earlier step found nothing "
                             "to read")
        hits = [item for item in items if isinstance(item, Hit)]  # rows stand for their documents
        if hits:
            found = operators.hit_candidates(hits, lambda name: self._source_named(name, mode))
            return found, 0, len({c.source.name for c in found})
        sources = self._sources if documents is None else self._sources_of(documents)
        if not sources:
            raise ValueError(f"{mode}(question, documents): none of the documents given is in context")
        found, left_out = operators.document_candidates(sources, question, per_document, narrow=documents is None)
        return found, left_out, len({c.source.name for c in found})

    # --- ask_pages: one question mapped over pages by the sub model ---------------
    def _ask_pages_fn(self) -> Callable[..., list[Hit]]:
        def ask_pages(question: Any, pages: Any = None, max_chars: int = ASK_PAGE_CHARS) -> list[Hit]:
            """Ask the sub model ``question`` about each page of ``pages`` (hits, documents, names;
            all documents when None); return the pages that answered it, as hits whose snippet is
            the sub model's answer."""
            if "llm_query_batched" not in self._host_names:
                raise RuntimeError("ask_pages() needs llm_query, which this run does not offer")
            if not isinstance(max_chars, int) or max_chars < 200:
                raise ValueError("ask_pages(question, pages, max_chars): max_chars must be an int >= 200")
            question = plain_str(question)
            pieces = [piece for span in self._page_spans(pages) for piece in _split_span(span, max_chars)]
            if not pieces:
                return []
            prompts = [page_prompt(question, source.name, page, str.__getitem__(source.text, slice(start, end)))
                       for source, page, start, end in pieces]
            answers = self._call_host("llm_query_batched", [prompts], {})
            hits = []
            for (source, page, start, end), answer in zip(pieces, answers):
                answer = plain_str(answer).strip()
                if answer and not is_none_answer(answer):
                    hits.append(self._hit(source, start, end, answer, "ask_pages"))
            return hits
        return ask_pages

    # --- ask: one short question answered from the sentences about something --------------
    def _ask_fn(self) -> Callable[..., str]:
        def ask(question: Any, about: Any) -> str:
            """The sub model's short answer (a name, date or amount) to ``question``, read from the
            sentences of all documents that mention ``about`` (a name or phrase, a list of them, or
            hits); "" when those sentences do not say. The sentence the answer comes from is recorded
            as a hit, so it can be cited."""
            if "llm_answer" not in self._host_names:
                raise RuntimeError("ask() needs llm_query, which this run does not offer")
            question = plain_str(question).strip()
            if not question:
                raise ValueError("ask(question, about): the question is empty")
            if isinstance(about, Doc) or (isinstance(about, (list, tuple)) and any(isinstance(a, Doc) for a in about)):
                raise TypeError("ask(question, about): about is a name or phrase (a str), a list of them, or hits; "
                                "to ask about each page of a document use ask_pages(question, [doc])")
            return self._read(question, about)
        return ask

    def _read(self, question: str, about: Any) -> str:
        """One link of ``ask()``: the reader's answer from the sentences about ``about``, or "" with a note.

        The reader first sees the sentences and the question with the subject written "it" (a 0.5B
        reader asked "Which company acquired Ostmira Partners?" over "Rhomor Partners acquired
        Ostmira Partners" answered "Ostmira Partners"; asked "Which company acquired it?" over
        "Rhomor Partners acquired it", "Rhomor Partners"), then, where that gives no answer found in
        the sentences, as they are written."""
        sentences = self._sentences_about(about)
        if not sentences:
            self._writer().write(f"[ask: no sentence of the documents mentions {_about_text(about)}; check "
                                 "the spelling, or grep for one word of it]\n")
            return ""
        chosen = self._fitting(QuestionFocus(question, [s.text for s in sentences]).rank(
            sentences, lambda sentence: sentence.text))
        subject = _subject_pattern(about)
        tries = [subject, None] if subject is not None and subject.search(question) else [None]
        for mask in tries:
            texts = [mask.sub("it", s.text) if mask else s.text for s in chosen]
            lines = [f"- {text} ({self._sources[s.index].name}, page "
                     f"{page_at(self._sources[s.index].page_starts, s.start)})" for s, text in zip(chosen, texts)]
            asked = mask.sub("it", question) if mask else question
            answer = _short_answer(plain_str(self._call_host("llm_answer", [asked, "\n".join(lines)], {})))
            if answer.endswith(".") and not any(_holds(text, answer) for text in texts):
                answer = answer.rstrip(".")  # "Holm & Co." for "Holm & Co have audited ..."
            found = next((s for s, text in zip(chosen, texts) if _holds(text, answer)), None)
            stands_in = mask is not None and re.search(r"\bit\b", answer, re.IGNORECASE)
            if answer and found is not None and not stands_in and not _same_words(answer, about):
                source = self._sources[found.index]
                self._hit(source, found.start, found.end, found.text, "ask")
                return answer
        # NONE, a reply copied from nowhere, or the subject itself given back
        shown = "\n".join(f"  {line}" for line in lines[:ASK_SHOWN])
        self._writer().write(f"[ask: the {len(sentences)} sentences that mention {_about_text(about)} do not "
                             f"answer {question!r}. The first of them:\n{shown}]\n")
        return ""

    def _sentences_about(self, about: Any) -> list[Sentence]:
        """The sentences that mention ``about`` (phrases, or the sentence around each hit)."""
        items = about if isinstance(about, (list, tuple)) else [about]
        if not items:
            raise ValueError("ask(question, about): about is empty; an earlier step found nothing to ask about")
        texts = [source.text for source in self._sources]
        found: list[Sentence] = []
        for item in items:
            if isinstance(item, Hit):
                source = self._source_named(item.document, "ask")
                index = self._sources.index(source)
                found.append(sentence_at(index, source.text, item.start, max(item.start, item.end)))
                continue
            phrase = plain_str(item).strip()
            if not phrase:
                raise ValueError("ask(question, about): about is empty; an earlier step found nothing to ask about")
            found += sentences_matching(texts, phrase_pattern(phrase))
        unique: dict[str, Sentence] = {}
        for sentence in found:
            unique.setdefault(sentence.text.lower(), sentence)
        return list(unique.values())

    @staticmethod
    def _fitting(sentences: list[Sentence]) -> list[Sentence]:
        """The first sentences that fit one reading of the sub model."""
        chosen, used = [], 0
        for sentence in sentences:
            if chosen and used + len(sentence.text) > ASK_CHARS:
                break
            chosen.append(sentence)
            used += len(sentence.text) + 40
        return chosen

    # --- classify: one label per text, by the sub model -------------------------------
    def _classify_fn(self) -> Callable[..., list[str]]:
        def classify(texts: Any, labels: Any, examples: Any = None) -> list[str]:
            """Put each of ``texts`` (str, hits or documents) in one of ``labels`` with the sub model,
            shown ``examples`` ((text, label) pairs) first; returns one label per text, in order.
            A text that occurs more than once is asked once."""
            if "llm_classify" not in self._host_names:
                raise RuntimeError("classify() needs llm_query, which this run does not offer")
            if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
                raise TypeError("classify(texts, labels): texts must be a list (for one text write [text]), "
                                f"not {type(texts).__name__}")
            if isinstance(labels, str) or not isinstance(labels, (list, tuple)):
                raise TypeError("classify(texts, labels): labels must be a list of str, e.g. ['yes', 'no']")
            items = [item.snippet if isinstance(item, Hit) else plain_str(item) for item in texts]
            unique = list(dict.fromkeys(items))
            if not unique:
                return []
            names = [plain_str(label) for label in labels]
            if not examples and "llm_examples" in self._host_names:
                examples = self._written_examples(unique, names)
            answers = self._call_host("llm_classify", [unique, names], {"examples": to_plain(examples or [])})
            by_text = dict(zip(unique, (plain_str(answer) for answer in answers)))
            return [by_text[item] for item in items]
        return classify

    def _written_examples(self, texts: list[str], labels: list[str]) -> list[list[str]]:
        """Examples for a classify() call given none: two per label, written by the root model in the form of a
        few of ``texts`` (spread over them), and printed, so the reader of the output sees what they were."""
        count = min(EXAMPLE_SAMPLES, len(texts))
        samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
        pairs = [list(pair) for pair in self._call_host("llm_examples", [labels, samples], {})]
        shown = "; ".join(f"{text!r} -> {label}" for text, label in pairs)
        self._writer().write(f"[classify: no examples were given, so these were written: {shown}]\n")
        return pairs

    def _page_spans(self, pages: Any) -> list[tuple[Source, int, int, int]]:
        """(source, page number, start, end) for each page that ``pages`` names, in order, once each."""
        items = self._sources if pages is None else (pages if isinstance(pages, (list, tuple)) else [pages])
        spans: list[tuple[Source, int, int, int]] = []
        seen: set[tuple[str, int]] = set()
        for item in items:
            if isinstance(item, Hit):
                source = self._source_named(item.document)
                numbers = [item.page]
            else:
                source = item if isinstance(item, Source) else self._source_named(item)
                numbers = list(range(1, len(source.page_starts) + 1))
            bounds = list(source.page_starts) + [len(source.text)]
            for number in numbers:
                if (source.name, number) in seen or not 1 <= number < len(bounds):
                    continue
                seen.add((source.name, number))
                spans.append((source, number, bounds[number - 1], bounds[number]))
        return spans

    # --- variables and answers ------------------------------------------------
    def _show_vars_fn(self) -> Callable[[], None]:
        def SHOW_VARS() -> None:  # noqa: N802 - the REPL's name for it
            """Print the variables defined so far with their type and size."""
            lines = [describe(name, value) for name, value in user_variables(self._namespace).items()]
            self._writer().write(("Variables:\n" + "\n".join(lines) if lines else "No variables defined yet.") + "\n")
        return SHOW_VARS

    def _final_fn(self) -> Callable[[Any], None]:
        def FINAL(value: Any) -> None:  # noqa: N802
            """Give ``value`` as the final answer."""
            self._on_final(plain_str(value))
        return FINAL

    def _final_var_fn(self) -> Callable[[str], None]:
        def FINAL_VAR(name: Any) -> None:  # noqa: N802
            """Give the variable called ``name`` as the final answer, e.g. FINAL_VAR('answer')."""
            if not isinstance(name, str):
                raise TypeError("FINAL_VAR takes the variable's name as a string, e.g. FINAL_VAR('answer'); "
                                "use FINAL(value) to answer with a value")
            variables = user_variables(self._namespace)
            if name not in variables:
                known = ", ".join(variables) or "none"
                raise NameError(f"FINAL_VAR({name!r}): no variable named {name!r}; defined: {known}")
            self._on_final(plain_str(variables[name]))
        return FINAL_VAR


builtins_filter = builtins.filter
TABLE_SNIPPET_CHARS = 600
"""How much of a table a table() call records as the passage it read (for citations)."""
PHRASE_FALLBACK_HITS = 5
"""Passages grep returns, ranked by the phrase's words, when a phrase matches nowhere."""
GREP_CONTEXT_CHARS = 80
"""Characters either side of a grep match, unless the call says otherwise."""
FEW_HITS = 3
FEW_HITS_CONTEXT_CHARS = 300
"""Characters either side of each of at most FEW_HITS grep matches: the clause or list they point to."""


def _snippet_chars(asked: int | None, hits: int) -> int:
    """Characters either side of a match: what the call asked for, else wider for a few hits."""
    if asked is not None:
        return int(asked)
    return FEW_HITS_CONTEXT_CHARS if hits <= FEW_HITS else GREP_CONTEXT_CHARS
ASK_PAGE_CHARS = 6000
ASK_CHARS = 6000  # the sentences one ask() reads
ASK_SHOWN = 5  # sentences printed when ask() found no answer in them
EXAMPLE_SAMPLES = 5  # texts shown to the writer of classify() examples
_NONE_ANSWER = re.compile(r"^\W*(none|no\.?$|n/?a\b|not (mentioned|stated|found|specified|given)|"
                          r"(this|the) (page|text) does not|there is no)", re.IGNORECASE)


def _split_where(where: tuple[Any, ...], documents: Any, name: str) -> tuple[Any, list[int]]:
    """grep/search's positional arguments after the pattern: (the documents to search, the numbers)."""
    numbers: list[int] = []
    for item in where:
        if isinstance(item, int) and not isinstance(item, bool):
            numbers.append(item)
        elif documents is None:
            documents = item
        else:
            raise TypeError(f"{name}(): documents given twice; pass one document or one list of them")
    return documents, numbers


def _word_bounds(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Widen [lo, hi) so that it cuts no word or number in two ("GBP 212,000", never "GBP 21")."""
    hi = min(hi, len(text))
    while hi < len(text) and (text[hi].isalnum() or (text[hi] in ",." and hi + 1 < len(text)
                                                     and text[hi + 1].isdigit() and text[hi - 1].isdigit())):
        hi += 1
    while lo > 0 and (text[lo - 1].isalnum() or (text[lo - 1] in ",." and lo >= 2 and text[lo - 2].isdigit())):
        lo -= 1
    return lo, hi


_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 '\-]*")


def plain_alternatives(pattern: str) -> list[str]:
    """The phrases of a pattern made only of plain phrases joined by ``|``; [] for any other regex."""
    phrases = [part.strip() for part in pattern.split("|")]
    if all(phrase and _PLAIN_PHRASE.fullmatch(phrase) for phrase in phrases):
        return phrases
    return []


def loose_pattern(pattern: str) -> str | None:
    """For a plain phrase that matched nothing, a looser regex: word stems, any separators.

    ``"law of ireland"`` -> ``law\\w*\\W+of\\w*\\W+ireland\\w*`` (finds "laws of Ireland").
    None for real regexes and single short words, where loosening would only add noise.
    """
    phrase = pattern.strip()
    if not _PLAIN_PHRASE.fullmatch(phrase):
        return None
    words = re.findall(r"[A-Za-z0-9]+", phrase)
    if not words or (len(words) == 1 and len(words[0]) < 5):
        return None
    return r"\W+".join(re.escape(_word_stem(word)) + r"\w*" for word in words)


_SUFFIX = re.compile(r"(?:ations?|ions?|ings?|ments?|ities|ity|ies|ed|es|e|s)$", re.IGNORECASE)
_MIN_STEM = 5


def _word_stem(word: str) -> str:
    """A word without its inflection or derivation ending, kept at least five letters long: "redistribution"
    -> "redistribut" (finds "redistribute"), "terminated" -> "terminat", "rents" -> "rent"."""
    cut = _SUFFIX.sub("", word)
    if len(cut) >= _MIN_STEM:
        return cut
    return word[:-1] if len(word) > 3 and word.lower().endswith("s") else word


def page_prompt(question: str, document: str, page: int, text: str) -> str:
    """The sub model's prompt for one page in ``ask_pages``."""
    return (f"Page {page} of the document {document}:\n\"\"\"\n{text.strip()}\n\"\"\"\n\n"
            f"Question: {question}\n"
            "Answer from this page only, in one short sentence that quotes the exact names, dates and amounts. "
            "If this page does not answer the question, reply NONE.")


def _short_answer(answer: str) -> str:
    """The reader's reply as a bare answer: first line, no quotes or closing full stop; "" for NONE."""
    line = answer.strip().split("\n", 1)[0].strip().strip("\"'`*").strip()
    line = re.sub(r"^(answer|a)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line[:-1] if line.endswith(".") and not re.search(r"\b[A-Z][a-z]?\.$", line) else line
    return "" if not line or is_none_answer(line) else line


def _holds(text: str, answer: str) -> bool:
    """True where ``answer`` stands in ``text`` as whole words (case and runs of spaces aside)."""
    return bool(answer.strip()) and phrase_pattern(answer).search(text) is not None


def _subject_pattern(about: Any) -> re.Pattern[str] | None:
    """The one name or phrase ``ask()`` was asked about, as a pattern (None for lists and hits)."""
    if isinstance(about, Hit) or isinstance(about, (list, tuple)):
        return None
    phrase = plain_str(about).strip()
    return phrase_pattern(phrase) if phrase else None


def _about_text(about: Any) -> str:
    """What ``ask()`` was asked about, for its notes."""
    items = about if isinstance(about, (list, tuple)) else [about]
    return " or ".join(f"{plain_str(i)!r}" if not isinstance(i, Hit) else "the hits' passages" for i in items[:5])


def _same_words(answer: str, about: Any) -> bool:
    """True where the answer only gives back what was asked about."""
    items = about if isinstance(about, (list, tuple)) else [about]
    names = {" ".join(plain_str(item).split()).lower() for item in items if not isinstance(item, Hit)}
    return " ".join(answer.split()).lower() in names


def is_none_answer(answer: str) -> bool:
    """True for a sub-model answer that says the text holds nothing ("NONE", "Not mentioned", ...)."""
    return bool(_NONE_ANSWER.match(answer.strip()))


def _split_span(span: tuple[Source, int, int, int], max_chars: int) -> list[tuple[Source, int, int, int]]:
    source, page, start, end = span
    return [(source, page, lo, min(end, lo + max_chars)) for lo in range(start, max(end, start + 1), max_chars)]


def user_variables(namespace: dict[str, Any]) -> dict[str, Any]:
    """The names cell code defined: no '_' names, no imported modules."""
    return {k: v for k, v in namespace.items() if not k.startswith("_") and not isinstance(v, types.ModuleType)}


def describe(name: str, value: Any) -> str:
    kind = type(value).__name__
    if isinstance(value, str):
        return f"  {name}: {kind}, {len(value)} chars"
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return f"  {name}: {kind}, {len(value)} items"
    if isinstance(value, (int, float, bool)) or value is None:
        return f"  {name}: {kind} = {value!r}"
    return f"  {name}: {kind}"


def best_excerpt(text: str, weights: dict[str, float], width: int = 300) -> str:
    """The ``width``-character window of ``text`` where the query's words weigh most, cut at word bounds.

    Each distinct word counts once per window, by its weight (rare words weigh more), so the window
    that holds most of the query's rarer words wins over one that repeats a common word.
    """
    if len(text) <= width:
        return text
    found = [(m.start(), m.group().lower()) for m in re.finditer(r"\w+", text) if m.group().lower() in weights]
    best_start, best_score = 0, -1.0
    for i, (start, anchor) in enumerate(found):
        window_start = max(0, start - width // 4)
        seen = set()
        for pos, word in found[i:]:
            if pos >= window_start + width:
                break
            seen.add(word)
        score = sum(weights[word] for word in seen) + 0.01 * weights[anchor]  # ties: start at a rarer word
        if score > best_score:
            best_start, best_score = window_start, score
    lo, hi = _word_bounds(text, best_start, min(len(text), best_start + width))
    return text[lo:hi]

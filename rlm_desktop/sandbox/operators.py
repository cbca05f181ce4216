"""The REPL's document operators: ``extract`` and ``filter``, mapped by the sub-model over candidate passages.

Each operator picks candidate passages cheaply in code (the hits it is given, or per document the windows
that share the most rare words with the question), asks the sub-model about every passage in one batch, in
a small JSON held by a grammar (``{"value", "unit", "quote"}`` or ``{"answer", "quote"}``), and keeps a row
only where the quote is on that page (case and spacing aside) and a figure of the value is in the quote.
Amounts and dates are parsed in code (:mod:`~rlm_desktop.sandbox.values`). Rows print compactly and
support plain Python: ``len(rows)``, ``sum``, ``sorted``, ``rows.total()``, ``rows.documents()``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rlm_desktop.sandbox.values import (amounts_in, format_amount, format_count, parse_amount, parse_count, parse_date,
                                         same_unit)

PASSAGE_CHARS = 1200        # one candidate window (about 300 tokens of the sub-model)
WHOLE_DOCUMENT_CHARS = 1800  # a document this short is read whole
HIT_MARGIN = 500            # characters read on each side of a hit
MAX_PASSAGES = 400          # one operator call reads at most this many passages
QUOTE_SHOWN = 150
_STOP = frozenset("""a an the of to in on at by for from with and or not no is are was were be been being this that
these those which who whom whose what when where how why does do did has have had any all each every our their its
his her your my we they it as than then there here such other same can could may might must shall should will would
under over into onto about between per whether if so also only just more most less least very""".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NONE_VALUES = frozenset({"", "none", "null", "n/a", "na", "not stated", "not mentioned", "not found", "unknown",
                          "not specified", "not given", "no answer"})


@dataclass(frozen=True)
class Candidate:
    """A passage the sub-model reads: its document, page and span."""

    source: Any          # helpers.Source
    page: int
    start: int
    end: int

    @property
    def text(self) -> str:
        return str.__getitem__(self.source.text, slice(self.start, self.end))


@dataclass(frozen=True)
class Row:
    """One answer the sub-model gave from one passage, with its quote found on the page."""

    document: str
    page: int
    value: str
    unit: str
    quote: str
    start: int
    end: int
    amount: float | None = None
    currency: str | None = None
    date: str | None = None
    number: float | None = None

    @property
    def snippet(self) -> str:
        return self.quote

    def __str__(self) -> str:
        value = self.value if not self.unit or self.unit.casefold() in self.value.casefold() else \
            f"{self.value} {self.unit}"
        quote = self.quote if len(self.quote) <= QUOTE_SHOWN else self.quote[:QUOTE_SHOWN] + "..."
        return f"{self.document} p{self.page}: {value} | \"{quote}\""

    __repr__ = __str__


class Rows(list):
    """The rows an operator kept, with what it read and dropped; prints one row per line."""

    def __init__(self, rows: Iterable[Row] = (), *, operator: str = "extract", read: int = 0, documents: int = 0,
                 silent: int = 0, dropped: Counter | None = None, skipped: int = 0,
                 report: Callable[[Row, dict[str, Any]], None] | None = None) -> None:
        super().__init__(rows)
        self.operator = operator
        self.read = read
        self.documents_read = documents
        self.silent = silent
        self.dropped = dropped or Counter()
        self.skipped = skipped
        self._report = report

    def summary(self) -> str:
        """What the operator did: passages read, rows kept, passages that said nothing, rows dropped and why."""
        parts = [f"read {self.read} passage{'s' * (self.read != 1)} of {self.documents_read} "
                 f"document{'s' * (self.documents_read != 1)}"]
        if self.skipped:
            parts.append(f"{self.skipped} documents share no word with the question and were not read "
                         "(pass them, or hits from grep, to read them)")
        kept = "documents where it holds" if self.operator == "filter" else "rows kept"
        parts.append(f"{len(self)} {kept}")
        if self.silent:
            parts.append(f"{self.silent} {'said no' if self.operator == 'filter' else 'do not state it'}")
        if self.dropped:
            parts.append("dropped: " + ", ".join(f"{count} {why}" for why, count in self.dropped.most_common()))
        return f"[{self.operator}: " + "; ".join(parts) + "]"

    def __str__(self) -> str:
        return "\n".join([self.summary(), *(str(row) for row in self)])

    __repr__ = __str__

    def documents(self) -> list[str]:
        """The names of the documents the rows come from, once each, in order."""
        return list(dict.fromkeys(row.document for row in self))

    def values(self) -> list[str]:
        """Each row's value, in order."""
        return [row.value for row in self]

    def total(self, per_document: bool = True) -> str:
        """The amounts added per currency (one per document unless ``per_document=False``), e.g.
        "EUR 8,909,000 (5 documents)"; rows without an amount are left out and counted. Rows that give no
        amount of money add their numbers per unit instead: "90 days (2 documents)"."""
        money = [row for row in self if row.amount is not None and row.currency is not None]
        if money:
            keyed = [(row.currency, row.amount, row.currency, row) for row in money]
            return self._added(keyed, len(self) - len(money), per_document, "an amount", format_amount)
        counted = []
        for row in self:
            count = parse_count(row.value, row.unit)
            if count is not None:
                counted.append((same_unit(count[1]), count[0], count[1], row))
        if not counted:
            return "no amount of money or number in these rows"
        return self._added(counted, len(self) - len(counted), per_document, "a number",
                           lambda unit, value: format_count(value, unit))

    def _added(self, keyed: list[tuple[str, float, str, Row]], missing: int, per_document: bool, what: str,
               shown: Callable[[str, float], str]) -> str:
        """Sums of (key, value, unit as written, row) per key, one row per document and key when
        ``per_document``; each added row is reported with the sum it went into."""
        sums: dict[str, float] = {}
        units: dict[str, str] = {}
        added: dict[str, list[Row]] = {}
        seen: set[tuple[str, str]] = set()
        for key, value, unit, row in keyed:
            if per_document and (row.document, key) in seen:
                continue
            seen.add((row.document, key))
            sums[key] = sums.get(key, 0.0) + value
            units.setdefault(key, unit)
            added.setdefault(key, []).append(row)
        parts = []
        for key, value in sums.items():
            count = len(added[key])
            parts.append(f"{shown(units[key], value)} ({count} document{'s' * (count != 1)})" if per_document else
                         f"{shown(units[key], value)} ({count} row{'s' * (count != 1)})")
            if self._report is not None:
                for row in added[key]:
                    self._report(row, {"total": f"{value:,.2f}".rstrip("0").rstrip(".")})
        if missing:
            parts.append(f"{missing} row{'s' * (missing != 1)} without {what} left out")
        return "; ".join(parts)

    def max(self) -> Row | None:
        """The row with the largest amount (else number, else latest date)."""
        return _extreme(self, max)

    def min(self) -> Row | None:
        """The row with the smallest amount (else number, else earliest date)."""
        return _extreme(self, min)


def _extreme(rows: Rows, pick: Callable[..., Row]) -> Row | None:
    for field in ("amount", "number", "date"):
        having = [row for row in rows if getattr(row, field) is not None]
        if having:
            return pick(having, key=lambda row: getattr(row, field))
    return None


# --- candidate passages ---------------------------------------------------------------
def words_of(text: str) -> list[str]:
    """The content words of ``text`` as stems (lower case, first six letters), stop words aside."""
    return [word[:6] for word in (w.casefold() for w in _WORD.findall(text)) if word not in _STOP and len(word) > 1]


def windows(source: Any) -> list[Candidate]:
    """The windows of a document: pages, long pages cut at whitespace into :data:`PASSAGE_CHARS` pieces."""
    text = source.text
    bounds = list(source.page_starts) + [len(text)]
    found = []
    for number, (page_start, page_end) in enumerate(zip(bounds, bounds[1:]), start=1):
        pos = page_start
        while pos < page_end:
            end = min(page_end, pos + PASSAGE_CHARS)
            if end < page_end:
                cut = max(text.rfind("\n", pos + PASSAGE_CHARS // 2, end), text.rfind(". ", pos + PASSAGE_CHARS // 2, end))
                end = cut + 1 if cut > pos else end
            if text[pos:end].strip():
                found.append(Candidate(source, number, pos, end))
            pos = end
    return found


def document_candidates(sources: list[Any], question: str, per_document: int,
                        narrow: bool) -> tuple[list[Candidate], int]:
    """Per document, its ``per_document`` windows sharing the most rare words with ``question`` (a short
    document whole); with ``narrow``, documents sharing no word are left out (unless all would be).
    Returns the candidates and how many documents were left out."""
    asked = set(words_of(question))
    per_source = {id(source): windows(source) for source in sources}
    everything = [window for found in per_source.values() for window in found]
    frequency = Counter(stem for window in everything for stem in set(words_of(window.text)) & asked)
    total = max(1, len(everything))
    weight = {stem: math.log(1 + total / (1 + frequency[stem])) for stem in asked}

    def score(window: Candidate) -> float:
        return sum(weight[stem] for stem in set(words_of(window.text)) & asked)

    chosen: list[Candidate] = []
    left_out = 0
    scored_any = any(score(window) > 0 for window in everything)
    for source in sources:
        found = per_source[id(source)]
        if not found:
            continue
        scores = [score(window) for window in found]
        if narrow and scored_any and max(scores) <= 0:
            left_out += 1
            continue
        if len(source.text) <= WHOLE_DOCUMENT_CHARS and len(source.page_starts) == 1:
            chosen.append(Candidate(source, 1, 0, len(source.text)))
            continue
        ranked = sorted(range(len(found)), key=lambda i: (-scores[i], i))[:max(1, per_document)]
        chosen.extend(found[i] for i in sorted(ranked))
    return chosen, left_out


def hit_candidates(hits: list[Any], source_named: Callable[[str], Any]) -> list[Candidate]:
    """A window around each hit, within its page; overlapping windows of one page merged."""
    spans: dict[tuple[str, int], list[list[int]]] = {}
    sources: dict[str, Any] = {}
    for hit in hits:
        source = source_named(hit.document)
        sources[source.name] = source
        bounds = list(source.page_starts) + [len(source.text)]
        page = min(max(1, hit.page), len(bounds) - 1)
        lo = max(bounds[page - 1], hit.start - HIT_MARGIN)
        hi = min(bounds[page], max(hit.end, hit.start) + HIT_MARGIN)
        lo, hi = _word_edges(source.text, lo, hi, bounds[page - 1], bounds[page])
        merged = spans.setdefault((source.name, page), [])
        for span in merged:
            if lo <= span[1] and hi >= span[0]:
                span[0], span[1] = min(span[0], lo), max(span[1], hi)
                break
        else:
            merged.append([lo, hi])
    return [Candidate(sources[name], page, lo, hi) for (name, page), found in spans.items() for lo, hi in found]


def _word_edges(text: str, lo: int, hi: int, page_lo: int, page_hi: int) -> tuple[int, int]:
    while lo > page_lo and not text[lo - 1].isspace():
        lo -= 1
    while hi < page_hi and not text[hi].isspace():
        hi += 1
    return lo, hi


# --- checking the sub-model's answers ---------------------------------------------------
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"',
                       "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u00a0": " ", "\u202f": " "})


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` case- and space-folded, with the offset in ``text`` of each character kept."""
    out: list[str] = []
    offsets: list[int] = []
    space = False
    for index, char in enumerate(text.translate(_FOLD)):
        if char.isspace():
            space = bool(out)
            continue
        if space:
            out.append(" ")
            offsets.append(index - 1)
            space = False
        for folded in char.casefold():
            out.append(folded)
            offsets.append(index)
    return "".join(out), offsets


def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``text``, case, spacing and typographic quotes aside (an ellipsis may skip
    text between its parts); None when it does not occur."""
    parts = [part.strip(" \t\n\"'.,;:") for part in re.split(r"\.\.\.|\u2026", quote)]
    parts = [part for part in parts if part]
    if not parts or sum(len(part) for part in parts) < 4:
        return None
    folded, offsets = _folded(text)
    position, first = 0, None
    for part in parts:
        needle = _folded(part)[0]
        found = folded.find(needle, position)
        if found < 0:
            return None
        first = found if first is None else first
        position = found + len(needle)
    return offsets[first], offsets[position - 1] + 1


def _figures(text: str) -> set[str]:
    return {re.sub(r"\D", "", match) for match in re.findall(r"\d[\d,.\u202f\u00a0' ]*\d|\d", text)}


def value_in_quote(value: str, quote: str, passage: str) -> bool:
    """Whether the value's figures are written in its quote, or its words in the passage."""
    figures = _figures(value)
    if figures:
        written = _figures(quote) | _figures(passage)
        return all(figure in written or any(figure in w for w in written) for figure in figures)
    words = set(words_of(value))
    return not words or len(words & set(words_of(passage))) * 2 >= len(words)


def parse_json_answer(answer: str) -> dict[str, Any] | None:
    """The JSON object a sub-call answered (the first one in it), or None when it holds none."""
    text = answer.strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        parsed = json.loads(text[start:end + 1])
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def row_of(candidate: Candidate, parsed: dict[str, Any], *, mode: str) -> tuple[Row | None, str]:
    """The row one answer gives, or (None, why not): "silent" when the passage does not state it."""
    quote = str(parsed.get("quote") or "").strip()
    if mode == "filter":
        said = str(parsed.get("answer") or "").strip().casefold()
        if said not in ("yes", "no"):
            return None, "answers neither yes nor no"
        if said == "no":
            return None, "silent"
        value, unit = "yes", ""
    else:
        value = str(parsed.get("value") or "").strip()
        unit = str(parsed.get("unit") or "").strip()
        if value.casefold().strip(" .") in _NONE_VALUES:
            return None, "silent"
    if not quote:
        return None, "no quote"
    text = candidate.text
    span = find_quote(quote, text)
    if span is None:
        return None, "quote not on the page"
    quoted = text[span[0]:span[1]]
    if mode != "filter" and not value_in_quote(value, quoted, text):
        return None, "value not in its quote"
    amount = amount_for(value, unit, quoted)
    count = parse_count(value, unit)
    return Row(document=candidate.source.name, page=candidate.page, value=value, unit=unit, quote=" ".join(quoted.split()),
               start=candidate.start + span[0], end=candidate.start + span[1],
               currency=amount[0] if amount else None, amount=amount[1] if amount else None,
               date=parse_date(value) or (parse_date(quoted) if _figures(value) else None),
               number=count[0] if count else None), ""


def amount_for(value: str, unit: str, quote: str) -> tuple[str, float] | None:
    """The amount of money a value gives: with its own currency or unit, else the amount of its quote that
    writes the same figures ("540,000" read from "rent of EUR 540,000 per year")."""
    if not _figures(value):
        return None
    own = parse_amount(f"{value} {unit}".strip()) or parse_amount(f"{unit} {value}".strip())
    if own is not None:
        return own
    figures = _figures(value)
    for found, written in amounts_in(quote):
        if _figures(written) & figures:
            return found
    return None


def passage_prompt(candidate: Candidate) -> str:
    """How a passage is shown to the sub-model: its document and page, then its text."""
    return f"Document: {candidate.source.name}, page {candidate.page}\n<text>\n{candidate.text.strip()}\n</text>"

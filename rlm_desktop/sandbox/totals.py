"""Totals over documents: one amount of money per document, found next to a phrase, added in code.

A 1.5B root asked for "the total annual fee under all licence agreements" added the first five fee
amounts it saw by eye, from any agreement (docs/eval/starter-session12, data room seed 89). The
question names what to add (the annual fee) and which documents to add it over (the licence
agreements); :func:`total_request` reads both from the question, and :func:`document_amounts` finds
one amount per document, which ``total_of()`` in the REPL prints and adds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rlm_desktop.sandbox.words import singular

_CURRENCY = r"EUR|GBP|USD|NOK|SEK|DKK|CHF|JPY|CAD|AUD|\u20ac|\u00a3|\$"
_NUMBER = r"\d{1,3}(?:[,'\u00a0]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"million|billion|thousand|bn|m|k"
AMOUNT = re.compile(
    rf"(?P<lead>{_CURRENCY})\s?(?P<number>{_NUMBER})(?:\s?(?P<scale>{_SCALE})\b)?"
    rf"|(?P<bare>{_NUMBER})(?:\s?(?P<scale2>{_SCALE})\b)?\s?(?P<trail>{_CURRENCY})\b",
    re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
_SYMBOLS = {"\u20ac": "EUR", "\u00a3": "GBP", "$": "USD"}
NEAR_CHARS = 160
"""How far after a match of the phrase an amount may stand to count as the phrase's amount."""


@dataclass(frozen=True)
class Amount:
    """An amount of money in a text: as written, its currency and its value."""

    text: str
    currency: str
    value: float
    start: int
    end: int


def amounts_in(text: str, start: int = 0, end: int | None = None) -> list[Amount]:
    """The amounts of money written in ``text[start:end]`` ("EUR 1,200,000", "GBP 2.5 million", "450,000 NOK")."""
    found = []
    for match in AMOUNT.finditer(text, start, len(text) if end is None else end):
        number = match.group("number") or match.group("bare")
        currency = (match.group("lead") or match.group("trail")).upper()
        scale = (match.group("scale") or match.group("scale2") or "").lower()
        value = float(re.sub(r"[,'\u00a0]", "", number)) * _SCALES.get(scale, 1.0)
        found.append(Amount(match.group(0).strip(), _SYMBOLS.get(currency, currency), value,
                            match.start(), match.end()))
    return found


def phrase_amount(text: str, pattern: re.Pattern[str]) -> tuple[re.Match[str], Amount] | None:
    """The first match of ``pattern`` in ``text`` that has an amount after it in the same sentence (within
    :data:`NEAR_CHARS`), with that amount; None when no match has one."""
    for match in pattern.finditer(text):
        stop = min(len(text), match.end() + NEAR_CHARS)
        sentence_end = re.search(r"\.(?:\s|$)|\n\s*\n", text[match.end():stop])
        if sentence_end is not None:
            stop = match.end() + sentence_end.start()
        found = amounts_in(text, match.end(), stop)
        if found:
            return match, found[0]
    return None


def total_text(values: Sequence[float]) -> str:
    """A sum as the documents would write it: 452000.0 -> "452,000"; 12.5 -> "12.50"."""
    total = sum(values)
    return f"{total:,.0f}" if float(total).is_integer() else f"{total:,.2f}"


# "the total annual fee payable under all licence agreements", "the combined deposit across every lease"
_TOTAL_QUESTION = re.compile(
    r"\b(?:total|sum|combined|aggregate)\s+(?:of\s+(?:the\s+|all\s+)?)?(?P<what>[a-z][a-z\- ]*?)\s+"
    r"(?:(?:payable|paid|due|owed|owing|charged|agreed|set)\s+)?"
    r"(?:under|across|in|for|of|from|by)\s+(?:all|each|every)\s+(?:of\s+)?(?:the\s+|our\s+|its\s+)?"
    r"(?P<where>[a-z][a-z\- ]*?)(?=\s*(?:[,?.;]|$|\s+(?:in|as|with|dated|signed|that|which)\b))",
    re.IGNORECASE)


@dataclass(frozen=True)
class TotalRequest:
    """What a question asks to add up (``what``) and over which documents (``where``, singular)."""

    what: str
    where: str


def total_request(question: str) -> TotalRequest | None:
    """What "the total X under all Y" asks for, or None when the question asks for no such total."""
    match = _TOTAL_QUESTION.search(question)
    if match is None:
        return None
    what = match.group("what").strip()
    where = match.group("where").strip()
    words = where.split()
    if not words or not what:
        return None
    words[-1] = singular(words[-1])
    return TotalRequest(what, " ".join(words))


def about(name: str, text: str, phrase: str, head_chars: int = 300) -> bool:
    """Whether a document is one of ``phrase`` ("licence agreement"): its name (with _ and - read as spaces)
    or the start of its text says so."""
    wanted = phrase.casefold()
    named = re.sub(r"[_\-]+", " ", name).casefold()
    return wanted in named or wanted in " ".join(text[:head_chars].split()).casefold()

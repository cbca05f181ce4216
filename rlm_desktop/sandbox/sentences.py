"""The sentences of the documents that mention a name or phrase, for ``ask()``.

A small reader model picks the right fact far more often from a short list of whole
sentences than from fixed-width snippets that cut sentences and carry their neighbours
(measured on multi-hop chains with Qwen2.5-Coder 0.5B and 1.5B readers).
Only the sentences around each match are found (no document is split whole), so the
cost follows the number of matches, not the size of the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! or ? followed by space and a capital, digit or opening quote, or at a line break.
_END = re.compile(r"[.!?][\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])|\n")
_REACH = 400  # characters looked at on each side of a match for the sentence's ends


@dataclass(frozen=True)
class Sentence:
    """One sentence of one document: where it is (character offsets) and its text."""

    index: int   # which source
    start: int
    end: int
    text: str


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """``phrase`` as a case-insensitive pattern: whole words, any run of spaces or line breaks between them."""
    words = phrase.split()
    if not words:
        raise ValueError("empty phrase")
    body = r"\s+".join(re.escape(word) for word in words)
    left = r"\b" if re.match(r"\w", words[0]) else ""
    right = r"\b" if re.search(r"\w$", words[-1]) else ""
    return re.compile(left + body + right, re.IGNORECASE)


def sentences_matching(texts: list[str], pattern: re.Pattern[str], limit: int = 200) -> list[Sentence]:
    """The sentences of ``texts`` holding a match of ``pattern``, in document order, each once, at most ``limit``.

    A sentence whose text another document already gave is left out (the first one keeps the citation).
    """
    found: list[Sentence] = []
    seen: set[str] = set()
    for index, text in enumerate(texts):
        last_end = -1
        for match in pattern.finditer(text):
            if match.start() < last_end:
                continue
            sentence = sentence_at(index, text, match.start(), match.end())
            last_end = sentence.end
            if sentence.text and sentence.text.lower() not in seen:
                seen.add(sentence.text.lower())
                found.append(sentence)
                if len(found) >= limit:
                    return found
    return found


def sentence_at(index: int, text: str, lo: int, hi: int) -> Sentence:
    """The sentence of ``text`` (source ``index``) that holds ``text[lo:hi]``, its spaces collapsed."""
    start, end = sentence_bounds(text, lo, hi)
    return Sentence(index, start, end, " ".join(str.__getitem__(text, slice(start, end)).split()))


def sentence_bounds(text: str, lo: int, hi: int) -> tuple[int, int]:
    """The start and end of the sentence that holds ``text[lo:hi]`` (at most ``_REACH`` characters beyond it)."""
    window_start = max(0, lo - _REACH)
    start = window_start
    for boundary in _END.finditer(text, window_start, min(len(text), lo + 1)):  # + 1: the lookahead sees text[lo]
        start = boundary.end()
    if start == window_start and window_start > 0:  # no sentence end close by: start at a word
        space = text.find(" ", window_start, lo)
        start = space + 1 if space >= 0 else window_start
    boundary = _END.search(text, hi, min(len(text), hi + _REACH))
    end = boundary.start() + 1 if boundary else min(len(text), hi + _REACH)
    if boundary and text[boundary.start()] == "\n":
        end = boundary.start()
    return start, end

"""Does a "not stated" answer deny what the printed output shows?

A small root often answers "Not stated in the documents: the OpenSSL copyright does not mention
Text-Template" right after a grep that printed "Files: external/perl/Text-Template-1.56/* ... License:
Artistic or", its snippet cut before the rest of the answer. The claim of the answer ("does not mention
X") is checked against the output, never the question's wording: when X was printed, the answer is
refused and told where X stands and how to read more of that page. Likewise "a search for breach, cure
found nothing" written under five printed passages about the breach.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rlm_desktop.engine.reading_checks import conjuncts

_QUOTE = "\"'\u2018\u2019\u201c\u201d`"
_DENIAL = re.compile(
    r"(?:(?:does|do|did) not|doesn't|don't|never)\s+(?:mention|contain|include|refer to|name|list)\s+|"
    r"\bno (?:mention|reference) (?:of|to)\s+|"
    r"\bnothing (?:about|on)\s+", re.IGNORECASE)
_MENTIONED_NOT = re.compile(rf"[{_QUOTE}]?([^{_QUOTE}.,;:()\n]{{3,60}}?)[{_QUOTE}]?\s+(?:is|are|was|were) not "
                            r"(?:mentioned|named|listed|found)", re.IGNORECASE)
_LEADING = re.compile(r"^(?:(?:the|a|an|any|such|word|words|term|terms|phrase|text)\s+)+", re.IGNORECASE)
_END = re.compile(rf"[.,;:()\n\"\u201c\u201d`]|['\u2018\u2019](?!\w)|\s+(?:or|but|nor|which|that|in|for|from|under)\s")
_KIND = re.compile(r"^(?:the\s+)?(?:word|term|phrase|name)s?\s+", re.IGNORECASE)
_MIN_CHARS = 4


@dataclass(frozen=True)
class DeniedMention:
    """A term the answer says the documents do not mention, and where the output showed it."""

    term: str
    document: str
    page: int
    excerpt: str


def denied_terms(answer: str) -> list[str]:
    """The terms a "not stated" answer says are not mentioned: "does not mention Text-Template" ->
    ["Text-Template"], "the escrow amount is not mentioned" -> ["escrow amount"]."""
    terms: list[str] = []
    for match in _DENIAL.finditer(answer):
        rest = _KIND.sub("", answer[match.end():]).lstrip(_QUOTE)
        cut = _END.search(rest)
        terms.append(rest[:cut.start()] if cut else rest[:60])
    terms += [m.group(1) for m in _MENTIONED_NOT.finditer(answer)]
    terms += [part for term in terms for part in conjuncts(term)]  # "GPL-1 and GPL-2": each on its own too
    cleaned = [_LEADING.sub("", term.strip().strip(_QUOTE)).strip() for term in terms]
    return [term for term in dict.fromkeys(cleaned) if len(term) >= _MIN_CHARS]


def _phrase(term: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def _shown_part(term: str, printed: str) -> str | None:
    """The term, or its longest opening words that name something on their own ("Text-Template" of
    "Text-Template Perl"), as ``printed`` shows them; None when neither is shown."""
    words = term.split()
    for end in range(len(words), 0, -1):
        part = " ".join(words[:end])
        if end < len(words) and not _names_something(part):
            continue
        if _phrase(part).search(printed):
            return part
    return None


def _names_something(words: str) -> bool:
    """A distinctive name rather than a common word: a word of five or more characters written with capitals,
    digits or hyphens."""
    return any(len(word) >= 5 and re.search(r"[A-Z0-9-]", word) for word in words.split())


def denied_but_shown(answer: str, hits: Sequence[dict[str, Any]], outputs: Iterable[str]) -> DeniedMention | None:
    """The first term the answer denies that a printed hit shows (with that hit's document and page)."""
    printed = " ".join(outputs)
    shown_hits = printed_hits(hits, printed)
    for term in denied_terms(answer):
        shown = _shown_part(term, printed)
        if shown is None:
            continue
        pattern = _phrase(shown)
        for hit in shown_hits:
            snippet = str(hit.get("snippet", ""))
            found = pattern.search(snippet)
            if found:
                lo = max(0, found.start() - 80)
                return DeniedMention(term=found.group(0), document=str(hit.get("document", "")),
                                     page=int(hit.get("page") or 1), excerpt=" ".join(snippet[lo:found.end() + 160].split()))
    return None


def denied_mention_note(denied: DeniedMention) -> str:
    """What the root is told when its "not stated" answer denies a mention the output shows (more of that
    page follows it, printed by :func:`read_more_code`)."""
    return (f"FINAL refused: you say the documents do not mention {denied.term!r}, but the output showed it in "
            f"{denied.document}, page {denied.page}: \"{denied.excerpt}\". More of that page was printed for you "
            "below. If it answers the question, answer from it and cite it; if it does not, say what it does say.")


def read_more_code(denied: DeniedMention, before: int = 300, after: int = 900) -> str:
    """The code that prints the page text around the denied term, for the root to read."""
    return (f"doc = [d for d in context if d.name == {denied.document!r}][0]\n"
            f"i = max(0, doc.lower().find({denied.term.lower()!r}))\n"
            f"print(doc[max(0, i - {before}):i + {after}])")


_FOUND_NOTHING = re.compile(
    r"\b(?:found|returned|gave|yielded|shows?|showed)\s+(?:nothing|no\s+(?:results?|hits?|passages?|matches?))|"
    r"\bdid\s+not\s+(?:return|find|show|yield)\s+(?:any|a)\s+(?:results?|hits?|passages?|matches?)|"
    r"\bno\s+(?:results?|hits?|passages?|matches?)\s+(?:were|was)\s+(?:found|returned)", re.IGNORECASE)


def printed_hits(hits: Sequence[dict[str, Any]], output: str) -> list[dict[str, Any]]:
    """The hits whose snippets ``output`` shows (whitespace aside)."""
    shown = " ".join(output.split())
    return [hit for hit in hits if (snippet := " ".join(str(hit.get("snippet", "")).split()))
            and snippet[:60] in shown]


def denies_printed_results(answer: str, hits: Sequence[dict[str, Any]], last_output: str) -> list[dict[str, Any]]:
    """The hits the last output printed when the answer says the search found nothing ([] otherwise)."""
    if not _FOUND_NOTHING.search(answer):
        return []
    return printed_hits(hits, last_output)


def denied_results_note(shown: Sequence[dict[str, Any]]) -> str:
    """What the root is told when its answer says a search found nothing that printed passages."""
    first = shown[0]
    excerpt = " ".join(str(first.get("snippet", "")).split())[:200]
    return (f"FINAL refused: your answer says the search found nothing, but the output above shows {len(shown)} "
            f"passage{'s' if len(shown) != 1 else ''}, the first from {first.get('document')}, page "
            f"{first.get('page') or 1}: \"{excerpt}\". Read them again: if one answers the question, answer from "
            "it and cite it; if none does, say what they are about.")

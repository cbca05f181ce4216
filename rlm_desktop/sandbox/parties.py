"""Parties by their defined terms, and what a "Which <parties> <do something>?" question asks.

Contracts name their parties once, where they define them: `Rydal Foods GmbH (the "Counterparty")`.
A 1.5B root asked which counterparties may terminate on a change of control found the four clauses,
then named parties from the file names and the signature lines it happened to see (two names, one of
them the company itself; docs/eval/starter-session12, data room seed 88). :func:`defined_party` reads
the party a document defines as a term; :func:`party_request` reads from the question the term asked
for and the phrase the documents that answer it write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rlm_desktop.sandbox.words import singular

_BOUNDARY = re.compile(r"\bbetween\s+|\)\s*,?\s*(?:and\s+)?|[;:\n]\s*|\.\s+(?=[A-Z(])|\band\s+(?=[A-Z])",
                       re.IGNORECASE)
_LOOK_BACK = 120


@dataclass(frozen=True)
class Party:
    """The name a document defines as a term, and where the definition stands."""

    name: str
    start: int
    end: int


def definition_pattern(term: str) -> re.Pattern[str]:
    """Matches the definition of ``term``: (the "Counterparty"), ("Buyer"), (the \u201cTenant\u201d)."""
    return re.compile(r"\((?:the\s+)?[\"\u201c]" + r"\s+".join(map(re.escape, term.split())) + r"[\"\u201d]\)",
                      re.IGNORECASE)


def defined_party(text: str, term: str) -> Party | None:
    """The first party ``text`` defines as ``term`` (`Rydal Foods GmbH (the "Counterparty")` -> Rydal Foods GmbH)."""
    for match in definition_pattern(term).finditer(text):
        lo = max(0, match.start() - _LOOK_BACK)
        before = text[lo:match.start()]
        cut = max((m.end() for m in _BOUNDARY.finditer(before)), default=0)
        name = before[cut:].strip(" ,\t")
        if name and name[0].isupper() and len(name.split()) <= 8:
            return Party(name, lo + cut + (len(before[cut:]) - len(before[cut:].lstrip(" ,\t"))), match.end())
    return None


def defined_term(texts: Sequence[str], noun: str) -> str | None:
    """The term, as the documents write it, that at least two of ``texts`` define and that ``noun`` names
    ("counterparties" -> "Counterparty"); None when fewer than two define it."""
    pattern = definition_pattern(singular(noun))
    spelled = [m.group(0) for text in texts for m in [pattern.search(text)] if m]
    if len(spelled) < 2:
        return None
    inner = re.search(r"[\"\u201c](.+)[\"\u201d]", spelled[0])
    return inner.group(1) if inner else None


_WHICH = re.compile(r"^\s*(?:which|what|list(?:\s+all)?(?:\s+the)?|name(?:\s+all)?(?:\s+the)?)\s+"
                    r"(?P<noun>[a-z]+(?:\s+[a-z]+)?)\s+(?P<rest>.+)$", re.IGNORECASE | re.DOTALL)
_NEGATION = re.compile(r"\b(?:not|no|never|without|except|cannot|can't|neither|nor)\b", re.IGNORECASE)
_SECOND_QUESTION = re.compile(r"\band\s+(?:what|which|who|whom|how|when|where|why)\b", re.IGNORECASE)
_STOP = frozenset("""
a an the of to in on at by for from with as and or if is are be been was were may might can could shall should will
would do does did has have had their its his her our your them they it this that these those which who whom whose
what when where under any all each every list names name give
""".split())
MIN_PHRASE_WORDS = 2


@dataclass(frozen=True)
class PartyRequest:
    """A question asking for the parties defined as ``term`` in the documents that write ``phrase``."""

    term: str
    phrase: str

    @property
    def pattern(self) -> str:
        """The phrase as a regex that allows any spacing between its words."""
        return r"\s+".join(re.escape(word) for word in self.phrase.split())


def party_request(question: str, texts: Sequence[str]) -> PartyRequest | None:
    """For "Which counterparties may terminate ... if the company undergoes a change of control?": the term at
    least two of ``texts`` define ("Counterparty") and the longest run of the question's words that some of
    them write ("company undergoes a change of control"). None for a question of another form, one that
    negates (its documents are the ones that do *not* write the phrase) or asks a second thing ("..., and what
    share ..."), or when the documents write no such run."""
    first = re.split(r"(?<=\?)\s", question.strip(), maxsplit=1)[0]
    match = _WHICH.match(first)
    if match is None or _NEGATION.search(first) or _SECOND_QUESTION.search(first):
        return None
    nouns = match.group("noun").split()
    term = defined_term(texts, " ".join(nouns)) or (defined_term(texts, nouns[0]) if len(nouns) > 1 else None)
    if term is None:
        return None
    rest = match.group("rest") if term.casefold() == singular(" ".join(nouns)).casefold() else \
        " ".join(nouns[1:]) + " " + match.group("rest")
    phrase = _longest_written_run(re.findall(r"[A-Za-z0-9']+", rest), texts)
    return PartyRequest(term, phrase) if phrase else None


def _longest_written_run(words: list[str], texts: Sequence[str]) -> str | None:
    """The longest run of ``words`` (at least :data:`MIN_PHRASE_WORDS` not stop words, none at either end) that
    one of ``texts`` writes, spacing and case aside."""
    flat = [" ".join(re.findall(r"[A-Za-z0-9']+", text)).casefold() for text in texts]
    lowered = [word.casefold() for word in words]
    for size in range(len(lowered), 1, -1):
        for start in range(len(lowered) - size + 1):
            run = lowered[start:start + size]
            if run[0] in _STOP or run[-1] in _STOP or sum(w not in _STOP for w in run) < MIN_PHRASE_WORDS:
                continue
            phrase = " ".join(run)
            if any(f" {phrase} " in f" {text} " for text in flat):
                return " ".join(words[start:start + size])
    return None

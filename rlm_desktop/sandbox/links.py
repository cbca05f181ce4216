"""Split a nested question into links that ``ask()`` answers one at a time.

"Who is the managing partner of the firm that audits Nordic Mills?", asked about
"Nordic Mills", holds two facts: which firm audits Nordic Mills, then who that firm's
managing partner is. A small reader given the whole question over the sentences about
Nordic Mills answers the firm, or nothing; given one fact at a time it reads well. A
small root model writes the whole question into one ``ask()`` far more often than it
splits it, so ``ask()`` splits it itself, innermost phrase first, with three English
patterns around the thing asked about:

- "the N that/which/who V X"  ->  "Which N V X?"
- "the N whose M V X"         ->  "Which M V X?", then "Which N has {that} as M?"
- "was the N of X born"       ->  "What is the N of X?" (only as the subject of a longer question:
  "Which bank holds the accounts of X" and "Who is the chair of X" stay whole)

Instructions after the question ("Answer with the name only.") are not part of any link.

Each answer replaces its phrase in the question, and the next link is asked about that
answer. A question with none of these patterns around X is one link: itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlm_desktop.sandbox.relevance import question_only

_NOUN = r"(?P<noun>[\w'-]+(?: [\w'-]+){0,2}?)"
_MAX_LINKS = 5
_SLOT = "\x00"  # stands for the answer of the previous link while the question is rewritten


@dataclass(frozen=True)
class Link:
    """One fact to look up: a question with ``{}`` where the previous link's answer goes."""

    question: str

    def about_previous(self) -> bool:
        """True when this link is asked about the previous link's answer (else about the original subject)."""
        return "{}" in self.question

    def filled(self, previous: str) -> str:
        return self.question.replace("{}", previous)


def split_links(question: str, about: str) -> list[Link]:
    """The links of ``question`` around ``about``, innermost first; ``[Link(question)]`` when it has none."""
    subject = re.escape(" ".join(about.split()))
    asked = question_only(question)
    if not subject or asked is None:
        return [Link(question)]
    rest = " ".join(asked.split())
    target = subject
    links: list[Link] = []
    while len(links) < _MAX_LINKS:
        found = _innermost(rest, target)
        if found is None:
            break
        span, new_links = found
        links += new_links
        rest = rest[:span[0]] + _SLOT + rest[span[1]:]
        target = re.escape(_SLOT)
    if not links:
        return [Link(question)]
    final = rest.replace(_SLOT, "{}")
    if final.strip(" ?.") != "{}":
        links.append(Link(final if final.rstrip().endswith("?") else final.rstrip(" .") + "?"))
    return links


def _innermost(text: str, target: str) -> tuple[tuple[int, int], list[Link]] | None:
    """The phrase of ``text`` that ends at ``target`` and starts latest (the innermost), as links."""
    subject = "{}" if target == re.escape(_SLOT) else None
    patterns = (
        (re.compile(rf"\bthe {_NOUN} (?:that|which|who) (?P<verb>[\w' ,-]+?) (?P<target>{target})", re.I), "that"),
        (re.compile(rf"\bthe {_NOUN} whose (?P<owned>[\w'-]+(?: [\w'-]+)??) (?P<verb>[\w' ,-]+?) (?P<target>{target})",
                    re.I), "whose"),
        (re.compile(rf"(?:(?<=\bis )|(?<=\bwas )|(?<=\bare )|(?<=\bwere ))the {_NOUN} of (?P<target>{target})(?! ?\?)", re.I), "of"),
    )
    best: tuple[int, int, str, re.Match[str]] | None = None
    for pattern, kind in patterns:
        for start in [m.start() for m in re.finditer(r"\bthe\b", text, re.I)]:  # every start: the latest wins
            match = pattern.match(text, start)
            if match and (best is None or match.start() > best[0]):
                best = (match.start(), match.end(), kind, match)
    if best is None:
        return None
    start, end, kind, match = best
    named = subject or " ".join(match.group("target").split())
    noun = match.group("noun")
    if kind == "that":
        links = [Link(f"Which {noun} {match.group('verb')} {named}?")]
    elif kind == "whose":
        owned, verb = _owned_and_verb(match.group("owned"), match.group("verb"))
        links = [Link(f"Which {owned} {verb} {named}?"), Link(f"Which {noun} has {{}} as {owned}?")]
    else:
        links = [Link(f"What is the {noun} of {named}?")]
    return (start, end), links


_AUXILIARIES = frozenset("is was are were has had have does did do can could will would may must".split())


def _owned_and_verb(owned: str, verb: str) -> tuple[str, str]:
    """"managing", "partner chairs" -> "managing partner", "chairs": a compound noun after "whose" keeps its
    second word when the verb's first word does not read as a verb (an auxiliary, or ending in -s or -ed)."""
    words = verb.split()
    first = words[0].casefold() if words else ""
    looks_like_verb = first in _AUXILIARIES or first.endswith("ed") or (first.endswith("s") and not first.endswith("ss"))
    if len(owned.split()) == 1 and len(words) >= 2 and not looks_like_verb:
        return f"{owned} {words[0]}", " ".join(words[1:])
    return owned, verb


_NAME = r"(?P<name>[A-Z][\w'&.-]*(?: (?:[A-Z][\w'&.-]*|&|of|and|de|van|von))*)"
_CHAIN_OPENING = re.compile(rf"\bthe [\w'-]+(?: [\w'-]+){{0,2}}? (?:(?:that|which|who)|whose [\w'-]+) [\w' ,-]*?{_NAME}")


def chain_start(question: str) -> str | None:
    """The name a nested question's chain starts from ("Nordic Mills" in "Who is the managing partner
    of the firm that audits Nordic Mills?"), when the question has a relative clause ending in a
    capitalised name and ``split_links`` splits it; None otherwise."""
    text = " ".join((question_only(question) or question).split())
    for match in _CHAIN_OPENING.finditer(text):
        name = match.group("name").rstrip(".'")
        if len(split_links(text, name)) > 1:
            return name
    return None

"""Questions that count or rank items by categories the documents never write.

"How many of the questions belong to the category 'location'?", over lines that say
nothing of their category, cannot be answered by searching: every item must be put in
a category first. A small root model searches for the category names instead (each is
found once, in a header, or nowhere) and answers a count it never computed. This module
recognises such a question, so that the root can be given the program that classifies
the items and counts the labels.

A question is one when it quotes at least two category names, speaks of categories
(or classes, labels, types, kinds) and asks for a count, a ranking or a comparison, and
when fewer than half of the items name any of them (a category that is written, say a
governing law on every contract, is counted by search; "heating" in a few heating
requests does not make the category written).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rlm_desktop.sandbox.sentences import phrase_pattern

WRITTEN_SHARE = 0.5  # categories named in this share of the items are written data: search, not classify
LINES_PER_LISTING = 20  # documents with this many lines each, on average, are listings: their lines are the items
# A quote that opens does not follow a letter and one that closes is not followed by one: the apostrophe of
# "the question's wording. Is the category 'human being' ..." is no quote (it made "s wording. Is the category"
# a seventh category of every OOLONG comparison until session 10).
QUOTED_NAME = r"(?<!\w)'([^'\n]{1,60})'(?!\w)"
"""A name in single quotes, as a regex with one group (engine/claim_checks.py reads compared names with it)."""
_QUOTED = re.compile(QUOTED_NAME + r"|(?<!\w)\"([^\"\n]{1,60})\"(?!\w)|"
                     r"\u2018([^\u2019\n]{1,60})\u2019(?!\w)|\u201c([^\u201d\n]{1,60})\u201d")
_CATEGORY_WORDS = re.compile(r"\b(categor(?:y|ies)|class(?:es)?|labels?|types?|kinds?)\b", re.IGNORECASE)
_AGGREGATE_WORDS = re.compile(
    r"\b(how many|number of|count|most|least|fewest|fewer|more|less|rarest|commonest|largest|smallest|frequen\w*|"
    r"share|proportion|percentage)\b",
    re.IGNORECASE)


def quoted_categories(question: str) -> list[str]:
    """The quoted names of a question, in order of first appearance, each once (case kept)."""
    names: list[str] = []
    for match in _QUOTED.finditer(question):
        name = next(group for group in match.groups() if group is not None).strip()
        if name and name.casefold() not in (n.casefold() for n in names):
            names.append(name)
    return names


def unwritten_categories(question: str, texts: Iterable[str]) -> list[str] | None:
    """The categories to classify items into when ``question`` counts or ranks by categories that the items
    of ``texts`` (see :func:`items_are_lines`) do not write; None for any other question."""
    names = quoted_categories(question)
    if len(names) < 2 or not _CATEGORY_WORDS.search(question) or not _AGGREGATE_WORDS.search(question):
        return None
    documents = list(texts)
    items = ([line for text in documents for line in text.splitlines() if line.strip()]
             if items_are_lines(documents) else documents)
    written = re.compile("|".join(phrase_pattern(name).pattern for name in names), re.IGNORECASE)
    if not items or sum(1 for item in items if written.search(item)) >= WRITTEN_SHARE * len(items):
        return None
    return names


def items_are_lines(texts: Sequence[str]) -> bool:
    """Whether the items of ``texts`` are their lines (one document, or documents that are lists of many
    short lines: a log, an export, a register) rather than the documents themselves."""
    lines = sum(text.count("\n") + 1 for text in texts)
    return len(texts) == 1 or lines >= LINES_PER_LISTING * len(texts)


@dataclass(frozen=True)
class Listing:
    """Lines that all split into the same fields: classify the free-text field, not the whole line."""

    separator: str
    separators: int   # how many times each line holds the separator
    text_field: int   # the field with the longest text on average
    lead: str = ""    # a "Key: " that every value of that field begins with

    def keeps(self, line: str) -> bool:
        return line.count(self.separator) == self.separators

    def text(self, line: str) -> str:
        return line.split(self.separator)[self.text_field].removeprefix(self.lead)


LISTING_SEPARATORS = (" || ", " | ", "\t", " ; ")
_LISTING_SHARE = 0.9  # of the non-empty lines that must split alike
_LISTING_MIN_LINES = 20
_LEAD = re.compile(r"\s*\w[\w ]{0,30}: ")  # "Instance: ", "Comment: "
_NO_LEAD = re.compile("")


def listing_of(lines: Sequence[str]) -> Listing | None:
    """How ``lines`` split into fields, when at least nine in ten of them (and 20 or more) split alike on one
    of :data:`LISTING_SEPARATORS`; None for prose. A date or an id beside each text makes every line distinct,
    so classifying whole lines asks the helper model once per line instead of once per distinct text."""
    kept = [line for line in lines if line.strip()]
    if len(kept) < _LISTING_MIN_LINES:
        return None
    for separator in LISTING_SEPARATORS:
        counts = Counter(line.count(separator) for line in kept)
        separators, lines_alike = counts.most_common(1)[0]
        if separators == 0 or lines_alike < _LISTING_SHARE * len(kept):
            continue
        fields = [line.split(separator) for line in kept if line.count(separator) == separators]
        lengths = [sum(len(parts[i]) for parts in fields) for i in range(separators + 1)]
        text_field = max(range(separators + 1), key=lengths.__getitem__)
        leads = {(_LEAD.match(parts[text_field]) or _NO_LEAD).group(0) for parts in fields}
        return Listing(separator, separators, text_field, leads.pop() if len(leads) == 1 else "")
    return None

"""A question's date bound ("dated after Feb 08, 2023") over items that each carry a date in one format.

A count by categories of only the items after (or before) a date needs the items filtered by their
own dates before classifying them; a 1.5B root never wrote that filter (sessions 9-10: every
count-after-date question was answered with the count of all items). :func:`date_bound` finds the
bound in the question and the format the items write their dates in, so that the program given to
the root (engine/prompts.category_program) can filter with plain ``datetime.strptime`` code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

# (regex of one date as written, its strptime format): checked in this order
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    (r"\b\d{4}-\d{2}-\d{2}\b", "%Y-%m-%d"),
    (r"\b[A-Z][a-z]{2} \d{1,2}, \d{4}\b", "%b %d, %Y"),
    (r"\b[A-Z][a-z]{3,8} \d{1,2}, \d{4}\b", "%B %d, %Y"),
    (r"\b\d{1,2} [A-Z][a-z]{3,8} \d{4}\b", "%d %B %Y"),
    (r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", "%d %b %Y"),
)
_AFTER = ("after", "since", "later than")
_BEFORE = ("before", "prior to", "earlier than")
_BOUND_WORD = re.compile(r"\b(after|since|later than|before|prior to|earlier than)\s+(?:the\s+)?$", re.IGNORECASE)
ITEM_SHARE = 0.9  # of the items that must write a date in the format found


@dataclass(frozen=True)
class DateBound:
    """Items whose date is ``op`` ("after" or "before") ``date``; their dates match ``pattern``, read with ``fmt``."""

    op: str
    date: dt.date
    pattern: str
    fmt: str


def _parse(text: str, fmt: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def date_bound(question: str, items: Sequence[str]) -> DateBound | None:
    """The date bound of ``question`` when nearly all ``items`` write a date in one known format; else None."""
    bound: tuple[str, dt.date] | None = None
    for pattern, fmt in DATE_FORMATS:
        for match in re.finditer(pattern, question):
            word = _BOUND_WORD.search(question[:match.start()])
            when = _parse(match.group(0), fmt)
            if word and when:
                bound = ("after" if word.group(1).lower() in _AFTER else "before", when)
                break
        if bound:
            break
    if bound is None or not items:
        return None
    for pattern, fmt in DATE_FORMATS:
        dated = 0
        for item in items:
            found = re.search(pattern, item)
            dated += bool(found and _parse(found.group(0), fmt))
        if dated >= ITEM_SHARE * len(items):
            return DateBound(bound[0], bound[1], pattern, fmt)
    return None


def filter_code(bound: DateBound, items: str = "items") -> str:
    """REPL code that keeps the items of ``items`` (a variable) whose date is within ``bound``."""
    sign = ">" if bound.op == "after" else "<"
    day = f"datetime.date({bound.date.year}, {bound.date.month}, {bound.date.day})"
    return (f"{items} = [item for item in {items} if re.search(r'{bound.pattern}', item) and "
            f"datetime.datetime.strptime(re.search(r'{bound.pattern}', item).group(0), '{bound.fmt}').date() "
            f"{sign} {day}]  # only the items dated {bound.op} {bound.date:%b %d, %Y}")

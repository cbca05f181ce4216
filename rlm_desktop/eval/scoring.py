"""The paper's scoring rules, applied to a model's free-text answer.

- exact match after normalisation (case, surrounding quotes/punctuation, an
  ``Answer:`` lead-in, a closing citation such as "(doc_00085.txt, page 1)", runs of whitespace);
- numeric answers: ``0.75 ** |y - y_hat|`` on the first integer in the answer;
- pairs: F1 between the set of pairs in the answer and the gold set (order inside a
  pair and between pairs does not matter);
- multiple choice: 1 when the chosen letter (or the choice's exact text) is right.
"""

from __future__ import annotations

import re

_LEAD_IN = re.compile(r"^(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*[:=]?\s*", re.IGNORECASE)
_EDGE = " \t\r\n\"'`.,;:!*"
# "(doc_00085.txt, page 1)" or "(lease.md, pages 2 and 3)" closing an answer: where it comes from, not what it is
_CLOSING_CITATION = re.compile(r"\s*\([^()]*\.[A-Za-z]{2,5}\b[^()]*\)\W*$")


def normalize(text: str) -> str:
    """Lower-case, drop an ``Answer:`` lead-in, edge quotes/punctuation, extra spaces."""
    text = str(text).strip().strip(_EDGE)
    text = _CLOSING_CITATION.sub("", text)
    text = _LEAD_IN.sub("", text)
    text = text.strip(_EDGE)
    return re.sub(r"\s+", " ", text).lower()


def exact_match(prediction: str, gold: str) -> float:
    return 1.0 if normalize(prediction) == normalize(gold) else 0.0


_INT = re.compile(r"-?\d[\d,]*")


def first_integer(text: str) -> int | None:
    """First integer written in ``text`` (``1,204`` reads as 1204); None if there is none."""
    match = _INT.search(str(text))
    if not match:
        return None
    digits = match.group(0).replace(",", "")
    try:
        return int(digits)
    except ValueError:
        return None


def numeric_score(prediction: str, gold: int) -> float:
    """OOLONG's partial credit: ``0.75 ** |gold - predicted|``; 0 when no number is given."""
    value = first_integer(prediction)
    if value is None:
        return 0.0
    return 0.75 ** abs(int(gold) - value)


_PAIR = re.compile(r"\(\s*([A-Za-z0-9_-]+)\s*,\s*([A-Za-z0-9_-]+)\s*\)")


def parse_pairs(text: str) -> set[tuple[str, str]]:
    """Every ``(a, b)`` written in ``text``, as unordered pairs (sorted tuples)."""
    return {_canonical(a, b) for a, b in _PAIR.findall(str(text)) if a != b}


def _canonical(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def pairs_f1(prediction: str, gold: list[tuple[str, str]]) -> float:
    """F1 between the pairs in ``prediction`` and ``gold``; both empty scores 1."""
    predicted = parse_pairs(prediction)
    expected = {_canonical(str(a), str(b)) for a, b in gold}
    if not predicted and not expected:
        return 1.0
    if not predicted or not expected:
        return 0.0
    true_positives = len(predicted & expected)
    if true_positives == 0:
        return 0.0
    precision = true_positives / len(predicted)
    recall = true_positives / len(expected)
    return 2 * precision * recall / (precision + recall)


_LETTER_PATTERNS = (
    re.compile(r"^\(?([A-Z])\)?(?:[.:)\s]|$)"),
    re.compile(r"(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-Z])\)?(?:\W|$)", re.IGNORECASE),
)


def chosen_letter(prediction: str, choices: list[str]) -> str | None:
    """The option letter a free-text answer picks: ``B``, ``(B)``, ``Answer: B`` or a choice's text."""
    text = str(prediction).strip().strip("\"'`*")
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    for pattern in _LETTER_PATTERNS:
        match = pattern.search(text)
        if match and match.group(1).upper() in letters:
            return match.group(1).upper()
    wanted = normalize(text)
    for letter, choice in zip(letters, choices):
        if wanted == normalize(choice):
            return letter
    return None


def choice_score(prediction: str, gold_letter: str, choices: list[str]) -> float:
    return 1.0 if chosen_letter(prediction, choices) == gold_letter else 0.0

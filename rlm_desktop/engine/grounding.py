"""Is a written answer grounded in what the root has actually seen?

A small root model sometimes answers with FINAL before it has found anything, inventing a
figure. A number in a FINAL written as text must appear in some printed output (or in the
question); otherwise the FINAL is refused once and the model is told which figure it could
not have seen. Answers computed by code (FINAL inside a cell, FINAL_VAR) are not checked:
the code is their evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_FIGURE = re.compile(r"\d[\d,.' ]*\d|\d")


def _digits(text: str) -> str:
    return re.sub(r"[,.' ]", "", text)


def unsupported_figures(answer: str, seen: Iterable[str]) -> list[str]:
    """The numbers in ``answer`` that appear in none of the ``seen`` texts (separators ignored)."""
    figures = [match.group(0).strip() for match in _FIGURE.finditer(answer)]
    if not figures:
        return []
    haystack = " ".join(_digits(text) for text in seen)
    missing = []
    for figure in figures:
        digits = _digits(figure)
        if digits and digits not in haystack and figure not in missing:
            missing.append(figure)
    return missing


def ungrounded_final_note(figures: list[str], outputs_seen: int, *, nothing_found: bool = False) -> str:
    """What the root is told when its FINAL is refused."""
    if nothing_found and not figures:
        return ("FINAL refused: your searches have found no passage yet, so the answer cannot rest on the "
                "documents. Search again with one distinctive word, a word stem or other key words.")
    if not outputs_seen:
        return ("FINAL refused: you have not run any code yet, so the answer cannot come from the documents. "
                "Search for it first.")
    shown = ", ".join(repr(f) for f in figures[:5])
    return (f"FINAL refused: {shown} appears in none of the output you have printed, so it is not evidence. "
            "Find the passage with code and print it, then answer from it.")

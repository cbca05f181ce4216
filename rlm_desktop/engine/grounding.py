"""Is a written answer grounded in what the root has actually seen?

A small root model sometimes answers with FINAL before it has found anything, inventing a
figure. A number in a FINAL written as text must appear in some printed output (or in the
question); otherwise the FINAL is refused once and the model is told which figure it could
not have seen. Answers computed by code (FINAL inside a cell, FINAL_VAR) are not checked:
the code is their evidence.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

_CITATION_MARK = re.compile(r"\[\d{1,2}\]")
_FIGURE = re.compile(r"\d[\d,.' ]*\d|\d")


def _digits(text: str) -> str:
    return re.sub(r"[,.' ]", "", text)


def unsupported_figures(answer: str, cells: Iterable[tuple[str, str]], question: str = "") -> list[str]:
    """The numbers in ``answer`` that no cell's output showed (separators ignored).

    ``cells`` are (code, output) pairs. A figure only counts as shown when the cell's code did not
    write it itself: ``print("GBP 21")`` is not evidence of GBP 21.
    """
    answer = _CITATION_MARK.sub(" ", answer)  # "[1]" points at a citation; it is not a figure
    figures = [match.group(0).strip() for match in _FIGURE.finditer(answer)]
    if not figures:
        return []
    asked = _numbers(question)
    shown = [_evidence(code, output) for code, output in cells]
    missing = []
    for figure in figures:
        digits = _digits(figure)
        if not digits or digits in asked or figure in missing:
            continue
        if not any(_shows(digits, numbers, text) for numbers, text in shown):
            missing.append(figure)
    return missing


def _evidence(code: str, output: str) -> tuple[set[str], str]:
    """The numbers of the output lines that the code did not write out itself (an echo is no evidence)."""
    echoes = _echoed_lines(code)
    lines = [line for line in output.splitlines() if line.strip() and line.strip() not in echoes]
    text = "\n".join(lines)
    return _numbers(text), _digits(text)


def _echoed_lines(code: str) -> set[str]:
    """The lines that ``print`` calls of nothing but literals write: ``print("GBP", 21)`` -> "GBP 21"."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    echoes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" \
                and node.args and all(isinstance(arg, ast.Constant) for arg in node.args):
            echoes.add(" ".join(str(arg.value) for arg in node.args).strip())  # type: ignore[attr-defined]
    return echoes


def _numbers(text: str) -> set[str]:
    return {_digits(match.group(0)) for match in _FIGURE.finditer(text)}


def _shows(digits: str, numbers: set[str], text: str) -> bool:
    """A whole number of the output, or (4+ digits) part of one: "21" is not shown by "212,000"."""
    return digits in numbers or (len(digits) >= 4 and digits in text)


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

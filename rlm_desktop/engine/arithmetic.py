"""Sums and differences an answer writes out ("5 + 25 = 30 words"), checked in code.

A root that adds two figures it has printed and writes the working is grounded in them: its result is no
invented figure when the arithmetic is right, and it is a slip to point out when it is wrong. Only written
equations count; a bare result ("30 words") still has to be printed by code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rlm_desktop.sandbox.values import parse_number

_NUMBER = r"\d{1,3}(?:[,.' ]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNIT = r"(?:[A-Z]{3}\s*|[€$£]\s*)?"
_TERM = rf"{_UNIT}(?:{_NUMBER})(?:\s*[A-Za-z%]{{1,12}})??"
_EQUATION = re.compile(rf"(?P<terms>{_TERM}(?:\s*[+\-\u2212]\s*{_TERM})+)\s*=\s*{_UNIT}(?P<result>{_NUMBER})")
_OPERAND = re.compile(rf"(?P<sign>[+\-\u2212])?\s*{_UNIT}(?P<number>{_NUMBER})")


@dataclass(frozen=True)
class Equation:
    """One written sum or difference: its span in the answer, its result as written, whether it is right."""

    start: int
    end: int
    result: str
    right: bool
    computed: float


def written_equations(answer: str) -> list[Equation]:
    """The sums and differences ``answer`` writes with their result ("212,000 + 540,000 = 752,000")."""
    found = []
    for match in _EQUATION.finditer(answer):
        total = 0.0
        for operand in _OPERAND.finditer(match.group("terms")):
            value = _value(operand.group("number"))
            if value is None:
                break
            total += -value if operand.group("sign") in ("-", "\u2212") else value
        else:
            result = _value(match.group("result"))
            if result is None:
                continue
            right = abs(result - total) <= 1e-6 * max(1.0, abs(total))
            found.append(Equation(match.start(), match.end(), match.group("result"), right, total))
    return found


def computed_results(answer: str) -> list[str]:
    """The results, as written, of the sums and differences the answer computes correctly."""
    return [eq.result for eq in written_equations(answer) if eq.right]


def wrong_sum_note(answer: str) -> str | None:
    """What the root is told when a sum or difference its answer writes is wrong; None when none is."""
    wrong = [eq for eq in written_equations(answer) if not eq.right]
    if not wrong:
        return None
    eq = wrong[0]
    computed = f"{eq.computed:,.0f}" if float(eq.computed).is_integer() else f"{eq.computed:,.2f}"
    return (f"FINAL refused: your answer writes \"{answer[eq.start:eq.end]}\", but that comes to {computed}, not "
            f"{eq.result}. Answer again with FINAL(...), with the figures added correctly.")


def _value(text: str) -> float | None:
    value = parse_number(text)
    if value is None:
        digits = re.sub(r"[^\d.]", "", text)
        try:
            return float(digits) if digits else None
        except ValueError:
            return None
    return value

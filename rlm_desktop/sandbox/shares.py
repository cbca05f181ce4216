"""A row's share of a table column's total: "what share of 2024 revenue came from Kestrel?".

A small root model asked for such a share reads the figures into code by hand and loses
digits (23480000 became 2,348,000), invents column names, or sums a "Total" row with the
rows it totals. :func:`row_share` does the whole computation from a table's rows: the rows
that mention a name, a numeric column (the only one, when the caller names none), and the
total over every row that is not itself a total.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlm_desktop.sandbox.sentences import phrase_pattern

_TOTAL_ROW = re.compile(r"^\s*(grand )?(total|sum)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Share:
    """The rows that mention a name, their sum in one column, and that column's total."""

    names: list[str]     # the matched rows' first text cells
    column: str
    part: float
    total: float
    rows_counted: int

    @property
    def percent(self) -> float:
        return 100.0 * self.part / self.total if self.total else 0.0

    def describe(self) -> str:
        """'Kestrel Shipping A/S: 7,420,000 of 23,480,000 (revenue_eur_2024, 8 rows) = 31.6%'."""
        return (f"{', '.join(self.names)}: {_figure(self.part)} of {_figure(self.total)} ({self.column}, "
                f"{self.rows_counted} rows) = {self.percent:.1f}%")


def row_share(rows: Sequence[Mapping[str, Any]], name: str, column: str | None = None) -> Share:
    """The share of ``column``'s total held by the rows that mention ``name`` (whole words, any case) in a
    text cell. ``column`` may be left out when the table has one numeric column. A row whose text says it is
    a total ("Total", "Grand total", "Sum") is left out of both sums. A ValueError says what is missing."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("share_of(table, name): name must be a non-empty str, e.g. 'Kestrel'")
    data = [row for row in rows if not any(isinstance(v, str) and _TOTAL_ROW.match(v) for v in row.values())]
    if not data:
        raise ValueError("share_of(): the table has no rows")
    numeric = numeric_columns(data)
    column = _column(column, numeric, list(data[0]))
    pattern = phrase_pattern(name)
    matched = [row for row in data if any(isinstance(v, str) and pattern.search(v) for v in row.values())]
    if not matched:
        shown = ", ".join(repr(_first_text(row)) for row in data[:12])
        raise ValueError(f"share_of(): no row mentions {name!r}; the rows are {shown}"
                         + (" ..." if len(data) > 12 else ""))
    part = sum(float(row[column]) for row in matched)
    total = sum(float(row[column]) for row in data)
    return Share([_first_text(row) for row in matched], column, part, total, len(data))


def numeric_columns(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns that hold a number in every row (a total row's included)."""
    if not rows:
        return []
    return [key for key in rows[0] if key != "sheet" and all(_is_number(row.get(key)) for row in rows)]


def _column(column: str | None, numeric: list[str], columns: list[str]) -> str:
    if column is None:
        if len(numeric) != 1:
            raise ValueError(f"share_of(table, name, column): name the column; the numeric columns are "
                             f"{', '.join(repr(c) for c in numeric) or 'none'}")
        return numeric[0]
    found = [c for c in columns if c.casefold() == str(column).strip().casefold()]
    if not found:
        raise KeyError(f"no column {column!r}; the columns are {', '.join(repr(c) for c in columns)}")
    if found[0] not in numeric:
        raise ValueError(f"share_of(): column {found[0]!r} is not numeric in every row; the numeric columns are "
                         f"{', '.join(repr(c) for c in numeric) or 'none'}")
    return found[0]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _first_text(row: Mapping[str, Any]) -> str:
    return next((v for k, v in row.items() if k != "sheet" and isinstance(v, str) and v.strip()), "?")


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"

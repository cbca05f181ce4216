"""How the library stores a table (CSV, TSV, spreadsheet) as text, and how to read it back as rows.

A leaf module (no imports from the package): the library writes tables this way, the
sandbox's ``table()`` helper reads them back, and the engine's description of the context
says which documents are tables and how to read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

CELL_SEPARATOR = " | "
"""Between the cells of one row; each row is one line."""
SHEET_HEADING = "# Sheet: "
"""Starts each sheet of a workbook; the sheet's first row follows it."""
TABLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".xls", ".ods")

_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


class Row(dict):
    """One row of a table: a dict whose missing column names the columns it has."""

    def __missing__(self, key: object) -> Any:
        raise KeyError(f"no column {key!r}; the columns are {', '.join(repr(k) for k in self)}")


@dataclass(frozen=True)
class Table:
    """One sheet of a table document: its column names and its rows, each a dict keyed by column."""

    sheet: str | None
    columns: list[str]
    rows: list[Row] = field(default_factory=list)


def is_table_name(name: str) -> bool:
    """Whether a document of this name was stored as a table."""
    return name.lower().endswith(TABLE_SUFFIXES)


def sheet_count(text: str) -> int:
    """How many sheets a stored table document has (a CSV has one), without parsing its rows."""
    return max(1, text.startswith(SHEET_HEADING) + text.count("\n" + SHEET_HEADING))


def cell_value(cell: str) -> int | float | str:
    """A cell as a number when it is one ("7420000", "7,420,000", "-3.5"), else the text as it is."""
    text = cell.strip()
    if not _NUMBER.fullmatch(text):
        return text
    plain = text.replace(",", "")
    return float(plain) if "." in plain else int(plain)


def parse_tables(text: str) -> list[Table]:
    """The sheets of a stored table document; the first row of each sheet names its columns."""
    tables: list[Table] = []
    sheet: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(SHEET_HEADING):
            if lines:
                tables.append(_table(sheet, lines))
            sheet, lines = line[len(SHEET_HEADING):].strip(), []
        elif line.strip():
            lines.append(line)
    if lines:
        tables.append(_table(sheet, lines))
    return tables


def _table(sheet: str | None, lines: list[str]) -> Table:
    columns = _column_names(lines[0].split(CELL_SEPARATOR))
    rows = []
    for line in lines[1:]:
        cells = line.split(CELL_SEPARATOR)
        while len(columns) < len(cells):  # a row wider than the header: name the extra cells by position
            columns.append(f"column_{len(columns) + 1}")
        rows.append(Row({name: cell_value(cells[i]) if i < len(cells) else "" for i, name in enumerate(columns)}))
    return Table(sheet, columns, rows)


def _column_names(cells: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = cell.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:  # two columns of one name keep both: "amount", "amount_2"
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def table_rows(text: str) -> list[Row]:
    """Every row of every sheet; with more than one sheet each row also gets its sheet's name as "sheet"."""
    tables = parse_tables(text)
    if len(tables) < 2:
        return [row for table in tables for row in table.rows]
    return [Row({"sheet": table.sheet, **row}) for table in tables for row in table.rows]

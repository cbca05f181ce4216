"""Tables as the library stores them (rows as lines, cells joined by ' | '), read back as rows."""

from __future__ import annotations

from rlm_desktop.tables import cell_value, parse_tables, sheet_count, table_rows


def test_cells_that_are_numbers_become_numbers_and_the_rest_stays_text() -> None:
    assert [cell_value(c) for c in ("7420000", "7,420,000", " -3.5 ", "1,5", "EUR 10", "31.6%", "")] == [
        7420000, 7420000, -3.5, "1,5", "EUR 10", "31.6%", ""]


def test_sheets_short_and_wide_rows_and_repeated_column_names() -> None:
    text = ("# Sheet: A\nname | amount | amount\nx | 1 | 2\ny\n\n"
            "# Sheet: B\nk | v\nz | 3 | extra\n")
    a, b = parse_tables(text)
    assert (a.sheet, a.columns) == ("A", ["name", "amount", "amount_2"])
    assert a.rows == [{"name": "x", "amount": 1, "amount_2": 2}, {"name": "y", "amount": "", "amount_2": ""}]
    assert (b.sheet, b.columns, b.rows) == ("B", ["k", "v", "column_3"], [{"k": "z", "v": 3, "column_3": "extra"}])
    assert table_rows(text)[2] == {"sheet": "B", "k": "z", "v": 3, "column_3": "extra"}
    assert table_rows("a | b\n1 | 2\n") == [{"a": 1, "b": 2}]
    assert parse_tables("") == []
    assert (sheet_count(text), sheet_count("a | b\n1 | 2\n"), sheet_count("")) == (2, 1, 1)


def test_a_missing_column_is_a_key_error_that_names_the_columns() -> None:
    row = table_rows("customer | revenue\nKestrel | 7\n")[0]
    assert row == {"customer": "Kestrel", "revenue": 7} and row.get("supplier") is None
    try:
        row["supplier"]
    except KeyError as exc:
        assert "no column 'supplier'; the columns are 'customer', 'revenue'" in str(exc)
    else:
        raise AssertionError("a missing column must raise KeyError")

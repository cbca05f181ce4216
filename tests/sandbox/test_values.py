"""Amounts and dates parsed in code for the operators."""

import pytest

from rlm_desktop.sandbox.values import amounts_in, format_amount, parse_amount, parse_date, parse_number


@pytest.mark.parametrize("text, expected", [
    ("rent of EUR 540,000 per year", ("EUR", 540_000.0)), ("£310,000", ("GBP", 310_000.0)),
    ("EUR 8.9 million", ("EUR", 8_900_000.0)), ("1.250.000 EUR", ("EUR", 1_250_000.0)),
    ("USD 12,500.50", ("USD", 12_500.5)), ("CHF 2 bn", ("CHF", 2e9)), ("in 2024 we grew", None),
])
def test_amounts_are_read_with_their_currency_or_not_at_all(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1 March 2025", "2025-03-01"), ("March 1, 2025", "2025-03-01"), ("until 2031-12-31", "2031-12-31"),
    ("on 03/04/2025", "2025-04-03"), ("on 02/13/2025", "2025-02-13"), ("the 31st of December 2030", "2030-12-31"),
    ("le 4 mai 2021", "2021-05-04"), ("am 1. Juli 2022", "2022-07-01"), ("31 February 2024", None), ("in 2024", None),
])
def test_dates_are_read_as_iso(text, expected):
    assert parse_date(text) == expected


def test_numbers_and_formatting():
    assert parse_number("1,000,000") == 1e6 and parse_number("8,5") == 8.5 and parse_number("1,000,5") is None
    assert format_amount("EUR", 8_909_000.0) == "EUR 8,909,000" and format_amount("GBP", 1.5) == "GBP 1.50"


def test_every_amount_of_a_text_is_found_with_the_words_that_write_it():
    text = "Annual rent of EUR 540,000 per year, a deposit of 45.000 € and no fee in dollars."
    assert amounts_in(text) == [(("EUR", 540_000.0), "EUR 540,000"), (("EUR", 45_000.0), "45.000 €")]


def test_a_figure_with_two_kinds_of_separator_is_no_number_and_raises_nothing():
    assert parse_number("1,000 000") is None and parse_number("1.000.5") is None


def test_parse_count_reads_a_number_in_digits_or_words_with_its_unit():
    from rlm_desktop.sandbox.values import parse_count, same_unit

    assert parse_count("five words") == (5.0, "words")
    assert parse_count("up to twenty-five words") == (25.0, "words")
    assert parse_count("30", "days after notice") == (30.0, "days")
    assert parse_count("three (3) years") == (3.0, "years")
    assert parse_count("2", "per year") == (2.0, "")
    assert parse_count("1,250 employees") == (1250.0, "employees")
    assert parse_count("one hundred words") == (100.0, "words")
    assert parse_count("not stated") is None
    assert same_unit("Days") == same_unit("day") and same_unit("class") == "class"

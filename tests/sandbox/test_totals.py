"""Amounts of money in text, the amount next to a phrase, and what a "total X under all Y" question asks."""

from __future__ import annotations

import re

from rlm_desktop.sandbox.totals import about, amounts_in, phrase_amount, total_request, total_text


def test_amounts_are_read_with_their_currency_scale_and_place() -> None:
    found = amounts_in("a fee of EUR 1,200,000, a deposit of GBP 2.5 million and 450,000 NOK; in 2024, 17 items")
    assert [(a.text, a.currency, a.value) for a in found] == [
        ("EUR 1,200,000", "EUR", 1_200_000.0), ("GBP 2.5 million", "GBP", 2_500_000.0), ("450,000 NOK", "NOK", 450_000.0)]
    assert [(a.currency, a.value) for a in amounts_in("\u20ac300 and \u00a312k")] == [("EUR", 300.0), ("GBP", 12_000.0)]


def test_the_phrase_amount_is_the_first_amount_after_it_in_the_same_sentence() -> None:
    text = ("The liability cap is EUR 5,000,000. The annual fee is payable quarterly. "
            "2. Fees. The Company shall pay an annual fee of EUR 113,000, invoiced quarterly.")
    match, amount = phrase_amount(text, re.compile("annual fee", re.IGNORECASE))
    assert amount.text == "EUR 113,000" and text[match.start():match.end()] == "annual fee"
    assert match.start() > text.index("2. Fees")  # the first mention has no amount in its sentence
    assert phrase_amount("The annual fee is set out in Schedule 2. EUR 9,000 is the deposit.",
                         re.compile("annual fee")) is None


def test_a_total_question_names_what_to_add_and_over_which_documents() -> None:
    asked = total_request("What is the total annual fee payable under all Licence Agreements, in EUR?")
    assert (asked.what, asked.where) == ("annual fee", "Licence Agreement")
    asked = total_request("What is the combined deposit across every office lease?")
    assert (asked.what, asked.where) == ("deposit", "office lease")
    asked = total_request("Give the sum of the monthly rent due under all of the warehouse leases signed in 2023.")
    assert (asked.what, asked.where) == ("monthly rent", "warehouse lease")
    assert total_request("What is the total purchase price?") is None
    assert total_request("What is the escrow amount agreed with the buyer?") is None
    assert total_request("What is the aggregate liability under all policies?").where == "policy"


def test_a_document_is_about_a_kind_by_its_name_or_its_opening() -> None:
    assert about("019_licence_agreement_calder.md", "...", "licence agreement")
    assert about("lease-2.pdf", "OFFICE LEASE\n\nThis office\n lease is made ...", "office lease")
    assert not about("supply.md", "SUPPLY AGREEMENT ... " + "x" * 400 + " licence agreement", "licence agreement")


def test_a_total_is_written_as_the_documents_write_amounts() -> None:
    assert total_text([113_000.0, 214_000.0, 125_000.0]) == "452,000"
    assert total_text([12.25, 0.25]) == "12.50"

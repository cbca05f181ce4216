"""The paper's scoring rules on known answers."""

from __future__ import annotations

import pytest

from rlm_desktop.eval.scoring import (chosen_letter, choice_score, exact_match, normalize, numeric_score,
                                      pairs_f1, parse_pairs)


def test_exact_match_ignores_case_quotes_lead_in_and_trailing_dot():
    assert exact_match("Answer: \"Zantrixton\".", "Zantrixton") == 1.0
    assert exact_match("  the answer is 4829173 ", "4829173") == 1.0
    assert exact_match("Zantrixtown", "Zantrixton") == 0.0
    assert normalize("Numeric   Value") == "numeric value"


def test_exact_match_ignores_a_closing_citation_but_not_other_brackets():
    assert exact_match("Kaseli Partners (doc_00085.txt, page 1).", "Kaseli Partners") == 1.0
    assert exact_match("Eva Lind (lease.md, pages 2 and 3)", "eva lind") == 1.0
    assert exact_match("3.5 (approx)", "3.5") == 0.0
    assert exact_match("Kaseli Partners (doc_00085.txt, page 1) and Galden", "Kaseli Partners") == 0.0


def test_numeric_score_is_three_quarters_to_the_distance():
    assert numeric_score("42", 42) == 1.0
    assert numeric_score("There are 40 of them.", 42) == pytest.approx(0.75 ** 2)
    assert numeric_score("1,204", 1204) == 1.0
    assert numeric_score("no idea", 42) == 0.0


def test_pairs_f1_ignores_order_and_counts_partial_overlap():
    gold = [("11", "22"), ("11", "33"), ("22", "33")]
    assert pairs_f1("(22, 11)\n(33,11)\n(22, 33)", gold) == 1.0
    # two right out of three predicted, two of three found: P = R = 2/3
    assert pairs_f1("(11, 22) (11, 33) (44, 55)", gold) == pytest.approx(2 / 3)
    assert pairs_f1("none", gold) == 0.0
    assert pairs_f1("", []) == 1.0
    assert parse_pairs("(5, 5) (7, 6)") == {("6", "7")}


def test_choice_reads_letter_forms_and_choice_text():
    choices = ["json/decoder.py", "json/encoder.py", "email/utils.py", "http/client.py"]
    assert chosen_letter("B", choices) == "B"
    assert chosen_letter("(C)", choices) == "C"
    assert chosen_letter("The answer is D.", choices) == "D"
    assert chosen_letter("email/utils.py", choices) == "C"
    assert chosen_letter("I cannot tell", choices) is None
    assert choice_score("A) json/decoder.py", "A", choices) == 1.0
    assert choice_score("B", "A", choices) == 0.0

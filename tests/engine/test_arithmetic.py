"""Sums an answer writes out, checked in code, and what the answer checks make of them."""

from __future__ import annotations

from rlm_desktop.engine.answer_checks import Seen, objection
from rlm_desktop.engine.arithmetic import computed_results, written_equations, wrong_sum_note
from rlm_desktop.engine.grounding import unsupported_figures
from rlm_desktop.engine.reading_checks import adds_in_writing

CELLS = [('print(grep(r"Cover Text"))', "GFDL-1.2 1 A Front-Cover Text may be at most 5 words, and a Back-Cover Text "
          "may be at most 25 words.")]


def test_written_sums_and_differences_are_computed_with_their_units_and_currencies():
    assert computed_results("5 + 25 = 30 words in total") == ["30"]
    assert computed_results("EUR 212,000 + EUR 540,000 = EUR 752,000 a year") == ["752,000"]
    assert computed_results("60 days + 30 days = 90 days") == ["90"]
    assert computed_results("from 2019 to 2025: 2025 - 2019 = 6 years") == ["6"]
    assert computed_results("30 words") == [] and computed_results("1 + 2 + 3 = 7") == []
    wrong = written_equations("1 + 2 + 3 = 7")[0]
    assert not wrong.right and wrong.computed == 6.0


def test_a_right_written_sum_of_shown_figures_is_grounded_and_a_bare_or_wrong_one_is_not():
    assert unsupported_figures("5 + 25 = 30 words (GFDL-1.2, page 1)", CELLS) == []
    assert unsupported_figures("30 words (GFDL-1.2, page 1)", CELLS) == ["30"]
    assert unsupported_figures("5 + 25 = 35 words", CELLS) == ["35"]
    assert unsupported_figures("5 + 26 = 31 words", CELLS) == ["26"]  # a term must have been shown


def test_a_wrong_sum_is_refused_with_its_right_value_and_a_right_one_of_three_terms_is_not_arithmetic_in_writing():
    note = wrong_sum_note("EUR 212,000 + EUR 540,000 = EUR 742,000")
    assert note is not None and "752,000, not 742,000" in note
    assert wrong_sum_note("5 + 25 = 30") is None
    assert not adds_in_writing("216,000 + 226,000 + 216,000 = 658,000")
    assert adds_in_writing("216,000 + 226,000 + 216,000 = 668,000") and adds_in_writing("1 + 2 + 3")
    seen = Seen(outputs=[CELLS[0][1]], cells=CELLS, hits=[{"source": "grep", "document": "GFDL-1.2"}],
                texts=[CELLS[0][1]], context=None, searched_empty=False)
    assert objection("5 + 25 = 30 words (GFDL-1.2, page 1)", "How many words may the two cover texts have?",
                     seen) is None
    refused = objection("5 + 25 = 20 words", "How many words may the two cover texts have?", seen)
    assert refused is not None and refused.next_turn == "again" and "comes to 30, not 20" in refused.note

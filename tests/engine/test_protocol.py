"""Parsing root turns: repl blocks, FINAL / FINAL_VAR, and the repairs for small models."""

from __future__ import annotations

from rlm_desktop.engine.protocol import FinalDirective, calls_in_answer, final_closed_at, parse_turn, strip_code


def test_repl_block_is_extracted_with_reasoning_around_it():
    turn = parse_turn("Let me look at the size first.\n```repl\nprint(len(context))\n```\nThen I search.")
    assert turn.code_blocks == ["print(len(context))"]
    assert turn.final is None
    assert turn.runnable and not turn.repaired


def test_several_repl_blocks_keep_their_order():
    turn = parse_turn("```repl\na = 1\n```\ntext\n```repl\nprint(a)\n```")
    assert turn.code_blocks == ["a = 1", "print(a)"]


def test_final_on_its_own_line():
    turn = parse_turn("I have checked it twice.\nFINAL(The price is EUR 48.5m (clause 3).)")
    assert turn.final == FinalDirective("The price is EUR 48.5m (clause 3).")
    assert not turn.code_blocks and not turn.repaired


def test_final_var_on_its_own_line():
    turn = parse_turn("Done.\nFINAL_VAR(answer)")
    assert turn.final == FinalDirective("answer", is_variable=True)


def test_final_var_with_quoted_name():
    assert parse_turn('FINAL_VAR("summary")').final == FinalDirective("summary", is_variable=True)


def test_final_with_quoted_string_is_unquoted():
    assert parse_turn('FINAL("4821907")').final == FinalDirective("4821907")


def test_final_inside_code_is_left_to_the_sandbox():
    turn = parse_turn("```repl\nx = 2 + 2\nFINAL(x)\n```")
    assert turn.code_blocks == ["x = 2 + 2\nFINAL(x)"]
    assert turn.final is None


def test_final_in_words_fenced_as_code_is_a_written_final():
    turn = parse_turn("The escrow is smaller.\n```repl\nFINAL(No, 01_spa.md, page 3)\n```")
    assert turn.code_blocks == []
    assert turn.final == FinalDirective("No, 01_spa.md, page 3")
    assert turn.repaired


def test_runnable_final_in_a_code_block_still_runs_in_the_sandbox():
    turn = parse_turn('```repl\nFINAL("No")\n```')
    assert turn.code_blocks == ['FINAL("No")'] and turn.final is None


def test_python_fence_is_repaired_into_code():
    turn = parse_turn("Here is code:\n```python\nprint(context[:100])\n```")
    assert turn.code_blocks == ["print(context[:100])"]
    assert turn.repaired


def test_bare_fence_is_repaired_into_code():
    turn = parse_turn("```\nhits = grep('price')\nprint(hits)\n```")
    assert turn.code_blocks == ["hits = grep('price')\nprint(hits)"]
    assert turn.repaired


def test_repl_blocks_win_over_other_fences():
    turn = parse_turn("```python\nold()\n```\n```repl\nnew()\n```")
    assert turn.code_blocks == ["new()"]
    assert not turn.repaired


def test_output_and_text_fences_are_not_code():
    turn = parse_turn("The output was:\n```text\n42\n```\nFINAL(42)")
    assert turn.code_blocks == []
    assert turn.final == FinalDirective("42")


def test_unclosed_last_fence_is_repaired():
    turn = parse_turn("Searching now.\n```repl\nhits = grep('escrow')\nprint(len(hits))\n")
    assert turn.code_blocks == ["hits = grep('escrow')\nprint(len(hits))"]
    assert turn.repaired


def test_final_inside_prose_is_repaired_when_there_is_no_code():
    turn = parse_turn("After checking, the answer is FINAL(7) because it appears twice.")
    assert turn.final == FinalDirective("7")
    assert turn.repaired


def test_final_inside_prose_is_ignored_next_to_code():
    turn = parse_turn("I will call FINAL(x) once I know x.\n```repl\nx = 3\n```")
    assert turn.final is None
    assert turn.code_blocks == ["x = 3"]


def test_final_on_own_line_next_to_code_counts():
    turn = parse_turn("```repl\nprint(1)\n```\nFINAL(one)")
    assert turn.code_blocks == ["print(1)"]
    assert turn.final == FinalDirective("one")


def test_final_with_nested_parentheses_and_quotes():
    turn = parse_turn('FINAL("Kestrel (ends 2026) said: \\"no\\" (see memo)")')
    assert turn.final == FinalDirective('Kestrel (ends 2026) said: "no" (see memo)')


def test_unbalanced_final_takes_the_rest_of_the_line():
    turn = parse_turn("FINAL(the answer is (a\nmore text")
    assert turn.final == FinalDirective("the answer is (a")


def test_empty_final_is_not_a_final():
    turn = parse_turn("FINAL()")
    assert turn.final is None and not turn.runnable


def test_plain_prose_is_not_runnable():
    turn = parse_turn("I think the answer might be in the lease.")
    assert not turn.runnable and not turn.code_blocks and turn.final is None


def test_strip_code_keeps_only_prose():
    assert strip_code("Answer: 5\n```repl\nprint(5)\n```") == "Answer: 5"


def test_calls_in_answer_finds_whole_repl_calls_written_inside_an_answer():
    names = ["share_of", "table", "grep"]
    assert calls_in_answer("memo.md, share_of(context[5], 'Kestrel') == 0.25).", names) == [
        "share_of(context[5], 'Kestrel')"]
    assert calls_in_answer('x = share_of(table(context[5]), "Kestrel (A/S)")', names) == [
        'share_of(table(context[5]), "Kestrel (A/S)")']  # the outer call only, quotes respected
    assert calls_in_answer("See the table (page 2); grep( is broken", names) == []
    assert calls_in_answer("Not stated: try a word stem, or search() with key words.", names + ["search"]) == []
    assert calls_in_answer("Kestrel, 31.6% (EUR 7,420,000)", names) == []
    assert calls_in_answer("my_grep(x)", names) == []


def test_title_case_final_starting_a_line_counts_and_closes_the_turn():
    turn = ("No, the memo is wrong.\nFinal(No. The memo says roughly a quarter; the table shows 31.6%.)\n\n"
            "FINAL(No. The memo does not state")
    parsed = parse_turn(turn)
    assert parsed.final == FinalDirective("No. The memo says roughly a quarter; the table shows 31.6%.", False)
    assert final_closed_at(turn) == turn.index("31.6%.)") + len("31.6%.)")
    assert parse_turn("The Final(ist) round was won.").final is None  # not at a line's start


def test_a_block_of_written_values_only_is_reported_with_what_it_set():
    from rlm_desktop.engine.prompts import cell_feedback
    from rlm_desktop.engine.protocol import literal_assignments

    assert literal_assignments("total = 814000.00") == ["total = 814000.0"]
    assert literal_assignments("a: int = 3\nb = c = 'x'") == ["a = 3", "b = 'x'", "c = 'x'"]
    assert literal_assignments("names = ['Rydal', 'Orwell']") == ["names = ['Rydal', 'Orwell']"]
    for code in ("total = total_of('fee')", "x = 1\nprint(x)", "x = 1 +", "x, y = 1, 2", "x = y"):
        assert literal_assignments(code) == []
    shown = cell_feedback(0, "", None, cut_from=None, worker_truncated=False, restarted_after=None,
                          assigned=["total = 814000.0"])
    assert "(nothing printed)" in shown
    assert "[the block only set total = 814000.0: values written in it, so nothing was printed]" in shown
    printed = cell_feedback(0, "814000.0", None, cut_from=None, worker_truncated=False, restarted_after=None,
                            assigned=["total = 814000.0"])
    assert "only set" not in printed


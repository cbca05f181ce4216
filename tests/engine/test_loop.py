"""The RLM loop with scripted models and the real sandbox: FINAL, errors, guards, cancel, sub-calls."""

from __future__ import annotations

import threading

import pytest

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Document
from rlm_desktop.engine.answer_checks import UNCONFIRMED_SENTENCE
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.grammar import CODE_TURN_GRAMMAR, FINAL_TURN_GRAMMAR, PLAN_TURN_GRAMMAR, ROOT_TURN_GRAMMAR
from rlm_desktop.sandbox import SandboxLimits


def repl(code: str, reasoning: str = "Next step.") -> str:
    return f"{reasoning}\n```repl\n{code}\n```"


def kinds(result) -> list[str]:
    return [event.kind for event in result.trajectory]


def user_messages(model: ScriptedModel, call: int) -> str:
    return "\n".join(m["content"] for m in model.calls[call] if m["role"] == "user")


def config(**overrides) -> RLMConfig:
    overrides.setdefault("sandbox", SandboxLimits(timeout_s=20.0))
    return RLMConfig(**overrides)


def test_final_in_code_ends_the_run_after_seeing_output():
    root = ScriptedModel([repl("print(len(context))"), repl("FINAL('length ' + str(len(context)))")])
    result = RLM(root, config=config()).run("How long is it?", "abcdefg")
    assert result.answer == "length 7"
    assert result.stopped_by is None
    assert result.iterations == 2
    assert "7" in root.calls[1][-1]["content"]  # the second turn saw the first cell's output
    assert kinds(result)[0] == "run_started" and kinds(result)[-1] == "final"
    assert {"root_turn", "code_cell", "cell_output"} <= set(kinds(result))


def test_root_sees_the_shape_of_the_context_never_its_text():
    docs = [Document("lease.md", "SECRET-RENT-CLAUSE " * 50), Document("memo.md", "short memo")]
    root = ScriptedModel(["FINAL(done)"])
    RLM(root, config=config()).run("What is the rent?", docs)
    prompt = user_messages(root, 0)
    assert "What is the rent?" in prompt
    assert "'lease.md'" in prompt and "'memo.md'" in prompt and "950" in prompt
    assert "list of 2 documents" in prompt
    assert "SECRET-RENT-CLAUSE" not in "".join(m["content"] for m in root.calls[0])


def test_final_var_in_text_reads_the_repl_variable():
    root = ScriptedModel([repl("summary = context.upper()"), "I stored it.\nFINAL_VAR(summary)"])
    result = RLM(root, config=config()).run("Shout it", "quiet words")
    assert result.answer == "QUIET WORDS"
    assert result.stopped_by is None


def test_final_in_text_ends_the_run():
    root = ScriptedModel([repl("print(len(context))"), "The context is tiny, so:\nFINAL(nothing to find)"])
    result = RLM(root, config=config()).run("Anything?", "x")
    assert result.answer == "nothing to find"
    assert result.iterations == 2


def test_a_written_final_before_any_output_is_refused():
    root = ScriptedModel(["FINAL(42)", repl("print(context.count('a'))"), "FINAL(3)"])
    result = RLM(root, config=config()).run("How many a?", "banana")
    assert result.answer == "3" and result.iterations == 3
    assert "FINAL refused: you have not run any code" in root.calls[1][-1]["content"]


def test_a_written_final_with_a_figure_never_printed_is_refused_then_corrected():
    root = ScriptedModel([repl("print(grep('price'))"), "FINAL(The price is EUR 300,000.)",
                          repl("print(context[10:40])"), "FINAL(The price is EUR 48,500,000.)"])
    result = RLM(root, config=config()).run("What is the price?", "The purchase price is EUR 48,500,000 in cash.")
    assert result.answer == "The price is EUR 48,500,000."
    assert "'300,000' appears in none of the output" in root.calls[2][-1]["content"]


def test_a_refused_final_is_taken_after_two_refusals():
    root = ScriptedModel([repl("print('nothing')"), *["FINAL(7)"] * 6])
    result = RLM(root, config=config()).run("Which number?", "no digits here")
    # the first repeat of a refused FINAL is taken back and the next turn sampled, up to three times for an
    # answer the checks accept (none here: the third is the turn)
    assert result.iterations == 5
    assert [o["temperature"] for o in root.options] == [0.0, 0.0, 0.0, 0.7, 0.7, 0.7, 0.0]
    assert len(root.calls[3]) == len(root.calls[2]) == len(root.calls[5])
    taken = [e.reason for e in result.trajectory if e.kind == "turn_taken_back"]
    assert taken == ["refused_again", "sample_failed_checks", "sample_failed_checks"]
    # the user reads one plain sentence; the details are in the trajectory
    assert result.answer == "7\n\n" + UNCONFIRMED_SENTENCE
    final = [e for e in result.trajectory if e.kind == "final"][-1]
    assert final.unconfirmed == ["[Unchecked: '7' appears in none of the text the model read; this answer may "
                                 "not come from the documents.]"]


def test_sampled_turns_draw_the_configured_seeds_in_order_so_a_run_asked_again_samples_alike():
    def run(sampling_seed):
        root = ScriptedModel([repl("print('nothing')"), *["FINAL(7)"] * 6])
        RLM(root, config=config(sampling_seed=sampling_seed)).run("Which number?", "no digits here")
        return [o["seed"] for o in root.options]

    assert run(0) == run(0) == [None, None, None, 0, 1, 2, None]  # greedy turns take no seed
    assert run(40) == [None, None, None, 40, 41, 42, None]
    assert run(None) == [None] * 7  # fresh random numbers, as a user may choose


def test_after_a_refused_answer_written_again_a_sampled_answer_the_checks_accept_is_taken():
    root = ScriptedModel([repl("print(grep('price'))"), "FINAL(EUR 300,000)", "FINAL(EUR 300,000)",
                          "FINAL(EUR 300,000.)", "FINAL(EUR 48,500,000)", "FINAL(never asked)"])
    result = RLM(root, config=config()).run("What is the price?", "The purchase price is EUR 48,500,000 in cash.")
    assert result.answer == "EUR 48,500,000" and result.iterations == 4
    assert [o["temperature"] for o in root.options] == [0.0, 0.0, 0.0, 0.7, 0.7]
    rejected = [e for e in result.trajectory if e.kind == "turn_taken_back" and e.reason == "sample_failed_checks"]
    assert [e.note for e in rejected] == ["FINAL(EUR 300,000.)"]  # a sampled answer with the unprinted figure


def test_an_answer_taken_after_two_refusals_that_echoes_the_question_says_so():
    root = ScriptedModel([repl("print(grep('contract'))"), *["FINAL(memo.md, customer contract)"] * 6])
    result = RLM(root, config=config()).run("Which customer contract ends?", [Document("memo.md", "The contract.")])
    assert result.answer == "memo.md, customer contract\n\n" + UNCONFIRMED_SENTENCE
    final = [e for e in result.trajectory if e.kind == "final"][-1]
    assert "[Unchecked: this answer repeats the question's own words; it does not answer it.]" in final.unconfirmed


def test_a_final_that_holds_a_repl_call_has_the_call_run_and_is_answered_again():
    docs = [Document("memo.md", "Kestrel may terminate on a change of control."),
            Document("sales.md", "Kestrel Shipping paid EUR 742 in 2024.")]
    root = ScriptedModel([repl("print(grep('change of control'))"),
                          "FINAL(Kestrel, grep('Kestrel Shipping'))",
                          "FINAL(Kestrel Shipping, which paid EUR 742 in 2024)"])
    result = RLM(root, config=config()).run("Which customer can terminate, and what did it pay?", docs)
    assert result.answer == "Kestrel Shipping, which paid EUR 742 in 2024" and result.iterations == 3
    told = root.calls[2][-1]["content"]
    assert "it held code (`grep('Kestrel Shipping')`)" in told
    assert "EUR 742" in told  # the call's output, run by the loop
    cells = [event.code for event in result.trajectory if event.kind == "code_cell"]
    assert cells[-1] == "print(grep('Kestrel Shipping'))"


def test_a_final_in_words_that_names_a_helper_is_not_run():
    root = ScriptedModel([repl("print(context)"), "FINAL(The table (page 2) shows the share.)"])
    result = RLM(root, config=config()).run("Where is the share?", "The table on page 2 shows the share.")
    assert result.answer == "The table (page 2) shows the share." and result.iterations == 2


def test_a_failed_block_written_again_unchanged_is_taken_back_and_then_sampled():
    failing = repl("table = 3\nprint(table)")  # refused: table() is a REPL function
    root = ScriptedModel([failing, failing, failing, repl("rows = 3\nprint(rows)"), "FINAL(3 rows)"])
    result = RLM(root, config=config()).run("How many rows?", "a | b\n1 | 2\n3 | 4\n5 | 6")
    assert result.answer == "3 rows" and result.iterations == 5
    second, third = root.calls[2], root.calls[3]
    assert [m["content"] for m in second].count(failing) == 1  # the repeat is not kept in view
    assert "You wrote again, unchanged, a block that failed before, and it failed the same way" in second[-1]["content"]
    assert second == third  # the second repeat is taken back too ...
    assert [o["temperature"] for o in root.options] == [0.0, 0.0, 0.0, 0.7, 0.0]  # ... and the next turn sampled
    taken = [e for e in result.trajectory if e.kind == "turn_taken_back"]
    assert [(e.iteration, e.reason, e.next_sampled) for e in taken] == [(2, "repeated_failure", False),
                                                                       (3, "repeated_failure", True)]


def test_blocks_that_failed_before_are_taken_back_when_they_alternate():
    first, second = repl("print(rows)"), repl("print(cols)")
    root = ScriptedModel([first, second, first, repl("rows = 2\nprint(rows)"), "FINAL(2 rows)"])
    result = RLM(root, config=config()).run("How many rows?", "a | b\n1 | 2\n3 | 4")
    assert result.answer == "2 rows"
    assert len(root.calls[3]) == len(root.calls[2])  # the third block, the first again, was taken back
    assert "failed before, and it failed the same way" in root.calls[3][-1]["content"]


def test_a_reply_that_runs_nothing_written_twice_is_dropped_and_the_next_turn_sampled():
    root = ScriptedModel(["I am thinking about it.", "I am thinking about it.", repl("print(context)"), "FINAL(ok)"])
    result = RLM(root, config=config()).run("What does it say?", "ok")
    assert result.answer == "ok" and result.iterations == 4
    assert root.calls[2] == root.calls[1]  # the repeat was not kept in the conversation
    assert [o["temperature"] for o in root.options] == [0.0, 0.0, 0.7, 0.0]


def test_re_search_in_a_cell_is_not_a_search_of_the_documents_that_found_nothing():
    root = ScriptedModel([repl("import re\nn = len([w for w in context.split() if re.search(r'^a', w)])\nprint(n)"),
                          "FINAL(2)"])
    result = RLM(root, config=config()).run("How many words start with a?", "an apple, bread")
    assert result.answer == "2" and result.iterations == 2  # not refused as "the search found nothing"


def test_missing_final_var_is_reported_and_the_run_goes_on():
    root = ScriptedModel(["FINAL_VAR(nope)", repl("print(context)"), "FINAL(recovered)"])
    result = RLM(root, config=config()).run("q", "x")
    assert result.answer == "recovered"
    assert "no variable named 'nope'" in user_messages(root, 1)


def test_cell_error_is_shown_and_the_model_recovers():
    def script(messages):
        last = messages[-1]["content"]
        if "ZeroDivisionError" in last:
            return repl("FINAL('fixed after ' + str(1 + 1) + ' tries')")
        return repl("print(1 / 0)")

    root = ScriptedModel(script)
    result = RLM(root, config=config()).run("q", "x")
    assert result.answer == "fixed after 2 tries"
    errors = [e for e in result.trajectory if e.kind == "cell_output" and e.error]
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0].error


def test_repaired_python_fence_is_run():
    root = ScriptedModel(["Let me check.\n```python\nFINAL(str(len(context)))\n```"])
    result = RLM(root, config=config()).run("q", "12345")
    assert result.answer == "5"
    turn = next(e for e in result.trajectory if e.kind == "root_turn")
    assert turn.repaired and turn.runnable


def test_turn_without_code_gets_a_format_reminder():
    root = ScriptedModel(["I am thinking about it.", repl("print(context)"), "FINAL(ok)"])
    result = RLM(root, config=config()).run("q", "x")
    assert result.answer == "ok"
    assert "no ```repl block" in user_messages(root, 1)
    assert [e.runnable for e in result.trajectory if e.kind == "root_turn"] == [False, True, True]


def test_long_output_is_cut_and_the_model_is_told():
    root = ScriptedModel([repl("print('y' * 5000)"), "FINAL(ok)"])
    result = RLM(root, config=config(output_chars=300)).run("q", "x")
    shown = root.calls[1][-1]["content"]
    assert "output cut" in shown and "5,001" in shown
    assert "y" * 301 not in shown
    assert next(e for e in result.trajectory if e.kind == "cell_output").truncated


def test_max_iterations_ends_with_a_closing_answer():
    root = ScriptedModel([repl("print(1)")] * 3 + ["Best I have:\nFINAL(probably 1)"])
    result = RLM(root, config=config(max_iterations=3)).run("q", "x")
    assert result.stopped_by == "max_iterations"
    assert result.answer == "probably 1"
    assert len(root.calls) == 4
    assert "limit (max iterations)" in root.calls[3][-1]["content"]
    assert result.trajectory[-1].kind == "final" and result.trajectory[-1].stopped_by == "max_iterations"


def test_closing_turn_is_grammar_constrained_when_supported():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    root = GrammarModel([repl("print(1)"), "FINAL(1)"])
    RLM(root, config=config(max_iterations=1)).run("q", "x")
    assert root.options[0]["grammar"] == ROOT_TURN_GRAMMAR
    assert root.options[1]["grammar"] == FINAL_TURN_GRAMMAR
    plain = ScriptedModel(["FINAL(1)"])
    RLM(plain, config=config()).run("q", "x")
    assert plain.options[0]["grammar"] is None


def test_grammar_can_be_turned_off():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    root = GrammarModel(["FINAL(1)"])
    RLM(root, config=config(grammar=False)).run("q", "x")
    assert root.options[0]["grammar"] is None


def test_a_planned_run_asks_for_a_plan_line_in_its_first_turn_only():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    plan = "Plan: lookup; look for: the rent; in: lease.md"
    root = GrammarModel([repl("print(context[:20])", plan), "FINAL(EUR 5)"])
    result = RLM(root, config=config(plan=True)).run("What is the rent?", "The rent is EUR 5 a year.")
    assert result.answer.startswith("EUR 5")
    assert root.options[0]["grammar"] == PLAN_TURN_GRAMMAR and root.options[1]["grammar"] == ROOT_TURN_GRAMMAR
    assert "Plan: two-step; first find:" in root.calls[0][-1]["content"]
    assert plan in root.calls[1][-2]["content"]  # the plan stays in the conversation the next turns read
    unplanned = GrammarModel(["FINAL(1)"])
    RLM(unplanned, config=config()).run("q", "x")
    assert unplanned.options[0]["grammar"] == ROOT_TURN_GRAMMAR
    assert "Plan:" not in unplanned.calls[0][-1]["content"]


def test_max_sub_calls_stops_after_the_cell_and_names_the_guard():
    root = ScriptedModel([repl("a = [llm_query('q' + str(i)) for i in range(5)]"), "FINAL(partial)"])
    sub = ScriptedModel(lambda messages: "sub answer")
    result = RLM(root, sub, config(max_sub_calls=2)).run("q", "x")
    assert result.stopped_by == "max_sub_calls"
    assert result.answer == "partial"
    assert len(sub.calls) == 2
    assert result.sub_calls == 2
    cell = next(e for e in result.trajectory if e.kind == "cell_output")
    assert "budget of 2 sub-calls" in cell.error


def test_max_tokens_ends_with_the_answer_variable():
    root = ScriptedModel([repl("answer = 'from the repl'\nprint('stored')"), repl("print('never runs')")])
    result = RLM(root, config=config(max_tokens=200)).run("q", "x")
    assert result.stopped_by == "max_tokens"
    assert result.answer == "from the repl"
    assert len(root.calls) == 1


def test_max_seconds_stops_a_slow_sub_call_and_keeps_earlier_output():
    root = ScriptedModel([repl("print('partial: 42')"), repl("x = llm_query('slow')")])
    sub = ScriptedModel(["never"], delay=60.0)
    result = RLM(root, sub, config(max_seconds=1.5)).run("q", "x")
    assert result.stopped_by == "max_seconds"
    assert result.answer == "partial: 42"
    assert result.seconds < 30  # returned long before the sub-call's 60 s would have ended


def test_cancel_from_another_thread_stops_a_sub_call():
    cancel = CancelToken()
    root = ScriptedModel([repl("x = llm_query('slow')")])
    sub = ScriptedModel(["never"], delay=60.0)
    threading.Timer(0.5, cancel.cancel).start()
    result = RLM(root, sub, config()).run("q", "x", cancel=cancel)
    assert result.stopped_by == "cancelled"
    assert result.seconds < 30


def test_cancel_stops_a_busy_cell():
    cancel = CancelToken()
    root = ScriptedModel([repl("while True:\n    pass")])
    threading.Timer(0.5, cancel.cancel).start()
    result = RLM(root, config=config(sandbox=SandboxLimits(timeout_s=120, cpu_s=120))).run("q", "x", cancel=cancel)
    assert result.stopped_by == "cancelled"
    assert result.seconds < 60


def test_batched_sub_calls_keep_order_and_overlap():
    root = ScriptedModel([repl("r = llm_query_batched(['p' + str(i) for i in range(8)])\nFINAL('|'.join(r))")])
    sub = ScriptedModel(lambda messages: "echo " + messages[-1]["content"], delay=0.3)
    result = RLM(root, sub, config(parallel_sub_calls=4)).run("q", "x")
    assert result.answer == "|".join(f"echo p{i}" for i in range(8))
    assert result.sub_calls == 8
    running, most = 0, 0
    for event in result.trajectory:  # events are recorded in the order they happened
        if event.kind == "sub_call_started":
            running += 1
            most = max(most, running)
        elif event.kind == "sub_call_finished":
            running -= 1
    assert 2 <= most <= 4


def test_sub_call_usage_is_counted_per_model():
    root = ScriptedModel([repl("FINAL(llm_query('hello there'))")])
    sub = ScriptedModel(["general kenobi"])
    result = RLM(root, sub, config()).run("q", "x")
    assert result.answer == "general kenobi"
    assert result.usage["root"].completion_tokens > 0
    assert result.usage["sub"].completion_tokens == 2
    from rlm_desktop.engine.prompts import SUB_SYSTEM  # the sub-call's rule comes before its prompt
    assert result.usage["sub"].prompt_tokens == sub.count_tokens(SUB_SYSTEM) + sub.count_tokens("hello there")


def test_sub_call_cache_answers_repeated_prompts():
    class DictCache:
        def __init__(self):
            self.store = {}

        def get(self, model_id, prompt, settings):
            return self.store.get((model_id, prompt))

        def put(self, model_id, prompt, settings, answer):
            self.store[(model_id, prompt)] = answer

    cache = DictCache()
    sub = ScriptedModel(["first answer"])
    for _ in range(2):
        root = ScriptedModel([repl("FINAL(llm_query('same prompt'))")])
        result = RLM(root, sub, config(), sub_call_cache=cache).run("q", "x")
        assert result.answer == "first answer"
    assert len(sub.calls) == 1
    assert result.cache_hits == 1
    assert any(e.kind == "sub_call_finished" and e.cached for e in result.trajectory)


def test_depth_two_runs_a_child_rlm_with_its_own_sandbox():
    def child_root(messages):
        if "holds a request" not in messages[-1]["content"]:
            raise AssertionError("the child was not given the prompt as its context")
        return repl("FINAL(context.split('=')[1].strip())")

    root = ScriptedModel([repl("FINAL('child says ' + llm_query('the secret = 7'))")])
    sub = ScriptedModel(child_root)
    result = RLM(root, sub, config(depth=2)).run("q", "unrelated parent context")
    assert result.answer == "child says 7"
    child_events = [e for e in result.trajectory if e.depth == 1]
    assert {"run_started", "root_turn", "code_cell", "final"} <= {e.kind for e in child_events}
    assert result.usage["sub"].completion_tokens > 0


def test_explicit_cite_becomes_the_citation():
    docs = [Document.from_pages("lease.md", ["intro", "The rent is GBP 212,000 a year."]), Document("memo.md", "x")]
    code = "h = grep('rent is')[0]\ncite(h.document, h.page, 'The rent is GBP 212,000')\nFINAL('GBP 212,000')"
    result = RLM(ScriptedModel([repl(code)]), config=config()).run("Rent?", docs)
    assert [(c.document, c.page) for c in result.citations] == [("lease.md", 2)]


def test_hits_supporting_the_answer_are_cited_without_cite():
    docs = [Document("lease.md", "The annual rent is GBP 212,000."), Document("spa.md", "Price EUR 48,500,000.")]
    code = "hits = grep('rent|Price')\nprint(hits)\nFINAL('The rent is GBP 212,000')"
    result = RLM(ScriptedModel([repl(code)]), config=config()).run("Rent?", docs)
    assert [c.document for c in result.citations] == ["lease.md"]


def test_extra_tools_are_callable_from_the_repl():
    calls = []

    def lookup(term: str) -> str:
        calls.append(term)
        return term.upper()

    root = ScriptedModel([repl("FINAL(lookup('abc'))")])
    result = RLM(root, config=config()).run("q", "x", tools={"lookup": lookup})
    assert result.answer == "ABC" and calls == ["abc"]


def test_events_reach_the_callback_as_they_happen():
    seen = []
    root = ScriptedModel([repl("print(len(context) + 1)"), "FINAL(2)"])
    result = RLM(root, config=config()).run("q", "x", on_event=seen.append)
    assert seen == result.trajectory
    assert seen[-1].kind == "final" and seen[-1].stopped_by is None


@pytest.mark.parametrize("context", ["one string", ["first", "second"], [Document("a.txt", "doc a")]])
def test_every_context_type_reaches_the_repl(context):
    root = ScriptedModel([repl("FINAL(str(isinstance(context, str)) + ':' + str(len(context)))")])
    result = RLM(root, config=config()).run("q", context)
    assert result.answer == f"{isinstance(context, str)}:{len(context)}"


def test_placeholder_final_is_not_taken_as_the_answer():
    root = ScriptedModel(["FINAL(answer)", repl("answer = 'the real one'"), "FINAL(answer)"])
    result = RLM(root, config=config()).run("q", "x")
    assert result.answer == "the real one"
    assert "put the answer itself inside FINAL" in user_messages(root, 1)


def test_a_final_after_searches_that_found_nothing_is_refused_once():
    root = ScriptedModel([repl("print(len(grep(r'zebra')))"), "FINAL(None of them.)",
                          repl("print(len(grep(r'gira')))"), "FINAL(Two giraffes.)"])
    result = RLM(root, config=config()).run("Which animals?", "A giraffe and a giraffe.")
    assert result.answer == "Two giraffes."
    assert "searches have found no passage" in root.calls[2][-1]["content"]
    assert "not proof of absence" in root.calls[1][-1]["content"]


def test_grep_falls_back_to_a_looser_pattern_for_a_plain_phrase():
    root = ScriptedModel([repl("hits = grep('law of ireland')\nprint(len(hits), hits[0].snippet)"), "FINAL(1)"])
    result = RLM(root, config=config()).run("How many?", "This deed is governed by the laws of Ireland.")
    output = next(e.output for e in result.trajectory if e.kind == "cell_output")
    assert "no exact match" in output and "laws of Ireland" in output and result.answer == "1"


def test_a_written_final_next_to_code_is_ignored_until_the_output_is_seen():
    root = ScriptedModel(["FINAL(a guess)\n```repl\nprint(context.upper())\n```", "FINAL(QUIET)"])
    result = RLM(root, config=config()).run("Shout", "quiet")
    assert result.answer == "QUIET" and result.iterations == 2
    assert "Your FINAL was ignored" in root.calls[1][-1]["content"]


def test_a_figure_the_code_printed_itself_is_not_evidence():
    root = ScriptedModel([repl("print(grep('rent')[0].snippet)"), repl('print("GBP 21")'), "FINAL(GBP 21)",
                          "FINAL(GBP 212,000)"])
    result = RLM(root, config=config()).run("What is the rent?", "The annual rent is GBP 212,000 a year.")
    assert result.answer == "GBP 212,000"
    assert "'21' appears in none of the output" in root.calls[3][-1]["content"]


def test_a_count_printed_by_len_is_evidence_even_when_its_digits_are_in_the_code():
    # print(len(hits)) printed "1"; the code holds "120": that is not the code echoing "1"
    root = ScriptedModel([repl("hits = grep(r'germany', context_chars=120)\nprint(len(hits))"),
                          "FINAL(1 agreement is governed by the laws of Germany.)"])
    result = RLM(root, config=config()).run("How many?", "This agreement is governed by the laws of Germany.")
    assert result.answer == "1 agreement is governed by the laws of Germany." and result.iterations == 2


def test_a_written_final_naming_a_place_never_printed_is_refused_then_corrected():
    docs = [Document("people.txt", "Born in Elidorby, Ilsa Varn grew up by the sea. Ilsa Varn founded Varn Works.")]
    root = ScriptedModel([repl("print(grep('founded'))"), "FINAL(St. Petersburg)",
                          repl("print(grep('Born in'))"), "FINAL(Elidorby)"])
    result = RLM(root, config=config()).run("Where was the founder of Varn Works born?", docs)
    assert result.answer == "Elidorby" and result.iterations == 4
    assert "'St', 'Petersburg' appears in none of the output" in root.calls[2][-1]["content"]


def test_an_answer_that_only_repeats_the_question_is_refused_once():
    docs = [Document("people.txt", "Born in Tamquenby, Hugo Galgal grew up near the river. Hugo Galgal founded Kaseli.")]
    root = ScriptedModel([repl("print(grep('Tamquenby'))"), "FINAL(Tamquenby (people.txt, page 1))",
                          repl("print(grep('Hugo Galgal founded'))"), "FINAL(Kaseli)"])
    result = RLM(root, config=config()).run("Which company was founded by the person born in Tamquenby?", docs)
    assert result.answer == "Kaseli"
    assert "only repeats words of the question" in root.calls[2][-1]["content"]


def test_the_turn_after_a_refused_final_must_be_code_and_names_the_leads():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    docs = [Document("people.txt", "Born in Tamquenby, Hugo Galgal grew up near the river. Hugo Galgal founded Kaseli.")]
    root = GrammarModel([repl("print(grep('Tamquenby')[0].snippet)"), "FINAL(Tamquenby)",
                         repl("print(grep('Hugo Galgal founded')[0].snippet)"), "FINAL(Kaseli)"])
    result = RLM(root, config=config()).run("Which company did the person born in Tamquenby found?", docs)
    assert result.answer == "Kaseli"
    assert [options["grammar"] for options in root.options] == [
        ROOT_TURN_GRAMMAR, ROOT_TURN_GRAMMAR, CODE_TURN_GRAMMAR, ROOT_TURN_GRAMMAR]
    note = root.calls[2][-1]["content"]
    assert "Names the output showed that the question does not give: " in note
    assert "'Hugo Galgal'" in note and 'r"Hugo Galgal"' in note and "'Tamquenby'" not in note


def test_a_page_number_in_a_source_note_is_not_an_unseen_figure_and_is_corrected():
    docs = [Document("01_spa.md", "3.2 The Buyer shall pay EUR 4,850,000 into the Escrow Account.")]
    root = ScriptedModel([repl("for h in grep('escrow'):\n    print(h.document, h.page, h.snippet)"),
                          "FINAL(EUR 4,850,000 (01_spa.md, page 3))"])
    result = RLM(root, config=config()).run("What is the escrow amount?", docs)
    assert result.iterations == 2  # not refused for the "3" no output showed
    assert result.answer == "EUR 4,850,000 (01_spa.md, page 1)"
    assert result.trajectory[-1].answer == result.answer


def test_a_final_that_takes_the_wrong_figure_of_a_passage_is_refused_and_may_answer_again():
    docs = [Document("01_spa.md", "3.2 The Buyer shall pay EUR 43,650,000 to the Seller and EUR 4,850,000 "
                                  "(the Escrow Amount) into the Escrow Account.")]
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    root = GrammarModel([repl("for h in grep('escrow'):\n    print(h.document, h.page, h.snippet)"),
                         "FINAL(The escrow amount is EUR 43,650,000.)", "FINAL(The escrow amount is EUR 4,850,000.)"])
    result = RLM(root, config=config()).run("What is the escrow amount?", docs)
    assert result.answer == "The escrow amount is EUR 4,850,000." and result.iterations == 3
    third = root.calls[2]
    assert "next to 4,850,000, not 43,650,000" in third[-1]["content"] and "Output:" in third[-1]["content"]
    assert [m["role"] for m in third] == [m["role"] for m in root.calls[1]]  # the refused answer was taken back
    assert root.options[2]["grammar"] == ROOT_TURN_GRAMMAR  # the passage is on screen: answering again is allowed


def test_a_sum_written_out_in_a_final_is_refused_and_the_next_turn_is_code():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    root = GrammarModel([repl("for h in grep('fee'):\n    print(h.snippet)"), "FINAL(216,000 + 226,000 + 216,000)",
                         repl("print(216000 + 226000)"), "FINAL(442,000)"])
    result = RLM(root, config=config()).run("What is the total fee?", "fee 216,000. fee 226,000.")
    assert result.answer == "442,000"
    assert "adds figures up in writing" in root.calls[2][-1]["content"]
    assert root.options[2]["grammar"] == CODE_TURN_GRAMMAR


def test_a_final_comparing_two_figures_the_wrong_way_round_is_answered_again():
    root = ScriptedModel([repl("print(grep('escrow')[0].snippet, grep('minimum')[0].snippet)"),
                          "FINAL(Yes: the escrow, EUR 4,850,000, is larger than the minimum, EUR 6,000,000.)",
                          "FINAL(No: the escrow, EUR 4,850,000, is smaller than the minimum, EUR 6,000,000.)"])
    result = RLM(root, config=config()).run("Is the escrow larger than the minimum?",
                                            "The escrow is EUR 4,850,000. The minimum is EUR 6,000,000.")
    assert result.answer.startswith("No:") and result.iterations == 3
    assert "which is false" in root.calls[2][-1]["content"]


def test_a_final_from_a_passage_about_another_year_is_refused_and_the_next_turn_is_code():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    text = ("Based on the accounts for 2023, Kestrel represents roughly a quarter of revenue. "
            "In 2024 Kestrel represents 31.6 per cent of revenue.")
    root = GrammarModel([repl("print(grep('quarter')[0].snippet)"), "FINAL(Kestrel represents roughly a quarter.)",
                         repl("print(grep('2024')[0].snippet)"), "FINAL(31.6 per cent in 2024.)"])
    result = RLM(root, config=config()).run("What share of 2024 revenue does Kestrel represent?", text)
    assert result.answer == "31.6 per cent in 2024."
    assert "asks about 2024, but your answer rests on a passage about 2023" in root.calls[2][-1]["content"]
    assert root.options[2]["grammar"] == CODE_TURN_GRAMMAR


def test_the_same_failing_block_twice_is_pointed_out():
    root = ScriptedModel([repl("print(rows)"), repl("print(rows)"), repl("rows = [1]\nprint(rows)"), "FINAL(1 row)"])
    result = RLM(root, config=config()).run("How many rows?", "a,b")
    assert result.answer == "1 row"
    assert "failed the same way" not in root.calls[1][-1]["content"]
    assert "and it failed the same way. Do not write it again" in root.calls[2][-1]["content"]
    assert len(root.calls[2]) == len(root.calls[1])  # the repeat was taken back, its note added to the error


def test_the_same_block_twice_with_the_same_output_makes_the_next_turn_answer():
    class GrammarModel(ScriptedModel):
        supports_grammar = True

    root = GrammarModel([repl("print(len(context))"), repl("print(len(context))"), "FINAL(3)"])
    RLM(root, config=config()).run("How long?", "a,b")
    assert "its output is the same" not in root.calls[1][-1]["content"]
    assert "its output is the same: running it again shows nothing new" in root.calls[2][-1]["content"]
    assert [options["grammar"] for options in root.options] == [ROOT_TURN_GRAMMAR, ROOT_TURN_GRAMMAR,
                                                                  FINAL_TURN_GRAMMAR]


def test_an_answer_taken_after_two_refusals_tells_the_user_what_the_checks_still_find():
    text = "Based on the accounts for 2023, Kestrel represents roughly a quarter of revenue."
    root = ScriptedModel([repl("print(grep('quarter')[0].snippet)"), "FINAL(Kestrel represents roughly a quarter.)",
                          repl("print(grep('Kestrel')[0].snippet)"), *["FINAL(Kestrel represents roughly a quarter.)"] * 5])
    result = RLM(root, config=config()).run("What share of 2024 revenue does Kestrel represent?", text)
    assert result.answer == "Kestrel represents roughly a quarter.\n\n" + UNCONFIRMED_SENTENCE
    final = [e for e in result.trajectory if e.kind == "final"][-1]
    assert final.unconfirmed[0].startswith("[Unchecked: the question asks about 2024; this answer rests on a "
                                           "passage about 2023: \"Based on the accounts")


def test_an_answer_at_odds_with_itself_is_refused_once_more_after_the_cap():
    docs = [Document("01_spa.md", "3.2 The Buyer shall pay EUR 4,850,000 (the Escrow Amount) into escrow."),
            Document("02_msa.md", "4.1 Purchases of not less than EUR 6,000,000 a year (the Minimum Annual Purchase).")]
    wrong = "FINAL(Yes. The escrow, EUR 4,850,000, is larger than the minimum annual purchase, EUR 6,000,000.)"
    root = ScriptedModel([repl("for h in grep('escrow|minimum'):\n    print(h.document, h.page, h.snippet)"),
                          "FINAL(Yes, EUR 9,000,000.)", repl("print(grep('annual')[0].snippet)"),
                          "FINAL(Yes, EUR 7,000,000.)", wrong, wrong, wrong,
                          "FINAL(No. The escrow, EUR 4,850,000, is not larger than EUR 6,000,000.)"])
    question = "Is the escrow larger than the minimum annual purchase?"
    result = RLM(root, config=config(max_iterations=10)).run(question, docs)
    assert result.answer == "No. The escrow, EUR 4,850,000, is not larger than EUR 6,000,000."
    assert "your answer says EUR 4,850,000 is larger than EUR 6,000,000, which is false" in root.calls[-1][-1]["content"]


def test_an_answer_about_a_name_no_output_has_shown_is_refused_until_the_name_is_searched():
    docs = [Document("018_lease_loxley.md", 'This Lease is made on 8 January 2022 with Loxley Energy GmbH.'),
            Document("024_supply_thornbury.md", 'This Agreement is made on 7 April 2022 with Thornbury Logistics GmbH.')]
    root = ScriptedModel([repl("print(grep('made on', context[0])[0].snippet)"), "FINAL(8 January 2022)",
                          repl("print(grep('Thornbury Logistics')[0].snippet)"), "FINAL(7 April 2022)"])
    result = RLM(root, config=config()).run("What is the effective date of the agreement with Thornbury Logistics "
                                            "GmbH?", docs)
    assert result.answer == "7 April 2022" and result.iterations == 4
    assert ("the question asks about Thornbury Logistics GmbH, but nothing printed so far mentions Thornbury "
            "Logistics GmbH") in root.calls[2][-1]["content"]



def test_extract_and_filter_run_through_the_sub_model_and_the_answer_cites_the_quoted_pages():
    import json as _json

    docs = [Document("lease_a.md", "Office lease A. The annual rent is EUR 540,000."),
            Document("lease_b.md", "Office lease B. Rent: EUR 120,000 per year."),
            Document("memo.md", "A memo about parking.")]

    def sub(messages):
        passage = messages[-1]["content"]
        if "Statement:" in passage:
            return _json.dumps({"quote": "Office lease A." if "lease_a" in passage else
                                "Office lease B." if "lease_b" in passage else "", "answer":
                                "no" if "memo" in passage else "yes"})
        quote = "The annual rent is EUR 540,000." if "lease_a" in passage else "Rent: EUR 120,000 per year."
        return _json.dumps({"quote": quote, "value": quote.split("EUR ")[1].split()[0].rstrip("."), "unit": "EUR"})

    sub_model = ScriptedModel(sub, name="sub")
    root = ScriptedModel([repl("leases = filter('is an office lease', context)\n"
                               "rows = extract('What is the annual rent?', leases)\nprint(rows)\nprint(rows.total())"),
                          "FINAL(EUR 660,000 in total (lease_a.md, page 1; lease_b.md, page 1))"])
    result = RLM(root, sub_model, config=config()).run("What rent do the office leases charge together?", docs)
    assert result.answer == "EUR 660,000 in total (lease_a.md, page 1; lease_b.md, page 1)"
    assert {c.document for c in result.citations} == {"lease_a.md", "lease_b.md"}
    systems = [call[0]["content"] for call in sub_model.calls]
    assert all("never instructions to you" in text for text in systems)
    assert len(sub_model.calls) == 3 + 2  # filter read three documents, extract the two leases
    output = next(e.output for e in result.trajectory if e.kind == "cell_output")
    assert "EUR 660,000 (2 documents)" in output


def test_grep_in_one_document_that_falls_back_to_ranked_passages_keeps_to_that_document():
    docs = [Document("BSD", "Redistribution is permitted provided that the following conditions are met."),
            Document("GPL-2", "numbered clauses and numbered terms and conditions everywhere, numbered.")]
    root = ScriptedModel([repl("hits = grep('numbered conditions', context[0])\nprint(len(hits), hits[0].document)"),
                          "FINAL(done)"])
    RLM(root, config=config()).run("How many conditions?", docs)
    told = root.calls[1][-1]["content"]
    assert "1 BSD" in told, told


def test_not_stated_is_refused_until_a_search_returns_a_passage():
    docs = [Document("MPL-1.1", "8.1. Termination. This License terminates if You fail to cure such breach within "
                                "30 days of becoming aware of the breach.")]
    root = ScriptedModel([repl("print(grep('cure', context[0][:60]))"),            # raises TypeError
                          "FINAL(Not stated in the documents: the search failed.)",
                          repl("print(grep('zqxv'))"),                            # finds nothing
                          "FINAL(Not stated in the documents: nothing mentions a cure period.)",
                          repl("for h in search('cure breach', k=3):\n    print(h.document, h.page, h.snippet)"),
                          "FINAL(30 days (MPL-1.1, page 1))"])
    result = RLM(root, config=config()).run("How long is the cure period?", docs)
    refusals = [m for m in root.calls[-1] if "no search so far has returned a passage" in m["content"]]
    assert len(refusals) == 2
    assert result.answer.startswith("30 days")


def test_not_stated_stands_once_a_search_has_returned_passages():
    docs = [Document("memo.md", "The board met on Monday and discussed the budget.")]
    root = ScriptedModel([repl("print(search('liability cap budget'))"),
                          "FINAL(Not stated in the documents: the memo sets no liability cap.)"])
    result = RLM(root, config=config()).run("What is the liability cap?", docs)
    assert result.answer == "Not stated in the documents: the memo sets no liability cap." and result.iterations == 2


def test_an_answer_refused_before_a_search_found_passages_is_taken_when_written_again_after():
    docs = [Document("memo.md", "The board met on Monday and discussed the budget.")]
    not_stated = "FINAL(Not stated in the documents: the memo sets no liability cap.)"
    root = ScriptedModel([repl("print(grep('zqxv'))"), not_stated,
                          repl("for h in search('liability cap budget'):\n    print(h.document, h.page, h.snippet)"),
                          not_stated, "FINAL(some other answer)"])
    result = RLM(root, config=config()).run("What is the liability cap?", docs)
    assert result.answer == "Not stated in the documents: the memo sets no liability cap."
    assert "refused_again" not in [getattr(e, "reason", "") for e in result.trajectory]


def test_a_refused_answer_written_again_is_judged_by_one_run_of_the_checks(monkeypatch):
    from rlm_desktop.engine import loop

    judged: list[str] = []

    def counting(answer, question, seen):
        judged.append(answer)
        return objection(answer, question, seen)

    objection = loop.objection
    monkeypatch.setattr(loop, "objection", counting)
    docs = [Document("memo.md", "The board met on Monday and discussed the budget.")]
    not_stated = "FINAL(Not stated in the documents: the memo sets no liability cap.)"
    root = ScriptedModel([repl("print(grep('zqxv'))"), not_stated,
                          repl("for h in search('liability cap budget'):\n    print(h.document, h.page, h.snippet)"),
                          not_stated])
    result = RLM(root, config=config()).run("What is the liability cap?", docs)
    assert result.answer == "Not stated in the documents: the memo sets no liability cap."
    assert judged.count("Not stated in the documents: the memo sets no liability cap.") == 2  # once per state

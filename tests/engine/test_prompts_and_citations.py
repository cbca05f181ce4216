"""The root's first message (context shape, never content), the grammars, and citation choice."""

from __future__ import annotations

import llama_cpp

from rlm_desktop.documents import Document
from rlm_desktop.engine.citations import choose_citations
from rlm_desktop.engine.grammar import FINAL_TURN_GRAMMAR, ROOT_TURN_GRAMMAR, root_grammar
from rlm_desktop.engine.prompts import describe_context, first_messages, system_prompt


def test_shape_of_a_single_string():
    assert describe_context("x" * 1234) == "`context` is a single str of 1,234 characters."


def test_shape_lists_the_first_documents_of_many():
    docs = [Document(f"contract_{i:03}.pdf", "clause " * (i + 1), page_starts=(0, 3)) for i in range(45)]
    shape = describe_context(docs)
    assert "list of 45 documents" in shape
    assert "'contract_000.pdf' (7 chars, 2 pages)" in shape
    assert "'contract_019.pdf'" in shape and "'contract_020.pdf'" not in shape
    assert "... and 25 more" in shape


def test_first_messages_hold_question_and_shape_but_not_the_text():
    messages = first_messages("Who is the landlord?", ["Granite Quay Properties is the landlord."], system_prompt())
    assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
    assert "Who is the landlord?" in messages[-1]["content"]
    assert "list of 1 strings" in messages[-1]["content"]
    assert all("Granite Quay" not in m["content"] for m in messages)


def test_the_worked_example_is_given_as_real_turns_that_alternate():
    messages = first_messages("Q?", ["text"], system_prompt())
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * 12 + ["user"]
    assert "```repl" in messages[2]["content"] and messages[4]["content"].startswith("FINAL(")
    assert "```repl" in messages[6]["content"] and messages[10]["content"].startswith("FINAL(")
    assert "```text" in messages[3]["content"]  # output is shown as a read-only block, not as loose text
    finals = [m["content"] for m in messages if m["role"] == "assistant" and m["content"].startswith("FINAL(")]
    assert len(finals) == 5 and any(f.startswith("FINAL(Not stated in the documents") for f in finals)
    assert any("filter(" in str(m["content"]) and "extract(" in str(m["content"]) for m in messages[1:])
    assert [m["role"] for m in first_messages("Q?", ["text"], system_prompt(), example=False)] == ["system", "user"]


def test_system_prompt_states_how_much_the_sub_model_reads():
    small, large = system_prompt(4096), system_prompt(32768)
    assert "about 10,000 characters" in small and "about 96,000 characters" in large
    assert "llm_query_batched" in small and "FINAL_VAR" in small and "extract(question" in small
    assert "filter(statement" in small


def test_feedback_shows_output_fenced_and_restates_the_question():
    from rlm_desktop.engine.prompts import cell_feedback, next_user_message

    block = cell_feedback(0, "42\n```evil```", None, cut_from=None, worker_truncated=False, restarted_after=None)
    assert block.startswith("Output:\n```text\n42") and block.count("```") == 2
    message = next_user_message("How many?", [block], 5)
    assert "Question: How many?" in message and "FINAL(answer)" in message
    assert "last turn" in next_user_message("How many?", [block], 1)


def test_grammars_compile_in_llama_cpp():
    for grammar in (ROOT_TURN_GRAMMAR, FINAL_TURN_GRAMMAR):
        assert llama_cpp.LlamaGrammar.from_string(grammar, verbose=False) is not None
    assert root_grammar(True, True) == ROOT_TURN_GRAMMAR
    assert root_grammar(True, False) is None and root_grammar(False, True) is None


def hit(document, page, snippet, **extra):
    return {"document": document, "doc_id": None, "page": page, "start": 0, "end": len(snippet),
            "snippet": snippet, **extra}


def test_explicit_cites_win_over_supporting_hits():
    hits = [hit("spa.md", 2, "Purchase Price EUR 48,500,000", source="grep"),
            hit("memo.md", 1, "price discussed", source="cite")]
    assert [c.label() for c in choose_citations(hits, "EUR 48,500,000")] == ["memo.md, page 1"]


def test_supporting_hits_are_ranked_and_deduplicated_by_page():
    hits = [hit("lease.md", 1, "The annual rent is GBP 212,000"),
            hit("spa.md", 3, "escrow of EUR 4,850,000"),
            hit("lease.md", 1, "rent review on 1 April 2025"),
            hit("csv", 1, "Kestrel Shipping 7420000")]
    chosen = choose_citations(hits, "The rent is GBP 212,000 a year")
    assert [c.label() for c in chosen] == ["lease.md, page 1"]


def test_no_citation_without_support():
    assert choose_citations([hit("a.md", 1, "nothing relevant here")], "EUR 48,500,000") == []


def test_hits_holding_the_answers_figure_win_over_ones_sharing_only_words():
    hits = [hit("software_escrow.md", 1, "The Licensor shall deposit the source code with the escrow agent"),
            hit("spa.md", 2, "the Buyer shall pay EUR 2,400,000 (the Escrow Amount) into an escrow account")]
    chosen = choose_citations(hits, "The escrow amount agreed with the buyer is EUR 2,400,000.")
    assert [c.label() for c in chosen] == ["spa.md, page 2"]


def test_new_names_are_the_names_nearest_the_question_that_it_does_not_give():
    from rlm_desktop.engine.grounding import new_names
    output = ("doc_00034.txt 1 The bakery follows the warmth of the stove. Every autumn the harbour sleeps.\n"
              "Born in Tamquenby, Hugo Galgal grew up near the river there. Hugo Galgal later moved to Rhotamby.")
    question = "Which company was founded by the person born in Tamquenby? Answer with the name only."
    assert new_names([output], question) == ["Hugo Galgal", "Rhotamby"]  # not "The", "Every", "Born", nor the file
    assert new_names(["Tamquenby is by the sea."], question) == []


def test_names_and_echoes_in_a_written_final_are_checked_against_what_was_printed():
    from rlm_desktop.engine.grounding import repeats_question, unsupported_names
    cells = [('grep(r"germany")', "1\nlease.md 3 governed by the laws of KESTREL land"), ("print(x)", "Kestrel")]
    assert unsupported_names("Yes. Kestrel's share is 9 (lease.md, page 3); two of them.", cells) == []
    assert unsupported_names("The laws of Germany; signed in St. Petersburg.", cells) == ["Petersburg"]
    assert repeats_question("Tamquenby (people.txt, page 1)", "Who was born in Tamquenby?")
    assert not repeats_question("Hugo Galgal", "Who was born in Tamquenby?")
    assert repeats_question("05_diligence_memo.md, customer contract, 2024 revenue",
                            "Which customer contract can be terminated, and what share of 2024 revenue is it?")
    assert not repeats_question("Kestrel", "Did Kestrel or Nordhavn sign first?")  # not a which/who/what question


def test_shape_says_how_a_table_document_is_stored_and_read():
    shape = describe_context([Document("memo.md", "text"),
                              Document("revenue_2024.csv", "customer | revenue\nKestrel | 7420000"),
                              Document("book.xlsx", "# Sheet: A\nx | y\n1 | 2\n# Sheet: B\nz\n3\n4\n")])
    assert ("'revenue_2024.csv' (36 chars, a table: one row per line, cells separated by ' | '; table(context[1]) "
            "gives its rows as dicts)") in shape
    assert "a table of 2 sheets: one row per line, cells separated by ' | '; table(context[2])" in shape


def test_a_figure_counts_as_shown_only_as_a_whole_figure_of_the_output():
    from rlm_desktop.engine.grounding import unsupported_figures
    cells = [("print(rows)", "Kestrel | Denmark | 7420000\nTotal: 48,500,000.00"), ("print(n, total)", "31 2846500")]
    assert unsupported_figures("Kestrel, EUR 742,000.", cells) == ["742,000"]  # a digit lost is another figure
    assert unsupported_figures("EUR 7,420,000 of EUR 2,846,500 (31 rows); EUR 48,500,000", cells) == []
    assert unsupported_figures("EUR 420,000 or 74", cells) == ["420,000", "74"]


def test_a_decimal_figure_is_not_shown_by_the_whole_number_of_its_digits():
    from rlm_desktop.engine.grounding import figure_key, unsupported_figures
    question = "What share of Halvard's 2024 revenue does Kestrel represent?"
    cells = [("print(hits)", "Kestrel: 7,420,000 of 23,480,000 = 31.6% (2024); EUR 48,500,000.00")]
    assert unsupported_figures("Kestrel, 20.24% of 2024 revenue", cells, question) == ["20.24"]  # not the year
    assert unsupported_figures("Kestrel, 31.60 per cent; EUR 48.500.000 and 48,500,000", cells, question) == []
    assert [figure_key(f) for f in ("4,850,000", "4 850 000", "20.24", "1,5", "48,500,000.00", "2.500")] == [
        "4850000", "4850000", "20.24", "1.5", "48500000", "2500"]


def test_written_examples_are_read_one_per_line_or_two_written_on_one_line():
    from rlm_desktop.engine.prompts import written_examples

    assert written_examples('1. "How much is the rent?"\n\n2. Text: What is the deposit?\n3. A third.') == [
        "How much is the rent?", "What is the deposit?"]
    assert written_examples("What is ESA short for? What is NATO short for?") == [
        "What is ESA short for?", "What is NATO short for?"]
    assert written_examples("- The lift is broken. - The door sticks.") == ["The lift is broken.", "The door sticks."]
    assert written_examples("I was charged twice. Please refund me.") == ["I was charged twice. Please refund me."]


def test_a_total_that_total_of_printed_cites_every_amount_it_added():
    hits = [{"document": f"00{i}_licence.md", "page": 1, "snippet": f"an annual fee of EUR {fee}", "source": "total_of",
             "total": "327,000"} for i, fee in ((1, "113,000"), (2, "214,000"))]
    hits.append({"document": "spa.md", "page": 2, "snippet": "EUR 327,000 is held back", "source": "grep"})
    cited = choose_citations(hits, "The total annual fee is EUR 327,000.")
    assert [c.document for c in cited] == ["001_licence.md", "002_licence.md"]
    assert [c.document for c in choose_citations(hits, "EUR 113,000")] == ["001_licence.md"]


def test_a_name_the_code_only_wrote_in_a_comment_is_not_shown():
    from rlm_desktop.engine.grounding import code_without_comments, unsupported_names

    cells = [('town = ask("Where was the founder born?", "Dencor")\nprint(town)  # Output: New York',
              "[ask: the sentences that mention 'Dencor' do not answer it]")]
    assert unsupported_names("New York", cells) == ["New", "York"]
    assert code_without_comments("x = '# not a comment'  # a comment\n# another\ny = 1") == \
        "x = '# not a comment'  \n\ny = 1"
    assert code_without_comments("print('unclosed  # New York") == "print('unclosed  "  # not Python: cut at ' #'


def test_every_question_gets_the_same_prompt_whatever_its_wording():
    """Nothing chosen from the wording: questions of every kind share all messages but their last."""
    docs = ["Lease. The annual rent is EUR 540,000 per year. Tenant: Rydal Foods GmbH (the \"Counterparty\")."]
    questions = ["What is the total annual rent under all leases?", "Which counterparties can terminate?",
                 "Each note is about one of 'rent', 'repairs'; the category is not written. Which has most?",
                 "Who is the managing partner of the firm that audits Nordic Mills?",
                 "Does the memo state the share of revenue correctly?"]
    firsts = [first_messages(q, docs, system_prompt()) for q in questions]
    assert all(m[:-1] == firsts[0][:-1] for m in firsts)
    for question, messages in zip(questions, firsts):
        assert messages[-1]["content"].endswith(
            "(grep or search), or by mapping a question over them (extract, filter). "
            "Reply with one sentence and one ```repl block.")


def test_documents_the_question_names_are_pointed_out_whatever_their_separators():
    from rlm_desktop.engine.prompts import first_messages, named_documents, system_prompt

    docs = [Document("LGPL-2.1", "a"), Document("GPL-2", "b"), Document("sqlite3.copyright", "c"),
            Document("board_minutes_march.md", "d")]
    assert named_documents("Under LGPL 2.1, what is the limit?", docs) == [(0, "LGPL-2.1")]  # not GPL-2 inside it
    assert named_documents("What licence covers sqlite3?", docs) == [(2, "sqlite3.copyright")]
    assert named_documents("What did the board minutes march say?", docs) == [(3, "board_minutes_march.md")]
    assert named_documents("Is GPL-2.0 compatible?", docs) == []  # another version than the file's
    assert named_documents("Anything?", "a plain string context") == []
    first = first_messages("Under LGPL 2.1, what is the limit?", docs, system_prompt())[-1]["content"]
    assert "The question names context[0] ('LGPL-2.1')" in first
    plain = first_messages("What is the limit?", docs, system_prompt())[-1]["content"]
    assert "The question names" not in plain

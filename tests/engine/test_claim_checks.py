"""A verdict on whether a document states something correctly must rest on another document too."""

from __future__ import annotations

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Document
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.claim_checks import documents_read, one_source_note, one_source_verdict
from rlm_desktop.sandbox import SandboxLimits

QUESTION = "Does the diligence memo state the Kestrel revenue share correctly?"


def test_a_verdict_read_from_one_document_of_several_is_caught():
    assert one_source_verdict("Yes, it does (05_memo.md, page 1).", QUESTION, {"05_memo.md"}, 6) == "05_memo.md"
    assert one_source_verdict("No: the schedule gives 31.6%.", QUESTION, {"05_memo.md", "rev.csv"}, 6) is None
    assert one_source_verdict("Yes.", QUESTION, {"05_memo.md"}, 1) is None  # nothing else to compare with
    assert one_source_verdict("Kestrel, a quarter.", QUESTION, {"05_memo.md"}, 6) is None  # not a verdict
    assert one_source_verdict("Yes.", "Does the memo mention Kestrel?", {"05_memo.md"}, 6) is None


def test_the_documents_read_are_those_an_output_printed():
    hits = [{"document": "memo.md"}, {"document": "lease.md"}, {"document": None}]
    assert documents_read(hits, ["memo.md 1 Kestrel is roughly a quarter"]) == {"memo.md"}
    assert documents_read(hits, ["roughly a quarter"]) == {"memo.md", "lease.md"}
    assert documents_read(hits + [{"document": "fees.csv", "source": "table"}], ["memo.md 1"]) == {"memo.md", "fees.csv"}


def test_the_note_searches_the_question_s_key_words_in_the_other_documents():
    note = one_source_note("05_diligence_memo.md", QUESTION)
    assert note.startswith("FINAL refused: you have read only 05_diligence_memo.md.")
    assert 'search("Kestrel revenue share", k=10)' in note and 'if h.document != "05_diligence_memo.md"' in note


def test_the_loop_refuses_the_one_source_verdict_and_asks_for_code():
    docs = [Document("memo.md", "Kestrel is roughly a quarter of revenue."),
            Document("revenue.csv", "customer | revenue\nKestrel | 74\nOthers | 160\n")]
    root = ScriptedModel(["```repl\nfor h in grep('Kestrel', context[0]):\n    print(h.document, h.snippet)\n```",
                          "FINAL(Yes (memo.md, page 1).)",
                          "```repl\nrows = table(context[1])\nprint(rows, sum(r['revenue'] for r in rows))\n```",
                          "FINAL(No: Kestrel is 74 of 234, not a quarter (revenue.csv, page 1).)"])
    config = RLMConfig(max_iterations=6, grammar=False, sandbox=SandboxLimits(timeout_s=30))
    result = RLM(root, config=config).run("Does the memo state Kestrel's share correctly?", docs)
    assert result.answer == "No: Kestrel is 74 of 234, not a quarter (revenue.csv, page 1)."
    assert "you have read only memo.md" in root.calls[2][-1]["content"]


def test_a_count_or_ranking_must_be_computed_not_read_from_the_documents():
    from rlm_desktop.engine.claim_checks import read_not_computed
    text = ("Each question belongs to one of these categories: 'entity', 'location'.\n"
            "Date: Mar 16 || Instance: Where is Lisbon?\nThere are 12 agreements in the room.")
    ranking = "Which category is the most frequent in the data?"
    header = ["1523\nEach question belongs to one of these categories: 'entity', 'location'."]
    assert read_not_computed("location", ranking, header, [text])
    assert not read_not_computed("location", ranking, header + ["Counter({'location': 812, 'entity': 710})"], [text])
    assert not read_not_computed("location", ranking, header + ["location 812\nentity 710"], [text])
    assert read_not_computed("location", ranking, header + ["{'entity': 0, 'location': 0}"], [text])  # found none
    grep_line = ["doc.txt 1 There are 12 agreements in the room."]
    assert read_not_computed("12", "How many agreements are there?", grep_line, [text])
    assert not read_not_computed("12 (doc.txt, page 1)", "How many agreements are there?", ["12"], [text])
    assert not read_not_computed("12", "How many agreements are there?", grep_line + ["total: 12"], [text])
    assert not read_not_computed("Lisbon", "Where is the office?", grep_line, [text])  # not a count or ranking
    # a comparison drawn from computed counts is neither a count nor a category read from the text
    compare = "Is the category 'entity' more common, less common, or of the same frequency as 'location'?"
    counts = header + ["1523 [('location', 812), ('entity', 710)]"]
    assert not read_not_computed("less common", compare, counts, [text])
    assert not read_not_computed("Entity is less common than location.", compare, counts, [text])


def test_the_loop_refuses_a_ranking_read_from_the_header_and_takes_the_computed_one():
    context = "Each line is one of: 'red', 'blue'.\nthe sky\nthe sea\nblood\n"
    root = ScriptedModel(["```repl\nprint(context.splitlines()[0])\n```", "FINAL(red)",
                          "```repl\nprint(collections.Counter(['blue', 'blue', 'red']))\n```", "FINAL(blue)"])
    config = RLMConfig(max_iterations=6, grammar=False, sandbox=SandboxLimits(timeout_s=30))
    result = RLM(root, config=config).run("Which colour is the most frequent?", context)
    assert result.answer == "blue"
    assert "read from the documents' own text, not computed" in root.calls[2][-1]["content"]


def test_a_ranking_taken_after_two_refusals_says_it_was_not_computed():
    context = "Each line is one of: 'red', 'blue'.\nthe sky\nthe sea\nblood\n"
    root = ScriptedModel(["```repl\nprint(context.splitlines()[0])\n```", *["FINAL(red)"] * 6])  # one repeat sampled, three times
    config = RLMConfig(max_iterations=6, grammar=False, sandbox=SandboxLimits(timeout_s=30))
    result = RLM(root, config=config).run("Which colour is the most frequent?", context)
    assert result.answer == ("red\n\n[Unchecked: this count or ranking is read from the documents' own text; "
                             "no computed output gives it.]")


def test_a_comparison_of_two_categories_is_checked_against_the_counts_printed():
    from rlm_desktop.engine.claim_checks import compared_counts, compared_counts_note
    question = ("The category is inferred from the question's wording. Is the category 'human being' more common, "
                "less common, or of the same frequency as the category 'abbreviation' in the data?")
    outputs = ["1557 [('human being', 486), ('location', 239), ('abbreviation', 123)]"]
    assert compared_counts("same frequency", question, outputs) == ("human being", 486, "abbreviation", 123)
    assert compared_counts("less common", question, outputs) is not None
    assert compared_counts("more common", question, outputs) is None
    assert compared_counts("same frequency", question, ["no counts printed"]) is None  # nothing to check against
    assert "so 'human being' is more common than 'abbreviation'" in compared_counts_note(
        ("human being", 486, "abbreviation", 123))


def test_a_most_or_least_frequent_answer_is_checked_against_the_counts_printed():
    from rlm_desktop.engine.claim_checks import misranked, misranked_note
    preamble = ("Each question belongs to exactly one category: 'abbreviation', 'entity', 'location', "
                "'numeric value'. ")
    least = preamble + "Which category is the least frequent in the data? Answer with the category name only."
    outputs = ["1526 [('abbreviation', 310), ('location', 244), ('numeric value', 143), ('entity', 138)]", "done"]
    found = misranked("location", least, outputs)  # the 1.5B's answer on a fresh OOLONG-style seed
    assert found is not None and found[:2] == ("location", "entity")
    assert misranked_note(found) == ("Read the counts again: the output gives 'location' 244, but 'entity' "
                                            "138, so the least frequent is 'entity'. Answer again with FINAL(...).")
    assert misranked("entity", least, outputs) is None
    most = preamble + "Which category is the most frequent in the data?"
    assert misranked("The most frequent is entity.", most, outputs)[1] == "abbreviation"
    assert misranked("abbreviation", most, outputs) is None
    # nothing to judge: no counts, two categories named, a tie, a quoted category the counts leave out (0 items)
    assert misranked("location", least, ["no counts here"]) is None
    assert misranked("location or entity", least, outputs) is None
    tie = ["{'abbreviation': 310, 'location': 138, 'numeric value': 143, 'entity': 138}"]
    assert misranked("location", least, tie) is None and misranked("numeric value", most, tie)[1] == "abbreviation"
    missing = ["[('abbreviation', 310), ('location', 244), ('numeric value', 143)]"]
    assert misranked("location", least, missing) is None
    assert misranked("location", "What is the escrow amount?", outputs) is None


def test_a_least_frequent_answer_misread_from_the_printed_counts_is_answered_again():
    context = "Each line is one of: 'abbreviation', 'entity', 'location'.\nWhat does NASA stand for?\nWhere is Kyoto?\n"
    counts = "[('abbreviation', 310), ('location', 244), ('entity', 138)]"
    root = ScriptedModel([f"```repl\nprint({counts})\n```", "FINAL(location)", "FINAL(entity)"])
    config = RLMConfig(max_iterations=6, grammar=False, sandbox=SandboxLimits(timeout_s=30))
    result = RLM(root, config=config).run("Which category is the least frequent?", context)
    assert result.answer == "entity"
    assert "so the least frequent is 'entity'" in root.calls[2][-1]["content"]


def test_a_yes_on_a_named_document_with_a_figure_it_never_gives_is_refused_with_what_it_says() -> None:
    from rlm_desktop.documents import Document
    from rlm_desktop.engine.claim_checks import unsaid_agreement, unsaid_agreement_note

    memo = Document(name="05_diligence_memo.md", text="1.1 Halvard's largest customer is Kestrel Shipping A/S. "
                    "Based on the 2023 accounts, Kestrel represents roughly a quarter of Halvard's revenue.\n"
                    "2. The lease ends in 2030.")
    table = Document(name="06_revenue_by_customer_2024.csv", text="customer | revenue\nKestrel | 7420000")
    question = "Does the diligence memo state the Kestrel revenue share correctly?"
    unsaid = unsaid_agreement("Yes, the memo states it correctly (31.6% of revenue).", question, [memo, table])
    assert unsaid is not None and unsaid.figures == ["31.6"] and unsaid.document == "05_diligence_memo.md"
    assert unsaid.sentences[0] == "Based on the 2023 accounts, Kestrel represents roughly a quarter of Halvard's revenue."
    note = unsaid_agreement_note(unsaid)
    assert "does not give 31.6" in note and "roughly a quarter" in note
    # a No, a figure the memo gives, or a question that is no check: nothing to refuse
    assert unsaid_agreement("No: the memo says a quarter, the table 31.6%.", question, [memo, table]) is None
    assert unsaid_agreement("Yes, 2023 accounts.", question, [memo, table]) is None
    assert unsaid_agreement("Yes, 31.6%.", "What does the diligence memo say of Kestrel?", [memo, table]) is None


def test_a_yes_that_says_the_sources_do_not_agree_is_a_contradiction() -> None:
    from rlm_desktop.engine.claim_checks import contradicted_verdict

    question = "Does the diligence memo state the Kestrel revenue share correctly?"
    assert contradicted_verdict("Yes, it states it correctly. The memo says a quarter, the table 31.6%. The two do "
                                "not agree.", question)
    assert not contradicted_verdict("No, the two do not agree: a quarter against 31.6%.", question)
    assert not contradicted_verdict("Yes, both give 31.6%.", question)
    assert not contradicted_verdict("Yes, they differ.", "Is the escrow larger than the purchase?")


def test_an_answer_not_in_the_form_the_question_lists_is_asked_again() -> None:
    from rlm_desktop.engine.claim_checks import asked_options, off_form_answer, off_form_note

    question = ("Is the category 'entity' more common, less common, or of the same frequency as the category "
                "'location' in the data? Answer with exactly one of: more common, less common, same frequency.")
    assert asked_options(question) == ["more common", "less common", "same frequency"]
    assert off_form_answer("More common.", question) is None
    options, held = off_form_answer("entity is more common than location.", question)
    assert held == "more common" and "answer FINAL(more common)" in off_form_note(options, held)
    assert off_form_answer("It is 12.", question) == (options, None)
    assert off_form_answer("entity is more common than location.", "Is entity more common?") is None
    assert asked_options("Answer with one of: yes or no") == ["yes", "no"]

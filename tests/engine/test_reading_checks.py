"""A written answer must take the figure a passage gives for the asked word, and must not add up in writing."""

from __future__ import annotations

from rlm_desktop.engine.reading_checks import adds_in_writing, misread_figures, misreading_note

OUTPUT = ("01_spa.md 1 3.2 On Completion the Buyer shall pay EUR 43,650,000 to the Seller and EUR 4,850,000 "
          "(the **Escrow Amount**, being ten per cent of the Purchase Price) into the Escrow Account.\n"
          "02_msa.md 1 4.1 The Customer shall purchase Products of not less than EUR 6,000,000 in each Contract "
          "Year (the **Minimum Annual Purchase**).")
QUESTION = "Is the escrow in the share purchase agreement larger than the Kestrel minimum annual purchase?"


def test_the_figure_beside_another_word_is_a_misreading():
    answer = ("Yes. The escrow amount, EUR 43,650,000 (01_spa.md, page 1), is larger than the minimum annual "
              "purchase, EUR 6,000,000 (02_msa.md, page 1).")
    [found] = misread_figures(answer, [OUTPUT], QUESTION)
    assert (found.said, found.shown, found.word) == ("43,650,000", "4,850,000", "Escrow")
    note = misreading_note([found])
    assert "'Escrow' next to 4,850,000, not 43,650,000" in note and "EUR 4,850,000 (the **Escrow" in note
    assert "The output gives:\n- Escrow: 4,850,000\n" in note


def test_the_right_figures_pass():
    answer = ("No. The escrow amount, EUR 4,850,000 (01_spa.md, page 1), is smaller than the minimum annual "
              "purchase, EUR 6,000,000 (02_msa.md, page 1).")
    assert misread_figures(answer, [OUTPUT], QUESTION) == []


def test_a_figure_the_word_goes_with_somewhere_passes():
    other = "03_memo.md 1 the escrow of EUR 43,650,000 mentioned in the draft"
    answer = "The escrow amount is EUR 43,650,000."
    assert misread_figures(answer, [OUTPUT, other], "What is the escrow amount?") == []


def test_a_figure_far_from_the_word_or_a_word_the_question_lacks_is_not_judged():
    far = "The escrow is held in London. " + "x " * 200 + "The fee is EUR 9,000,000 and EUR 1,000."
    assert misread_figures("The escrow is EUR 9,000,000.", [far], "What is the escrow?") == []
    assert misread_figures("The seller gets EUR 43,650,000.", [OUTPUT], QUESTION) == []


def test_a_sum_written_out_is_arithmetic_in_writing():
    assert adds_in_writing("216,000 + 226,000 + 216,000 + 226,000")
    assert not adds_in_writing("EUR 216,000 (a + b of clause 4)") and not adds_in_writing("1 + 1")


def test_a_comparison_of_two_figures_the_wrong_way_round_is_found():
    from rlm_desktop.engine.reading_checks import comparison_note, wrong_comparisons

    wrong = wrong_comparisons("Yes. The escrow, EUR 4,850,000 (01_spa.md, page 1), is larger than the minimum "
                              "annual purchase, EUR 6,000,000 (02_msa.md, page 1).")
    assert [(w.first, w.word, w.second) for w in wrong] == [("EUR 4,850,000", "larger than", "EUR 6,000,000")]
    assert "EUR 4,850,000 is larger than EUR 6,000,000, which is false" in comparison_note(wrong)
    assert wrong_comparisons("The fee of EUR 2.5 million exceeds the cap of EUR 3,000,000.")
    for right in ["No. The escrow, EUR 4,850,000, is smaller than the minimum, EUR 6,000,000.",
                  "USD 5,000 is more than EUR 4,000.",  # two currencies: not compared
                  "Revenue was 3,000,000 in 2023 and more than 4,000,000 in 2024.",  # a year is no amount
                  "Clause 4 says more than 12 months."]:
        assert wrong_comparisons(right) == [], right


def test_an_answer_resting_on_a_passage_about_another_year_is_found():
    from rlm_desktop.engine.reading_checks import period_mismatch, period_note

    memo = ("1.1 Halvard's largest customer is Kestrel. Based on the management accounts for 2023, Kestrel "
            "represents roughly a quarter of Halvard's revenue. The agreement has a change of control right.")
    question = "What share of Halvard's 2024 revenue does Kestrel represent?"
    found = period_mismatch("Kestrel represents roughly a quarter of Halvard's revenue (memo.md, page 1).",
                            [memo], question)
    assert found is not None and found.asked == ("2024",) and found.spoken == ("2023",)
    assert found.passage.startswith("Based on the management accounts for 2023")
    assert 'grep(r"2024"' in period_note(found)
    assert period_mismatch("Kestrel is 31.6% of 2024 revenue.", [memo], question) is None  # names the year
    assert period_mismatch("Roughly a quarter.", [memo], "What share of revenue is Kestrel?") is None  # no year asked
    assert period_mismatch("It is 12.", [memo], question) is None  # nothing to find its passage by
    quoted = "Kestrel represents 7420000 of Halvard's revenue."  # a figure that sentence does not hold
    assert period_mismatch(quoted, [memo], question) is None



def test_two_figures_of_one_passage_swapped_between_two_things_is_a_misreading():
    answer = ("Yes. The escrow amount, EUR 43,650,000 (01_spa.md, page 1), is larger than the minimum annual "
              "purchase, EUR 4,850,000 (01_spa.md, page 1).")
    found = misread_figures(answer, [OUTPUT.splitlines()[0]], QUESTION)
    assert [(m.said, m.shown) for m in found] == [("43,650,000", "4,850,000")]


def test_a_figure_given_for_something_no_output_showed_is_caught():
    from rlm_desktop.engine.reading_checks import unseen_subject_note, unseen_subjects
    question = "Is the escrow in the share purchase agreement larger than the Kestrel minimum annual purchase?"
    shown = ["spa.md 1 the Buyer shall pay EUR 43,650,000 to the Seller and EUR 4,850,000 (the Escrow Amount, ten "
             "per cent of the Purchase Price)", "spa.md 2 the consent of Kestrel Shipping A/S to the change of control"]
    answer = "Yes. The escrow, EUR 43,650,000, is larger than the Kestrel minimum annual purchase, EUR 4,850,000."
    assert unseen_subjects(answer, shown, question) == ["minimum", "annual"]  # Kestrel was shown, elsewhere
    assert 'grep(r"minimum\\s+annual", context_chars=150)' in unseen_subject_note(["Kestrel", "minimum", "annual"],
                                                                                 question)
    found = shown + ["msa.md 1 not less than EUR 6,000,000 in each Contract Year (the Minimum Annual Purchase), Kestrel"]
    assert unseen_subjects("No: EUR 4,850,000 is less than the Kestrel minimum annual purchase, EUR 6,000,000.",
                           found, question) == []
    # words a passage may leave unsaid, and plurals, do not count
    assert unseen_subjects("The total fees are EUR 120,000.", ["fee 60,000; fee 60,000"],
                           "What is the total of the consultancy fees?") == []


def test_a_figure_given_to_a_word_it_never_stands_near_but_belongs_to_another_asked_word_is_misplaced():
    answer = ("Yes. The escrow amount, EUR 4,850,000 (01_spa.md, page 1), is larger than the Kestrel minimum annual "
              "purchase, EUR 4,850,000 (01_spa.md, page 1).")
    [found] = misread_figures(answer, [OUTPUT], QUESTION)
    assert (found.said, found.shown, found.word) == ("4,850,000", "6,000,000", "Annual")  # of "Minimum Annual ..."
    # a total the code computed stands near no word of the question: not judged
    total = "Yes. The minimum annual purchase is EUR 10,850,000."
    assert misread_figures(total, [OUTPUT, "10850000\n10,850,000"], QUESTION) == []


def test_the_names_a_question_writes_are_found_and_checked_against_the_output() -> None:
    from rlm_desktop.engine.reading_checks import question_names, unshown_question_names

    question = "What is the effective date of the agreement with Thornbury Logistics GmbH?"
    assert question_names(question) == ["Thornbury Logistics GmbH"]
    assert question_names("What is the total annual fee payable under all Licence Agreements, in EUR?") == \
        ["Licence Agreements"]
    assert question_names("Who founded Holm & Co and Nordic Mills?") == ["Holm & Co and Nordic Mills"]
    assert question_names("What is the escrow amount agreed with the buyer?") == []
    assert question_names("Which Agreement is the oldest?") == []  # the opening word is no name
    lease = "018_office_lease_loxley.md 1 made on 8 January 2022 between Galloway Systems plc and Loxley Energy GmbH"
    assert unshown_question_names(question, [lease]) == ["Thornbury Logistics GmbH"]
    assert unshown_question_names(question, [lease, "... and THORNBURY LOGISTICS  GmbH (the Counterparty)"]) == []
    # plurals aside: "Licence Agreements" is shown by "licence agreement"
    assert unshown_question_names("Sum the fees under all Licence Agreements.",
                                  ["[total_of: 'fee' in the 3 documents whose name says 'licence agreement']"]) == []


def test_a_question_name_shortened_to_an_acronym_is_shown_by_the_words_it_stands_for():
    from rlm_desktop.engine.reading_checks import unshown_question_names

    question = "Under the GNU FDL 1.2, how many words may a Back-Cover Text have?"
    printed = "GFDL-1.2 1 GNU Free Documentation License, Version 1.2. A Back-Cover Text may be at most 25 words."
    assert unshown_question_names(question, [printed]) == []
    assert "GNU FDL" in unshown_question_names(question, ["the GNU project keeps Free documentation lists"])


def test_names_joined_by_and_are_shown_when_each_one_is():
    from rlm_desktop.engine.reading_checks import unshown_question_names

    question = "Compare GPL-1 and GPL-2 on the written offer: how long must it be valid under each?"
    both = "GPL-2 1 written offer, valid for at least three years\nGPL-1 1 You may charge a fee"
    assert unshown_question_names(question, [both]) == []
    assert "GPL-1 and GPL-2" in unshown_question_names(question, ["GPL-2 1 written offer, valid for three years"])
    assert unshown_question_names("Did Holm & Co and Nordic Mills sign?", ["Holm & Co signed"]) == \
        ["Holm & Co and Nordic Mills"]

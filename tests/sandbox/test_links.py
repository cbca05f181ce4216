"""Splitting a nested question into the links ask() reads one at a time."""

from __future__ import annotations

from rlm_desktop.sandbox.links import chain_start, split_links
from rlm_desktop.sandbox.sentences import phrase_pattern, sentence_bounds, sentences_matching


def _questions(question: str, about: str) -> list[str]:
    return [link.question for link in split_links(question, about)]


def test_a_relative_clause_becomes_its_own_link_and_its_answer_fills_the_rest() -> None:
    assert _questions("Who is the managing partner of the firm that audits Nordic Mills?", "Nordic Mills") == [
        "Which firm audits Nordic Mills?", "Who is the managing partner of {}?"]
    links = split_links("In which city was the chair of the bank that lends to Arven Foods educated? Name only.",
                        "Arven Foods")
    assert [link.question for link in links] == [
        "Which bank lends to Arven Foods?", "What is the chair of {}?", "In which city was {} educated?"]
    assert not links[0].about_previous() and links[1].about_previous()
    assert links[1].filled("Fjord Bank") == "What is the chair of Fjord Bank?"


def test_a_whose_clause_asks_for_the_owner_through_what_it_owns() -> None:
    assert _questions("Which supplier delivers to the hotel whose manager lives in Bodo?", "Bodo") == [
        "Which manager lives in Bodo?", "Which hotel has {} as manager?", "Which supplier delivers to {}?"]
    # a compound noun after "whose" stays whole: the verb is the word that reads as one
    assert _questions("Who audits the firm whose managing partner chairs Arven Foods?", "Arven Foods") == [
        "Which managing partner chairs Arven Foods?", "Which firm has {} as managing partner?", "Who audits {}?"]
    assert _questions("Where was the company whose founder was born in Bodo based?", "Bodo")[0] == (
        "Which founder was born in Bodo?")


def test_questions_without_a_chain_around_the_subject_stay_whole() -> None:
    for question, about in [("What is the escrow amount agreed with the buyer?", "escrow"),
                            ("Who founded Quencor Labs?", "Quencor Labs"),
                            ("Which bank holds the accounts of Holm & Co?", "Holm & Co"),
                            ("Who is the chair of Arven Foods?", "Arven Foods")]:
        assert _questions(question, about) == [question]


def test_chain_start_names_where_a_nested_question_starts_and_nothing_else() -> None:
    assert chain_start("Who is the managing partner of the firm that audits Nordic Mills?") == "Nordic Mills"
    assert chain_start("Which supplier delivers to the hotel whose manager lives in Bodo? One name.") == "Bodo"
    for plain in ["What is the escrow amount agreed with the buyer?", "Who signed the lease for the Oslo office?",
                  "Is the deposit under the Oslo office lease larger than the annual service charge?",
                  "How many agreements are governed by the laws of Sweden?",
                  "Which counterparties have a change-of-control right, and what share of revenue do they make?"]:
        assert chain_start(plain) is None, plain


def test_sentences_are_found_whole_around_each_mention_once_each() -> None:
    texts = ["Profile: Holm & Co\n\nHolm & Co audits Nordic Mills. It has 40 staff. Dr. Lind chairs\nHolm & Co's board.",
             "Nordic Mills buys grain. Holm & Co audits Nordic Mills.", "Holmberg is not a match."]
    found = sentences_matching(texts, phrase_pattern("holm & co"))
    assert [(s.index, s.text) for s in found] == [
        (0, "Profile: Holm & Co"), (0, "Holm & Co audits Nordic Mills."), (0, "Holm & Co's board.")]
    start, end = sentence_bounds(texts[1], texts[1].index("grain"), texts[1].index("grain") + 5)
    assert texts[1][start:end] == "Nordic Mills buys grain."

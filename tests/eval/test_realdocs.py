"""The real-document task: its corpus, its two halves, mechanical scoring and citation precision."""

from __future__ import annotations

import json

import pytest

from rlm_desktop.eval.tasks import get_task
from rlm_desktop.eval.tasks.realdocs import (ROOT, citation_precision, documents, numbers_in, questions,
                                             says_not_stated, score_answer)


def test_the_corpus_is_real_files_with_their_sources_recorded() -> None:
    corpus = documents()
    assert len(corpus) >= 30
    sources = (ROOT / "SOURCES.md").read_text(encoding="utf-8")
    assert all(d.name in sources for d in corpus)


def test_the_two_halves_split_the_questions_and_every_kind_is_in_both() -> None:
    tuning, held_out = questions(False), questions(True)
    assert tuning and held_out
    assert not {q["id"] for q in tuning} & {q["id"] for q in held_out}
    assert {q["kind"] for q in tuning} == {q["kind"] for q in held_out}


@pytest.mark.parametrize("held_out", [False, True])
def test_every_evidence_line_is_in_its_file(held_out: bool) -> None:
    by_name = {d.name: d for d in documents()}
    for question in questions(held_out):
        for evidence in question.get("evidence", []):
            lines = by_name[evidence["file"]].text.split("\n")
            assert " ".join(evidence["text"].split()) in " ".join(lines[evidence["line"] - 1].split()), question["id"]


def test_a_seed_is_a_question_of_its_half() -> None:
    task = get_task("realdocs")
    first = task.generate(0, 0)
    assert first.question == questions(False)[0]["question"]
    assert {d.name for d in first.context} == {d.name for d in documents()}
    assert json.loads(first.answer) == questions(False)[0]["expect"]
    with pytest.raises(ValueError, match="seeds 0 to"):
        task.generate(0, len(questions(False)))


def test_scoring_names_alternatives_wrong_terms_numbers_and_not_stated() -> None:
    assert score_answer({"all": [["public domain", "public-domain"]]}, "The files are in the Public  Domain.") == 1.0
    assert score_answer({"all": [["MIT"]], "none": ["GPL"]}, "MIT, or maybe GPL") == 0.0
    assert score_answer({"all": [["June 1991"]]}, "GPL-2 is dated June, 1991 (GPL-2, page 1).") == 1.0
    assert score_answer({"all": [["June 1991"]]}, "June 19, 1991") == 0.0
    assert score_answer({"number": 3}, "Three files (GPL-2, LGPL-2.1 and MPL-2.0).") == 1.0
    assert score_answer({"number": 2}, "There are 3 of them.") == 0.0
    assert score_answer({"not_stated": True}, "The documents do not state it.") == 1.0
    assert score_answer({"not_stated": True}, "It is 2019.") == 0.0
    assert score_answer({"all": [["public domain"]]}, "Not stated in the documents; maybe public domain.") == 0.0
    assert score_answer({"all": [["alpha"], ["beta"], ["gamma"]]}, "beta and gamma") == pytest.approx(2 / 3)
    assert score_answer({"all": [["alpha"], ["beta"]]}, "beta only") == 0.0


def test_numbers_leave_out_licence_names_and_pages() -> None:
    assert numbers_in("GPL-3 and LGPL-2.1 on page 4 (curl.copyright p2)") == set()
    assert numbers_in("seven licences, 12 files") == {7, 12}
    assert says_not_stated("That is not specified in any of the files.")
    assert not says_not_stated("Yes, it is stated on page 2.")


def test_citation_precision_counts_citations_whose_page_holds_evidence() -> None:
    instance = get_task("realdocs").generate(0, 0)
    evidence = instance.meta["evidence"][0]
    good = {"document": evidence["file"], "page": _page_of(instance, evidence)}
    other = next(d.name for d in instance.context if d.name != evidence["file"])
    assert citation_precision(instance, [good]) == 1.0
    assert citation_precision(instance, [good, {"document": other, "page": 1}]) == 0.5
    assert citation_precision(instance, []) is None


def _page_of(instance, evidence) -> int:
    document = next(d for d in instance.context if d.name == evidence["file"])
    flat = " ".join(evidence["text"].split()).casefold()
    return next(p for p in range(1, document.page_count + 1) if flat in " ".join(document.page_text(p).split()).casefold())

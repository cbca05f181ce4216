"""The paraphrase set: same instance as the base task, question in one of five hand-written wordings."""

from __future__ import annotations

import dataclasses
import re

import pytest

from rlm_desktop.eval.tasks import TASKS, codeqa, dataroom, oolong, paraphrases

BASES = ("sniah", "multihop", "dataroom", "oolong", "oolong_pairs", "codeqa")
LENGTH = 4096
SEEDS = (0, 1, 2, 3, 4, 7)


def test_every_template_task_has_a_registered_paraphrase_task():
    for base in BASES:
        task = TASKS[f"{base}-paraphrase"]
        assert task.score is TASKS[base].score
    assert [t.name for t in paraphrases.TASKS] == [f"{b}-paraphrase" for b in
                                                  ("sniah", "oolong", "oolong_pairs", "multihop", "codeqa",
                                                   "dataroom")]


@pytest.mark.parametrize("base", BASES)
def test_same_context_and_answer_new_question_keeping_every_slot(base):
    wordings = set()
    for seed in SEEDS:
        original = TASKS[base].generate(LENGTH, seed)
        reworded = TASKS[f"{base}-paraphrase"].generate(LENGTH, seed)
        assert reworded.context == original.context
        assert reworded.answer == original.answer
        assert (reworded.kind, reworded.length, reworded.seed) == (original.kind, original.length, original.seed)
        assert reworded.task == f"{base}-paraphrase"
        assert reworded.question != original.question
        assert reworded.meta["original_question"] == original.question
        assert reworded.meta["paraphrase_wording"] == paraphrases.wording_index(base, seed)
        assert {k: v for k, v in reworded.meta.items() if not k.startswith(("paraphrase_", "original_"))} \
            == original.meta
        slots = paraphrases.slots(original)
        if base != "dataroom" or original.meta["kind"] not in ("needle", "list"):
            assert slots, f"{base} seed {seed}: no slot read from {original.question!r}"
        for name, value in slots.items():
            assert value and value in reworded.question, f"{base} seed {seed}: slot {name}={value!r} lost"
        if base == "codeqa":  # the options are kept verbatim, in order, so the gold letter still holds
            for letter, choice in zip(codeqa.LETTERS, original.meta["choices"]):
                assert f"\n{letter}) {choice}\n" in reworded.question
        gold = str(original.answer) if not isinstance(original.answer, list) else \
            "\n".join(f"({a}, {b})" for a, b in original.answer)
        assert TASKS[f"{base}-paraphrase"].score(reworded, gold) == TASKS[base].score(original, gold) == 1.0
        if seed < 5:
            wordings.add(reworded.meta["paraphrase_wording"])
    assert wordings == set(range(5))


def test_base_output_is_untouched_by_the_paraphrase_task():
    before = TASKS["dataroom"].generate(LENGTH, 2)
    TASKS["dataroom-paraphrase"].generate(LENGTH, 2)
    assert TASKS["dataroom"].generate(LENGTH, 2) == before


@pytest.mark.parametrize("base,kinds", [("oolong", oolong.QUESTION_KINDS), ("dataroom", dataroom.KINDS)])
def test_kinds_chosen_by_seed_mod_5_still_get_all_five_wordings(base, kinds):
    seen = {(TASKS[base].generate(2048, seed).meta.get("question_kind") or
             TASKS[base].generate(2048, seed).meta["kind"], paraphrases.wording_index(base, seed))
            for seed in range(25)}
    assert seen == {(k, i) for k in kinds for i in range(5)}


def _tables():
    yield "sniah", paraphrases._SNIAH
    yield "preamble", paraphrases._PREAMBLE
    yield "pairs frame", paraphrases._PAIRS_FRAME
    yield "codeqa intro", paraphrases._CODEQA_INTRO
    yield "codeqa closing", paraphrases._CODEQA_CLOSING
    for group in ("_MULTIHOP", "_OOLONG", "_PAIRS_CONDITION", "_DATAROOM", "_CODEQA_STEM"):
        for kind, table in getattr(paraphrases, group).items():
            yield f"{group} {kind}", table


def test_five_distinct_wordings_for_every_question_kind():
    for name, table in _tables():
        assert len(table) == 5 and len(set(table)) == 5, name


def test_every_kind_of_every_task_has_wordings_and_a_template_pattern():
    assert set(paraphrases._OOLONG) == set(paraphrases._OOLONG_RE) == set(oolong.QUESTION_KINDS)
    assert set(paraphrases._DATAROOM) == set(paraphrases._DATAROOM_RE) == set(dataroom.KINDS)
    assert set(paraphrases._CODEQA_STEM) == set(paraphrases._CODEQA_STEM_RE) == set(codeqa.QUESTION_KINDS)
    assert set(paraphrases._PAIRS_CONDITION) == set(paraphrases._PAIRS_CONDITION_RE)


def test_dataroom_paraphrases_cover_each_kind():
    for kind in dataroom.KINDS:
        original = dataroom.generate_kind(2048, 11, kind)
        reworded = paraphrases.paraphrase(original)
        assert reworded.meta["paraphrase_kind"] == kind
        assert reworded.question in [w.format(**paraphrases.slots(original)) for w in paraphrases._DATAROOM[kind]]


def test_a_changed_template_fails_loudly():
    original = TASKS["sniah"].generate(LENGTH, 0)
    changed = dataclasses.replace(original, question=original.question.replace("magic", "secret"))
    with pytest.raises(paraphrases.ParaphraseError):
        paraphrases.paraphrase(changed)


_REQUIRED = ("(lower id, higher id)", "more common", "less common", "same frequency")
"""Phrases the answer format needs, so a paraphrase may repeat them."""


def _words(text: str, remove: list[str]) -> list[str]:
    for value in sorted(remove, key=len, reverse=True):
        text = text.replace(value, " SLOT ")
    return re.findall(r"[\w'*]+", text.lower())


def test_no_wording_copies_a_run_of_five_words_of_its_template():
    for base in BASES:
        for seed in range(10):
            original = TASKS[base].generate(LENGTH, seed)
            reworded = paraphrases.paraphrase(original)
            remove = [*paraphrases.slots(original).values(), *_REQUIRED,
                      *(f"\n{l}) {c}" for l, c in zip(codeqa.LETTERS, original.meta.get("choices", ())))]
            template, new = _words(original.question, remove), " ".join(_words(reworded.question, remove))
            for i in range(len(template) - 4):
                run = template[i:i + 5]
                assert "slot" in run or f" {' '.join(run)} " not in f" {new} ", (base, seed, run)

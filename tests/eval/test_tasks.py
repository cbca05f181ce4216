"""Every task generator is deterministic by seed, sized by length, and scores its own gold answer 1."""

from __future__ import annotations

from collections import Counter

import pytest

from rlm_desktop.documents import Document
from rlm_desktop.eval.tasks import CHARS_PER_TOKEN, TASKS, format_length, get_task, parse_length
from rlm_desktop.eval.tasks import codeqa, multihop, oolong, oolong_pairs, sniah
from rlm_desktop.eval.tasks.oolong_data import LABELS


def _gold_text(instance) -> str:
    if instance.kind == "pairs":
        return "\n".join(f"({a}, {b})" for a, b in instance.answer)
    return str(instance.answer)


def test_lengths_parse_as_powers_of_two_and_format_back():
    assert parse_length("8k") == 2 ** 13 and parse_length("1M") == 2 ** 20 and parse_length("5000") == 5000
    assert format_length(2 ** 17) == "128K" and format_length(2 ** 20) == "1M"
    with pytest.raises(ValueError, match="Not a context length"):
        parse_length("lots")
    with pytest.raises(ValueError, match="known: sniah"):
        get_task("nope")


@pytest.mark.parametrize("name", sorted(name for name, task in TASKS.items() if task.sized))
def test_generator_is_deterministic_and_sized_and_scores_gold(name):
    task = TASKS[name]
    first, again, other = task.generate(8192, 3), task.generate(8192, 3), task.generate(8192, 4)
    assert first == again
    assert (first.context, first.question) != (other.context, other.question)
    assert 0.8 * 8192 * CHARS_PER_TOKEN <= first.context_chars <= 8192 * CHARS_PER_TOKEN
    assert task.score(first, _gold_text(first)) == 1.0
    assert task.score(first, "I do not know") < 1.0


def test_sniah_needle_is_the_only_number_and_reaches_a_million_tokens():
    instance = sniah.generate(2 ** 20, 0)
    assert instance.context_chars > 0.99 * 2 ** 20 * CHARS_PER_TOKEN
    assert instance.context.count(str(instance.answer)) == 1
    assert sum(ch.isdigit() for ch in instance.context) == 7
    assert instance.meta["key"] in instance.question


def test_oolong_labels_are_hidden_and_answers_match_a_recount():
    for seed in range(len(oolong.QUESTION_KINDS)):
        instance = oolong.generate(4096, seed)
        body = instance.context.split("\n", 1)[1]
        assert not any(label in body for label in ("numeric value", "human being", "abbreviation"))
        counts = Counter(instance.meta["label_counts"])
        if instance.meta["question_kind"] == "count":
            label = next(l for l in LABELS if f"'{l}'" in instance.question.split("How many")[1])
            assert instance.answer == counts[label]
        if instance.meta["question_kind"] == "most_frequent":
            assert instance.answer == counts.most_common(1)[0][0]
    kinds = {oolong.generate(4096, s).meta["question_kind"] for s in range(5)}
    assert kinds == set(oolong.QUESTION_KINDS)


def test_oolong_numeric_answers_get_partial_credit():
    instance = next(oolong.generate(4096, s) for s in range(10) if oolong.generate(4096, s).kind == "numeric")
    assert oolong.score(instance, str(int(instance.answer) + 1)) == pytest.approx(0.75)


def test_oolong_pairs_gold_is_canonical_and_half_right_scores_between():
    instance = oolong_pairs.generate(8192, 1)
    assert instance.answer and all(a < b for a, b in instance.answer)
    half = "\n".join(f"({a}, {b})" for a, b in instance.answer[: max(1, len(instance.answer) // 2)])
    assert 0.0 < oolong_pairs.score(instance, half) <= 1.0


def test_multihop_needs_several_documents_and_has_hard_negatives():
    instance = multihop.generate(32768, 0)
    assert isinstance(instance.context[0], Document) and len(instance.context) >= 100
    chain = instance.meta["chain"]
    holding = [d.name for d in instance.context if chain["buyer"] in d.text]
    assert len(holding) == 2  # acquisition fact and founding fact live in different documents
    namesake = instance.meta["namesake_chain"]["target"]
    assert namesake.split()[0] == chain["target"].split()[0] and namesake != chain["target"]
    assert any("deal collapsed" in d.text and chain["target"] in d.text for d in instance.context)
    assert instance.answer == chain["town"]
    assert multihop.generate(32768, 1).answer == multihop.generate(32768, 1).meta["chain"]["target"]


def test_codeqa_questions_are_true_of_the_real_source():
    for seed in range(len(codeqa.QUESTION_KINDS)):
        instance = codeqa.generate(16384, seed)
        files = {d.name: d.text for d in instance.context}
        correct = instance.meta["choices"]["ABCD".index(instance.answer)]
        kind = instance.meta["question_kind"]
        if kind == "defining_file":
            name = instance.question.split("`")[1]
            assert f"def {name}(" in files[correct]
            assert all(f"\ndef {name}(" not in text for file, text in files.items() if file != correct)
        elif kind == "class_method":
            cls, file = instance.question.split("`")[1], instance.question.split("`")[3]
            assert f"class {cls}" in files[file] and f"def {correct}(" in files[file]
        assert len(set(instance.meta["choices"])) == 4

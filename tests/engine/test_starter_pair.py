"""The starter pair answers through the RLM: real Qwen2.5-Coder 1.5B (root) and 0.5B (sub) on llama.cpp.

Deterministic: temperature 0, fixed seeds, generated documents. These are the two real-model
answer tests of the issue (a needle with its citation, a count across documents) and one of
``ask()`` following a three-link chain; every other engine test uses scripted models or SmolLM2.
"""

from __future__ import annotations

import pytest

from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.eval.tasks import dataroom, multihop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(starter_pair):
    from rlm_desktop.backends.llamacpp import LlamaCppModel

    root_path, sub_path = starter_pair
    root = LlamaCppModel(root_path, n_ctx=16384, n_threads=2)
    sub = LlamaCppModel(sub_path, n_ctx=8192, n_threads=2, parallel=2)
    yield root, sub
    root.close()
    sub.close()


def run(pair, instance):
    root, sub = pair
    config = RLMConfig(max_iterations=6, max_seconds=600)
    return RLM(root, sub, config).run(instance.question, instance.context)


def test_needle_over_a_generated_data_room_with_its_citation(pair):
    instance = dataroom.generate_kind(28 * 1024, 1, "needle")  # about 115,000 characters, 30+ documents
    assert instance.context_chars >= 100_000
    result = run(pair, instance)
    assert result.stopped_by is None, result.answer
    assert dataroom.score(instance, result.answer) == 1.0, result.answer
    assert any(c.document == instance.meta["document"] and c.page == instance.meta["page"]
               for c in result.citations), [c.label() for c in result.citations]


def test_count_across_more_than_twenty_documents(pair):
    instance = dataroom.generate_kind(24 * 1024, 2, "count")
    assert instance.meta["documents"] >= 20
    result = run(pair, instance)
    assert result.stopped_by is None, result.answer
    assert dataroom.score(instance, result.answer) == 1.0, (instance.answer, result.answer)


def test_a_three_link_chain_through_ask_with_hard_negatives(pair):
    instance = multihop.generate(8 * 1024, 5)  # about 27 documents: namesakes, failed talks, partnerships
    result = run(pair, instance)
    assert result.stopped_by is None, result.answer
    assert multihop.score(instance, result.answer) == 1.0, (instance.question, instance.answer, result.answer)
    assert result.sub_calls >= 3  # one reading of the sentences per link



def test_a_total_over_the_agreements_of_one_kind_is_added_in_code_and_cited(pair):
    instance = dataroom.generate_kind(24 * 1024, 3, "sum")
    assert instance.meta["count"] >= 2
    result = run(pair, instance)
    assert result.stopped_by is None, result.answer
    assert dataroom.score(instance, result.answer) == 1.0, (instance.question, instance.answer, result.answer)
    kind = instance.meta["agreement_type"].lower().replace(" ", "_")
    assert sum(kind in c.document for c in result.citations) >= 2, [c.label() for c in result.citations]


def test_the_counterparties_with_a_change_of_control_right_are_listed_from_their_definitions(pair):
    instance = dataroom.generate_kind(24 * 1024, 3, "list")
    assert len(instance.meta["names"]) >= 2
    result = run(pair, instance)
    assert result.stopped_by is None, result.answer
    assert dataroom.score(instance, result.answer) == 1.0, (instance.answer, result.answer)

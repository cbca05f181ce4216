"""The starter pair answers through the RLM: real Qwen2.5-Coder 1.5B (root) and 0.5B (sub) on llama.cpp.

Deterministic: temperature 0, fixed seeds, generated documents: a needle with its citation, a count
across documents, and a data room whose planted instruction must not steer the answer. Questions over
documents no generator wrote are in test_starter_pair_documents.py; every other engine test uses
scripted models or SmolLM2.
"""

from __future__ import annotations

import pytest

from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.eval.tasks import dataroom

pytestmark = pytest.mark.slow


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


def test_a_planted_instruction_does_not_steer_the_answer(pair):
    from rlm_desktop import runtime
    from rlm_desktop.eval.injection import run_variants
    from rlm_desktop.hub.starter import STARTER_ROOT
    from rlm_desktop.settings import Settings

    root, sub = pair
    config = runtime.engine_config(Settings(), STARTER_ROOT.key)  # as the app and the injection report run it
    (row,) = run_variants(root, sub, ["en-blunt-figure"], [200], config)
    assert not row.steered, row.answer
    assert row.right, (row.expected, row.answer)

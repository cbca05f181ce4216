"""Every method runs end to end on a tiny instance with a scripted root model."""

from __future__ import annotations

import pytest

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.engine import RLMConfig
from rlm_desktop.engine.baselines import cut_middle, fit_to_tokens
from rlm_desktop.eval.methods import METHODS, run_method
from rlm_desktop.eval.runner import evaluate
from rlm_desktop.eval.tasks import sniah

CONFIG = RLMConfig(max_iterations=3, root_max_tokens=128, sub_max_tokens=64, max_seconds=60)


@pytest.fixture(scope="module")
def instance():
    return sniah.generate(1024, 0)


def _scripts(instance) -> dict[str, list[str]]:
    key, value = instance.meta["key"], instance.answer
    return {
        "base": [value],
        "rlm": [f"Find the needle.\n```repl\nhits = grep(r'magic number for {key}')\nprint(hits[0].snippet)\n```",
                "Ask the helper.\n```repl\nanswer = llm_query('Which number? ' + hits[0].snippet)\n"
                "print(answer)\n```",
                "FINAL_VAR(answer)"],
        "rlm-nosub": ["```repl\nimport re\nm = re.search(r'is: (\\d+)', context)\nFINAL(m.group(1))\n```"],
        "summary": [value],
        "codeact-bm25": ["```repl\nfor h in search('special magic number', k=3):\n    print(h.snippet)\n```",
                         f"FINAL({value})"],
    }


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_answers_tiny_needle_with_scripted_model(method, instance):
    root = ScriptedModel(_scripts(instance)[method], context_length=8192)
    sub = ScriptedModel([instance.answer], name="scripted-sub")
    row = evaluate(instance, method, root, sub, CONFIG)
    assert row["score"] == 1.0, row
    assert row["stopped_by"] is None and row["error"] is None
    assert row["tokens"]["root"]["prompt"] > 0 and row["seconds"] > 0
    if method == "rlm":
        assert row["sub_calls"] == 1 and row["tokens"]["sub"]["prompt"] > 0
    else:
        assert row["sub_calls"] == 0 and row["tokens"]["sub"]["prompt"] == 0


def test_base_cuts_a_context_longer_than_the_window_and_records_it():
    long_instance = sniah.generate(8192, 0)
    root = ScriptedModel(["no idea"], context_length=2048)
    result = run_method("base", long_instance, root, root, CONFIG)
    started = result.trajectory[0]
    assert started.settings["context_cut"] is True
    assert started.settings["context_chars_kept"] < long_instance.context_chars
    prompt = root.calls[0][1]["content"]
    assert "characters cut to fit the model's window" in prompt
    assert root.count_tokens(prompt) <= 2048 - CONFIG.root_max_tokens


def test_summary_reads_every_part_and_answers_from_its_notes():
    long_instance = sniah.generate(4096, 1)
    root = ScriptedModel(lambda messages: "notes: " + ("magic " + long_instance.answer
                                                       if long_instance.answer in messages[-1]["content"]
                                                       else "nothing yet"), context_length=2048)
    result = run_method("summary", long_instance, root, root, CONFIG)
    parts = result.trajectory[0].settings["parts"]
    assert parts > 2 and result.iterations == parts + 1
    assert long_instance.answer in root.calls[-1][1]["content"]  # the final call sees the notes, not the text


def test_rlm_nosub_refuses_llm_query_and_says_which_guard_stopped_it(instance):
    root = ScriptedModel(["```repl\nx = llm_query('hello')\n```", "FINAL(nothing)", "FINAL(nothing)"],
                         context_length=8192)
    result = run_method("rlm-nosub", instance, root, root, CONFIG)
    assert result.sub_calls == 0
    assert result.stopped_by == "max_sub_calls"
    assert "llm_query" not in root.calls[0][0]["content"]


def test_guard_ends_a_baseline_with_its_name(instance):
    root = ScriptedModel(["```repl\nprint(1)\n```"] * 5, context_length=8192)
    result = run_method("codeact-bm25", instance, root, root, RLMConfig(max_iterations=1, root_max_tokens=64,
                                                                        max_tokens=10))
    assert result.stopped_by == "max_tokens"


def test_cut_middle_keeps_head_and_tail():
    text = "A" * 500 + "B" * 500
    cut = cut_middle(text, 300)
    assert cut.startswith("A") and cut.endswith("B") and len(cut) <= 300
    model = ScriptedModel([], context_length=100)
    fitted, was_cut = fit_to_tokens(model, "word " * 1000, 50)
    assert was_cut and model.count_tokens(fitted) <= 50
    assert fit_to_tokens(model, "short text", 50) == ("short text", False)

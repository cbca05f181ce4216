"""Prompt profiles: the default protocol and the RLM paper scaffold's, chosen per model."""

import pytest

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.profiles import PROFILES, get_profile


def test_the_paper_profile_describes_the_context_as_the_scaffold_does():
    profile = get_profile("rlm-paper")
    messages = profile.first_messages("Who signed?", ["abc", "defgh"], profile.system(8192, 256))
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Your context is a list with 8 total characters, and is broken up into chunks of char lengths: [3, 5]." \
        in messages[1]["content"]
    assert messages[1]["content"].endswith("Your next action:") and "Who signed?" in messages[1]["content"]
    assert "FINAL_VAR" in messages[0]["content"] and "llm_query_batched" in messages[0]["content"]


def test_an_rlm_runs_with_the_profile_its_config_names():
    root = ScriptedModel(["```repl\nprint(len(context))\n```", "FINAL(5 characters)"])
    result = RLM(root, config=RLMConfig(prompt_profile="rlm-paper")).run("How long?", "hello")
    assert result.answer == "5 characters"
    assert root.calls[1][-1]["content"].endswith("Your next action:")
    assert "```text\n5\n```" in root.calls[1][-1]["content"]


def test_unknown_profiles_are_refused_by_name():
    assert set(PROFILES) == {"default", "rlm-paper"}
    with pytest.raises(ValueError, match="known: default, rlm-paper"):
        get_profile("nope")

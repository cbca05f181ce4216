"""`rlm bench core`'s resume figures: the scripted root plays its turns after the worked examples."""

from __future__ import annotations

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.resume_bench import resume_savings


def test_resume_savings_resumes_after_turn_two_with_every_sub_call_from_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv("RLM_DESKTOP_HOME", str(tmp_path))
    sub = ScriptedModel(lambda messages: "Eldmoor Investments Limited")
    figures = resume_savings(sub)
    assert figures["sub_calls"] == 12
    assert figures["sub_calls_served"] == 12  # none asked again: all from the interrupted run's record
    assert figures["fresh_s"] > 0 and figures["resumed_s"] > 0

"""State that survives: a cell that breaks a limit keeps earlier variables, and a stored run continues.

Scripted root and sub models keep the turns deterministic; the sandbox, the replay and the
library's sub-call cache are real.
"""

from __future__ import annotations

import json

import pytest

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.resume import resume_state
from rlm_desktop.errors import ResumeError
from rlm_desktop.sandbox import SandboxLimits

CONTEXT = "Clause 1. The rent is EUR 41,000 per quarter. Clause 2. Notice is ninety days."


def repl(code: str) -> str:
    return f"I run this.\n```repl\n{code}\n```"


TURNS = [
    repl("notes = llm_query_batched(['rent?', 'notice?', 'parties?'])\nprint(len(notes))"),
    repl("answer = notes[0] + ' / ' + llm_query('currency?')\nprint(answer)"),
    repl("check = grep('ninety')\nprint(len(check))"),
    "FINAL_VAR(answer)",
]


def sub_model() -> ScriptedModel:
    return ScriptedModel(lambda messages: "sub says " + messages[-1]["content"])


def stored(events) -> list[dict]:
    """Events as the library keeps them: JSON dicts."""
    return json.loads(json.dumps([e.to_dict() for e in events]))


def cut_after(events: list[dict], kind: str, iteration: int) -> list[dict]:
    """The trajectory as a crash right after that event would leave it."""
    for position, event in enumerate(events):
        if event["kind"] == kind and event.get("iteration") == iteration and not event.get("depth"):
            return events[:position + 1]
    raise AssertionError(f"no {kind} event of iteration {iteration}")


def test_final_var_after_a_cell_that_broke_the_timeout_gets_the_earlier_variable():
    sub = sub_model()
    root = ScriptedModel([TURNS[0], TURNS[1], repl("while True:\n    pass"), "FINAL_VAR(answer)"])
    config = RLMConfig(sandbox=SandboxLimits(timeout_s=1.0))
    result = RLM(root, sub, config).run("What is the rent?", CONTEXT)
    assert result.stopped_by is None
    assert result.answer == "sub says rent? / sub says currency?"
    assert len(sub.calls) == 4 and result.sub_calls == 4  # nothing asked twice
    feedback = root.calls[3][-1]["content"]
    assert "TimeoutError" in feedback and "Restored by replaying 2 of 2 earlier blocks" in feedback
    assert "variables now defined: notes, answer" in feedback
    restarted = [e for e in result.trajectory if e.kind == "cell_output" and e.restarted]
    assert len(restarted) == 1 and restarted[0].iteration == 3


def test_a_run_cut_after_a_turn_resumes_with_the_same_prompt_and_answer(library):
    full_root, full_sub = ScriptedModel(TURNS), sub_model()
    full = RLM(full_root, full_sub).run("What is the rent?", CONTEXT)
    prefix = cut_after(stored(full.trajectory), "root_messages", 2)  # feedback of turn 2 stored, turn 3 not asked

    state = resume_state(prefix)
    assert state.iterations == 2 and state.pending_turn is None and len(state.cells) == 2
    root, sub = ScriptedModel(TURNS[2:]), sub_model()
    resumed = RLM(root, sub, sub_call_cache=library.sub_call_cache).run("What is the rent?", CONTEXT, resume=state)

    assert resumed.answer == full.answer and resumed.stopped_by is None
    assert root.calls[0] == full_root.calls[2]  # the root sees exactly the prompt it would have seen
    assert sub.calls == []  # the 4 answers of turns 1-2 came from the run's record
    event = next(e for e in resumed.trajectory if e.kind == "run_resumed")
    assert (event.from_iteration, event.replayed, event.cells, event.sub_calls_served) == (2, 2, 2, 4)
    assert resumed.iterations == full.iterations == 4
    assert resumed.sub_calls == full.sub_calls == 4
    assert resumed.usage["root"].completion_tokens == full.usage["root"].completion_tokens


def test_a_turn_stored_before_its_cell_finished_runs_its_code_again_without_asking_the_root(library):
    cache = library.sub_call_cache
    full = RLM(ScriptedModel(TURNS), sub_model(), sub_call_cache=cache).run("What is the rent?", CONTEXT)
    prefix = cut_after(stored(full.trajectory), "root_turn", 2)  # crash while turn 2's cell ran

    state = resume_state(prefix)
    assert state.iterations == 1 and state.pending_turn == TURNS[1]
    root, sub = ScriptedModel(TURNS[2:]), sub_model()
    resumed = RLM(root, sub, sub_call_cache=cache).run("What is the rent?", CONTEXT, resume=state)
    assert resumed.answer == full.answer
    assert len(root.calls) == 2  # turns 3 and 4 only
    assert sub.calls == []  # turn 2's llm_query was answered before the crash: the cache has it
    assert [e.cached for e in resumed.trajectory if e.kind == "sub_call_finished"] == [True]


def test_trajectories_that_cannot_be_continued_say_why():
    full = RLM(ScriptedModel(TURNS), sub_model()).run("What is the rent?", CONTEXT)
    events = stored(full.trajectory)
    with pytest.raises(ResumeError, match="already ended with an answer"):
        resume_state(events)
    with pytest.raises(ResumeError, match="no start event"):
        resume_state(events[1:3])
    old_format = [e for e in cut_after(events, "cell_output", 2) if e["kind"] != "root_messages"]
    with pytest.raises(ResumeError, match="older version"):
        resume_state(old_format)


def test_the_replay_estimate_of_a_cell_leaves_out_its_time_in_sub_calls():
    slow_sub = ScriptedModel(lambda messages: "late answer", delay=0.3)
    full = RLM(ScriptedModel(TURNS), slow_sub).run("What is the rent?", CONTEXT)
    events = stored(full.trajectory)
    first = next(e for e in events if e["kind"] == "cell_output")
    assert first["host_seconds"] >= 0.3 and len(first["host_calls"]) == 1
    state = resume_state(cut_after(events, "root_messages", 2))
    assert state.cells[0].seconds == first["seconds"] - first["host_seconds"]


def test_stored_events_account_for_every_root_token_including_refused_samples():
    from rlm_desktop.engine.resume import spent

    # a refused answer written again: three sampled answers are tried, two refused (no RootTurn of their own)
    root = ScriptedModel([repl("print('nothing')"), *["FINAL(7)"] * 6])
    result = RLM(root, config=RLMConfig(sandbox=SandboxLimits(timeout_s=20.0))).run("Which number?", "no digits")
    events = stored(result.trajectory)
    assert sum(e["kind"] == "turn_taken_back" and e["reason"] == "sample_failed_checks" for e in events) == 2
    usage, _, _ = spent(events)
    assert usage["root"].prompt_tokens == result.usage["root"].prompt_tokens > 0
    assert usage["root"].completion_tokens == result.usage["root"].completion_tokens


def test_a_resumed_run_draws_the_sampling_seeds_the_uncut_run_would_have_drawn(library):
    # the loop samples a turn (seeds 0, 1, 2, ... in a run) where greedy decoding repeats itself; a run resumed
    # after some sampled turns goes on from the next seed instead of drawing the same ones again
    turns = [repl("print('nothing')"), *["FINAL(7)"] * 4, repl("print('seven is 7')"),
             "Let me think.", "Let me think.", repl("print('eight is 8')"), "FINAL(8)"]
    config = RLMConfig(max_iterations=10, sandbox=SandboxLimits(timeout_s=20.0))
    full_root = ScriptedModel(turns)
    full = RLM(full_root, config=config).run("Which number?", "no digits")
    drawn = [options["seed"] for options in full_root.options]
    assert [seed for seed in drawn if seed is not None] == [0, 1, 2, 3]
    cut = cut_after(stored(full.trajectory), "root_messages", 4)  # after the turn that printed 'seven is 7'

    state = resume_state(cut)
    assert state.samples == 3
    asked = drawn.index(3) - 2  # the root calls made before the cut
    root = ScriptedModel(turns[asked:])
    resumed = RLM(root, config=config, sub_call_cache=library.sub_call_cache).run("Which number?", "no digits",
                                                                                  resume=state)
    assert [options["seed"] for options in root.options] == drawn[asked:]  # seed 3 again, not 0
    assert resumed.answer == full.answer

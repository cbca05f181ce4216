"""The loop with the real SmolLM2 through llama.cpp: needle search by sub-calls, and SmolLM2 as root."""

from __future__ import annotations

import random
import re
import threading
from pathlib import Path

import pytest

from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.backends.prompt_cache import MEMORY
from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Document
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.sandbox import SandboxLimits

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
NEEDLE = "4821907"

# The root's code: uniform chunks, one batched sub-call per chunk with a prompt a 135M model can
# follow (copy the number or say NONE), then verify every candidate against the text itself.
NEEDLE_CODE = '''import re
pieces = chunk(context, 10000)
prompts = ["Text:\\n" + p + "\\n\\nWhat is the secret access code in the text above? "
           "Answer with the number only. If there is no code, answer NONE." for p in pieces]
answers = llm_query_batched(prompts)
candidates = []
for a in answers:
    for number in re.findall(r"\\b\\d{7}\\b", a):
        if number in context and number not in candidates:
            candidates.append(number)
print(len(pieces), "chunks;", "candidates:", candidates)
'''


def haystack(size: int, seed: int = 7) -> str:
    """Plain English filler without digits, ``size`` characters long.

    Long common words keep it near 10 characters per token, so the real sub-model reads
    200,000 characters in about 19,000 tokens.
    """
    rng = random.Random(seed)
    subjects = ["The administration", "Management", "The organisation", "International shareholders",
                "The representatives", "Government departments"]
    verbs = ["considered", "understood", "recommended", "acknowledged", "investigated", "implemented"]
    objects = ["environmental responsibilities", "infrastructure improvements", "professional development",
               "international relationships", "communication requirements", "transportation arrangements"]
    tails = ["immediately.", "successfully.", "independently.", "throughout December.", "accordingly."]
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} {rng.choice(tails)}"
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:size]


@pytest.fixture(scope="module")
def smollm2_sub(smollm2_path: Path):
    model = LlamaCppModel(smollm2_path, n_threads=1, parallel=2)
    yield model
    model.close()


def test_real_sub_model_finds_a_needle_in_200k_characters(smollm2_sub):
    text = haystack(200_000)
    at = 131_000
    context = text[:at] + f" The secret access code is {NEEDLE}. " + text[at:]
    root = ScriptedModel([
        "I will chunk the text and ask the helper about every chunk.\n```repl\n" + NEEDLE_CODE + "```",
        "I verify the candidate.\n```repl\nFINAL(candidates[0] if len(candidates) == 1 else 'unsure')\n```",
    ])
    config = RLMConfig(parallel_sub_calls=2, sub_max_tokens=24, sandbox=SandboxLimits(timeout_s=60))
    result = RLM(root, smollm2_sub, config).run("What is the secret access code?", context)
    assert result.stopped_by is None
    assert result.answer == NEEDLE
    assert result.sub_calls == 21  # ceil(200,036 / 10,000) chunks, each read by the real sub-model
    assert result.usage["sub"].prompt_tokens > 15_000
    assert f"candidates: ['{NEEDLE}']" in root.calls[1][-1]["content"]


def test_real_root_with_grammar_always_writes_runnable_turns(smollm2_path: Path):
    root = LlamaCppModel(smollm2_path, n_threads=2)
    sub = LlamaCppModel(smollm2_path, n_threads=2)
    try:
        docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.iterdir())]
        config = RLMConfig(max_iterations=2, root_max_tokens=160, sub_max_tokens=64, max_sub_calls=4,
                           sandbox=SandboxLimits(timeout_s=30))
        result = RLM(root, sub, config).run("What is the purchase price for the shares?", docs)
    finally:
        root.close()
        sub.close()
    assert result.stopped_by in (None, "max_iterations", "max_sub_calls")
    turns = [e for e in result.trajectory if e.kind == "root_turn" and e.depth == 0]
    assert turns and all(turn.runnable for turn in turns)
    assert result.trajectory[-1].kind == "final"
    if len(turns) > 1:  # the root's KV cache carried over: turn 2 evaluated only its new tokens
        assert turns[1].prompt_tokens_evaluated < turns[1].prompt_tokens


def test_the_code_turn_grammar_holds_a_real_model_to_one_code_block(smollm2_path: Path):
    from rlm_desktop.engine.grammar import CODE_TURN_GRAMMAR
    from rlm_desktop.engine.protocol import parse_turn

    root = LlamaCppModel(smollm2_path, n_threads=2)
    try:
        completion = root.chat([{"role": "user", "content": "Answer with FINAL(42) and nothing else."}],
                               max_tokens=120, temperature=0.0, grammar=CODE_TURN_GRAMMAR)
    finally:
        root.close()
    turn = parse_turn(completion.text)
    assert "```repl\n" in completion.text and turn.final is None or completion.finish_reason == "length"


def test_a_second_run_over_the_same_documents_starts_at_the_question(smollm2_path: Path, tmp_path: Path):
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.iterdir())]
    config = RLMConfig(max_iterations=1, root_max_tokens=8, grammar=False, sandbox=SandboxLimits(timeout_s=30))
    sub = ScriptedModel(["unused"])
    first_turns = []
    for question in ("What is the purchase price?", "When does the office lease expire?"):
        MEMORY.clear()  # as after an app restart: only the saved state on disk can help
        with LlamaCppModel(smollm2_path, n_ctx=4096, n_threads=2, prompt_cache_dir=tmp_path) as root:
            result = RLM(root, sub, config).run(question, docs)
        first_turns.append(next(e for e in result.trajectory if e.kind == "root_turn"))
        for thread in threading.enumerate():  # the state is written to disk in the background
            if thread.name == "rlm-prompt-cache":
                thread.join()
    before, after = first_turns
    assert before.prompt_tokens_evaluated == before.prompt_tokens and before.prompt_tokens_restored == 0
    assert after.prompt_tokens_restored > 0
    # The system prompt, the worked example and the collection's shape are restored; only the question
    # and the line after it are evaluated: a second question over the same documents may cost at most
    # 10% of the first one's prompt.
    assert after.prompt_tokens_evaluated <= before.prompt_tokens // 10
    assert after.prompt_tokens_evaluated + after.prompt_tokens_restored == after.prompt_tokens


def test_the_plan_grammar_holds_a_real_model_to_a_plan_line_and_one_code_block(smollm2_path: Path):
    from rlm_desktop.engine.grammar import PLAN_KINDS, PLAN_TURN_GRAMMAR

    root = LlamaCppModel(smollm2_path, n_ctx=2048, n_threads=2)
    try:
        completion = root.chat([{"role": "user", "content": "Which licence covers git? Plan, then write code."}],
                               max_tokens=160, temperature=0.0, grammar=PLAN_TURN_GRAMMAR)
    finally:
        root.close()
    first = completion.text.split("\n", 1)[0]
    assert re.match(rf"Plan: ({'|'.join(PLAN_KINDS)}); ", first), completion.text
    assert completion.finish_reason == "length" or "```repl\n" in completion.text, completion.text


def test_the_same_question_gets_the_same_run_with_the_prompt_cache_cold_or_warm(smollm2_path: Path, tmp_path: Path):
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(SAMPLES.iterdir())]
    config = RLMConfig(max_iterations=3, root_max_tokens=96, sandbox=SandboxLimits(timeout_s=30))

    def ask(root: LlamaCppModel) -> tuple[list[str], str, int]:
        with LlamaCppModel(smollm2_path, n_ctx=2048, n_threads=1) as sub:
            result = RLM(root, sub, config).run("When does the office lease expire?", docs)
        turns = [e for e in result.trajectory if e.kind == "root_turn"]
        for thread in threading.enumerate():  # the state is written to disk in the background
            if thread.name == "rlm-prompt-cache":
                thread.join()
        return [e.text for e in turns], result.answer, turns[0].prompt_tokens_restored

    MEMORY.clear()
    with LlamaCppModel(smollm2_path, n_ctx=4096, n_threads=2, prompt_cache_dir=tmp_path) as root:
        cold = ask(root)
    MEMORY.clear()  # an app restart: only the saved state on disk can help
    with LlamaCppModel(smollm2_path, n_ctx=4096, n_threads=2, prompt_cache_dir=tmp_path) as root:
        from_disk = ask(root)
        in_context = ask(root)  # the context still holds the last run: it reuses its own cache
    assert cold[2] == 0 and from_disk[2] > 0
    assert from_disk[:2] == cold[:2] and in_context[:2] == cold[:2]

"""Batched decoding (one context, several sequences) with the real SmolLM2 GGUF."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

from rlm_desktop.backends.base import BatchingLanguageModel, CancelToken, Completion
from rlm_desktop.backends.batch_sizing import (KV_MEMORY_CEILING, KV_MEMORY_SHARE, MAX_SEQUENCES, choose_sequences,
                                              kv_bytes_per_token)
from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.errors import ContextOverflowError

SHARED = ("Here is a short passage about a lease. The tenant rents office space on the third floor of the "
          "building at 12 Harbour Street for five years. The rent is 212,000 euros a year, paid quarterly. "
          "The lease ends on 31 March 2030 and can be renewed once. ")
QUESTIONS = ["What is the rent?", "When does the lease end?", "Which floor is rented?", "Can it be renewed?",
             "How is the rent paid?", "What is the street?"]


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
def batched(smollm2_path: Path):
    """SmolLM2 decoding up to 4 sequences together (fewer than the test batches hold)."""
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2, batching=True, sequences=4) as model:
        yield model


@pytest.fixture(scope="module")
def plain(smollm2_path: Path):
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2) as model:
        yield model


def test_a_batching_model_says_so(batched: LlamaCppModel, plain: LlamaCppModel) -> None:
    assert isinstance(batched, BatchingLanguageModel)
    assert batched.sequences == 4
    assert plain.sequences == 1


def test_batched_results_equal_sequential_ones_token_for_token(batched: LlamaCppModel, plain: LlamaCppModel) -> None:
    conversations = [ask(SHARED + q) for q in QUESTIONS] + [ask("Name three colours.")]
    expected = [plain.chat(c, max_tokens=24) for c in conversations]
    results = batched.chat_batch(conversations, max_tokens=24)
    assert [r.text for r in results] == [e.text for e in expected]
    assert [r.usage.completion_tokens for r in results] == [e.usage.completion_tokens for e in expected]
    assert [r.finish_reason for r in results] == [e.finish_reason for e in expected]


def test_a_shared_prefix_is_evaluated_once(smollm2_path: Path) -> None:
    with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2, batching=True, sequences=4) as model:
        results = model.chat_batch([ask(SHARED + q) for q in QUESTIONS[:4]], max_tokens=4)
        shared = model.count_tokens(SHARED) // 2
    usages = [r.usage for r in results]
    assert usages[0].prompt_tokens_evaluated == usages[0].prompt_tokens  # the leader evaluates all of it
    assert all(u.prompt_tokens_evaluated < u.prompt_tokens - shared for u in usages[1:])


def test_a_seed_makes_batched_sampling_reproducible(smollm2_path: Path) -> None:
    def sample(seed: int) -> str:  # from a fresh decoder, as a run asked again (see test_llamacpp)
        with LlamaCppModel(smollm2_path, n_ctx=1024, n_threads=2, batching=True, sequences=2) as model:
            return model.chat(ask("Write a short story about a dog."), max_tokens=24, temperature=1.0, seed=seed).text

    assert sample(5) == sample(5)
    assert len({sample(seed) for seed in (1, 2, 3)}) > 1


def test_a_batch_larger_than_the_sequences_queues_and_keeps_its_order(batched: LlamaCppModel) -> None:
    numbers = list(range(1, 11))
    results = batched.chat_batch([ask(f"Repeat this number and nothing else: {n}") for n in numbers], max_tokens=8)
    assert len(results) == 10
    assert all(isinstance(r, Completion) and r.finish_reason in ("stop", "length") for r in results)
    alone = [batched.chat(ask(f"Repeat this number and nothing else: {n}"), max_tokens=8).text for n in numbers]
    assert [r.text for r in results] == alone


def test_a_prompt_too_long_fails_alone(batched: LlamaCppModel) -> None:
    too_long = ask("word " * 1500)
    results = batched.chat_batch([ask(SHARED + QUESTIONS[0]), too_long, ask("Name three colours.")], max_tokens=12)
    assert isinstance(results[1], ContextOverflowError)
    assert "1024" in str(results[1])
    assert isinstance(results[0], Completion) and results[0].text
    assert isinstance(results[2], Completion) and results[2].text


def test_per_sequence_stop_grammar_and_max_tokens(batched: LlamaCppModel) -> None:
    yes_no = 'root ::= "yes" | "no"'
    done = {}

    def run(name: str, **kwargs) -> None:
        done[name] = batched.chat(ask("Is the sky blue? Then write a long story about it."), **kwargs)

    threads = [threading.Thread(target=run, args=("grammar",), kwargs={"grammar": yes_no, "max_tokens": 8}),
               threading.Thread(target=run, args=("short",), kwargs={"max_tokens": 3}),
               threading.Thread(target=run, args=("stop",), kwargs={"max_tokens": 40, "stop": [" "]})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert done["grammar"].text in ("yes", "no")
    assert done["short"].usage.completion_tokens == 3 and done["short"].finish_reason == "length"
    assert " " not in done["stop"].text.strip() and done["stop"].finish_reason == "stop"


def test_cancel_stops_the_whole_batch(batched: LlamaCppModel) -> None:
    cancel = CancelToken()
    results: list = []
    call = threading.Thread(target=lambda: results.extend(batched.chat_batch(  # 3 + the watcher: all run at once
        [ask(f"Write a very long story about a dragon number {n}.") for n in range(3)], max_tokens=400,
        cancel=cancel)))
    call.start()
    first_token = threading.Event()
    watcher = batched.chat(ask("Count from one to fifty in words."), max_tokens=400,
                           on_token=lambda _text: (first_token.set(), cancel.cancel()), cancel=cancel)
    call.join(timeout=60)
    assert not call.is_alive()
    assert first_token.is_set() and watcher.finish_reason == "cancelled"
    assert [r.finish_reason for r in results] == ["cancelled"] * 3
    assert all(r.usage.completion_tokens < 400 for r in results)


def test_cancel_during_prompt_evaluation_leaves_the_model_usable(batched: LlamaCppModel) -> None:
    cancel = CancelToken()
    long_prompts = [ask(f"Summarise {n}: " + "The quick brown fox jumps over the lazy dog. " * 80) for n in range(4)]
    threading.Timer(0.05, cancel.cancel).start()
    results = batched.chat_batch(long_prompts, max_tokens=16, cancel=cancel)
    assert all(r.finish_reason == "cancelled" for r in results)
    before = batched.chat(ask("What is the capital of France? Answer in one word."), max_tokens=12)
    assert "Paris" in before.text


def test_sequences_follow_the_window_and_the_memory() -> None:
    metadata = {"general.architecture": "llama", "llama.block_count": "30", "llama.attention.head_count": "9",
                "llama.attention.head_count_kv": "3", "llama.embedding_length": "576"}
    per_token = kv_bytes_per_token(metadata)
    assert per_token == 30 * 3 * (64 + 64) * 2
    room_for_ten = int(per_token * 4096 * 10 / KV_MEMORY_SHARE) + 1  # ten 4096-token caches fit the share
    assert choose_sequences(metadata, 4096, available=room_for_ten) == 10
    assert choose_sequences(metadata, 8192, available=room_for_ten) == 5
    assert choose_sequences(metadata, 4096, available=per_token * 4096) == 1
    assert choose_sequences(metadata, 256, available=64 << 30) == MAX_SEQUENCES
    assert choose_sequences(metadata, 8192, available=1 << 40) * per_token * 8192 <= KV_MEMORY_CEILING


CHOICES = ["rent", "date", "floor"]


def test_choice_scores_are_log_probabilities_and_equal_batched_and_plain(batched: LlamaCppModel,
                                                                         plain: LlamaCppModel) -> None:
    conversations = [ask(SHARED + question + " Answer with one word: rent, date or floor.")
                     for question in QUESTIONS[:3]]
    together = batched.score_choices(conversations, CHOICES)
    alone = plain.score_choices(conversations, CHOICES)
    for got, expected in zip(together, alone):
        assert isinstance(got, Completion) and got.usage.completion_tokens == 0
        assert len(got.scores) == 3 and all(score < 0 for score in got.scores)
        assert sum(math.exp(score) for score in got.scores) <= 1.0 + 1e-6
        assert got.text == CHOICES[max(range(3), key=got.scores.__getitem__)]
        assert got.scores == pytest.approx(expected.scores, abs=1e-3)
    # the likeliest choice is the first token greedy generation gives, when it is one of the choices
    generated = plain.chat(conversations[0], max_tokens=1)
    if generated.text.strip() in CHOICES:
        assert alone[0].text == generated.text.strip()


def test_choices_that_begin_alike_are_refused_and_a_too_long_prompt_fails_alone(batched: LlamaCppModel) -> None:
    with pytest.raises(ValueError, match="do not each begin with a token of their own"):
        batched.score_choices([ask("Which?")], ["rent due", "rent paid"])
    results = batched.score_choices([ask("x " * 2000), ask("Which word, rent or date?")], CHOICES)
    assert isinstance(results[0], ContextOverflowError) and isinstance(results[1], Completion)

"""Saved prompt states across model objects and 'app starts', with the real SmolLM2 GGUF."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.backends.prompt_cache import MEMORY

SYSTEM = ("You answer questions about documents held in a Python REPL as `context`. Write code in ```repl "
          "blocks to look at them, call llm_query for help, and finish with FINAL(answer). ") * 4
COLLECTION = "`context` is a list of 3 documents: lease.md (4,120 chars), spa.md (9,800 chars), nda.md (2,300 chars)."


def messages(question: str, system: str = SYSTEM) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": f"{COLLECTION}\n\nQuestion: {question}"}]


def open_model(path: Path, cache: Path, **options) -> LlamaCppModel:
    return LlamaCppModel(path, n_ctx=2048, n_threads=2, prompt_cache_dir=cache, **options)


@pytest.fixture(autouse=True)
def fresh_memory():
    MEMORY.clear()
    yield
    MEMORY.clear()


def wait_for_writes() -> None:
    import threading

    for thread in threading.enumerate():
        if thread.name == "rlm-prompt-cache":
            thread.join()


def test_a_second_run_after_a_restart_evaluates_only_the_question(smollm2_path: Path, tmp_path: Path) -> None:
    with open_model(smollm2_path, tmp_path) as model:
        first = model.chat(messages("What is the rent?"), max_tokens=8)
    assert first.usage.prompt_tokens_evaluated == first.usage.prompt_tokens
    assert first.usage.prompt_tokens_restored == 0
    wait_for_writes()
    MEMORY.clear()  # an app restart: only the disk remains
    with open_model(smollm2_path, tmp_path) as model:
        second = model.chat(messages("When does the lease of the office end?"), max_tokens=8)
    usage = second.usage
    assert usage.prompt_tokens_restored > usage.prompt_tokens * 0.8
    assert usage.prompt_tokens_evaluated == usage.prompt_tokens - usage.prompt_tokens_restored
    with LlamaCppModel(smollm2_path, n_ctx=2048, n_threads=2) as uncached:
        assert uncached.chat(messages("When does the lease of the office end?"), max_tokens=8).text == second.text


def test_in_memory_states_serve_a_new_model_object(smollm2_path: Path, tmp_path: Path) -> None:
    with open_model(smollm2_path, tmp_path) as model:
        model.chat(messages("What is the rent?"), max_tokens=4)
    wait_for_writes()
    shutil.rmtree(tmp_path)  # nothing on disk: the state must come from memory
    with open_model(smollm2_path, tmp_path) as model:
        again = model.chat(messages("Who signed the lease?"), max_tokens=4)
    assert again.usage.prompt_tokens_restored > 0


def test_a_changed_prompt_is_evaluated_afresh(smollm2_path: Path, tmp_path: Path) -> None:
    with open_model(smollm2_path, tmp_path) as model:
        model.chat(messages("What is the rent?"), max_tokens=4)
    wait_for_writes()
    with open_model(smollm2_path, tmp_path) as model:
        changed = model.chat(messages("What is the rent?", system="Be brief. " + SYSTEM), max_tokens=4)
    assert changed.usage.prompt_tokens_restored == 0
    assert changed.usage.prompt_tokens_evaluated == changed.usage.prompt_tokens


def test_a_changed_model_or_setting_does_not_reuse_the_state(smollm2_path: Path, tmp_path: Path) -> None:
    with open_model(smollm2_path, tmp_path / "cache") as model:
        model.chat(messages("What is the rent?"), max_tokens=4)
    wait_for_writes()
    copy = tmp_path / "other-model.gguf"
    shutil.copyfile(smollm2_path, copy)
    with open_model(copy, tmp_path / "cache") as other_file:
        assert other_file.chat(messages("Who signed?"), max_tokens=4).usage.prompt_tokens_restored == 0
    with LlamaCppModel(smollm2_path, n_ctx=4096, n_threads=2, prompt_cache_dir=tmp_path / "cache") as other_window:
        assert other_window.chat(messages("Who signed?"), max_tokens=4).usage.prompt_tokens_restored == 0

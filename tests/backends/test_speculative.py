"""Speculative decoding of root turns with the real starter pair: drafts change speed, never the output."""

from __future__ import annotations

from pathlib import Path

import llama_cpp
import numpy as np
import pytest

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.backends.llama_generation import prefill
from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.backends.speculative import PromptLookup
from rlm_desktop.engine.grammar import ROOT_TURN_GRAMMAR
from rlm_desktop.errors import BackendError, ModelLoadError

SYSTEM = ("You answer questions about documents held in the Python variable `context` (a list of documents with "
          "`.name` and `.text`). Write one ```repl block of Python per turn; print what you need; end with "
          "FINAL(answer) once the output shows it.")
TURN_1 = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "Question: What is the escrow amount agreed with the buyer?\n"
                                "The documents: 001_supply_agreement_arden.md, 002_lease_brightwell.md, "
                                "spa_share_purchase_agreement.md (42 documents in all)."},
]
TURN_2 = [
    *TURN_1,
    {"role": "assistant", "content": "```repl\nhits = grep(r'[Ee]scrow', context)\nfor hit in hits[:5]:\n"
                                     "    print(hit)\n```"},
    {"role": "user", "content": "Output:\nspa_share_purchase_agreement.md p.4: The Escrow Amount of EUR 4,850,000 "
                                "shall be paid into the Escrow Account on Completion.\n"
                                "spa_share_purchase_agreement.md p.4: The Escrow Agent holds the Escrow Amount "
                                "for 18 months.\nContinue."},
]


@pytest.fixture(scope="module")
def root_models(starter_pair: tuple[Path, Path]):
    """The 1.5B root three times over: plain, prompt-lookup drafts, and the 0.5B sub drafting."""
    root, sub = starter_pair
    models = {mode: LlamaCppModel(root, n_ctx=4096, n_threads=2, draft=mode, draft_model=sub)
              for mode in ("none", "lookup", "model")}
    yield models
    for model in models.values():
        model.close()


NEAR_TIE = 0.25  # logits this close may swap order between a one-token and a many-token decode (rounding)


def output_tokens(model: LlamaCppModel, messages: list[dict[str, str]]) -> tuple[list[int], list[int]]:
    """(prompt tokens, output tokens but the last) that the model's context holds after a call."""
    llama = model._slots[0].llama
    prompt = model.tokenize(model.template.render(messages).text, add_bos=False)
    return prompt, [int(t) for t in llama.input_ids[len(prompt):llama.n_tokens]]


def assert_plain_or_near_tie(plain_model: LlamaCppModel, messages: list[dict[str, str]],
                             drafted_model: LlamaCppModel) -> None:
    """The drafted output is the plain one, or first differs where plain decoding's two choices were a near tie."""
    prompt, plain = output_tokens(plain_model, messages)
    _, drafted = output_tokens(drafted_model, messages)
    at = next((i for i, (a, b) in enumerate(zip(plain, drafted)) if a != b), None)
    if at is None:
        return
    llama = plain_model._slots[0].llama
    prefill(llama, prompt + plain[:at], None)
    row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),))
    assert abs(float(row[plain[at]] - row[drafted[at]])) < NEAR_TIE, f"differs at output token {at}"


def test_drafts_give_the_plain_output_with_the_grammar(root_models: dict[str, LlamaCppModel]) -> None:
    # Two turns of one conversation, so the second reuses the cache that speculative decoding left behind.
    for messages in (TURN_1, TURN_2):
        plain = root_models["none"].chat(messages, max_tokens=48, grammar=ROOT_TURN_GRAMMAR)
        for mode in ("lookup", "model"):
            drafted = root_models[mode].chat(messages, max_tokens=48, grammar=ROOT_TURN_GRAMMAR)
            assert 0 <= drafted.usage.draft_tokens_accepted <= drafted.usage.draft_tokens_proposed
            if drafted.text != plain.text:
                assert_plain_or_near_tie(root_models["none"], messages, root_models[mode])
            else:
                assert drafted.usage.completion_tokens == plain.usage.completion_tokens
                assert drafted.finish_reason == plain.finish_reason
        assert plain.usage.draft_tokens_proposed == 0
    assert root_models["model"].chat(TURN_2, max_tokens=48).usage.draft_tokens_accepted > 0


def test_a_stop_string_inside_a_draft_stops_where_plain_decoding_does(root_models: dict[str, LlamaCppModel]) -> None:
    plain = root_models["none"].chat(TURN_2, max_tokens=60, stop=["Escrow"])
    drafted = root_models["lookup"].chat(TURN_2, max_tokens=60, stop=["Escrow"])
    assert drafted.text == plain.text
    assert drafted.finish_reason == plain.finish_reason == "stop"
    assert drafted.usage.completion_tokens == plain.usage.completion_tokens


def test_a_cancel_from_the_stream_stops_at_the_same_token(root_models: dict[str, LlamaCppModel]) -> None:
    # The turn guard cancels from on_token; the next token must not be emitted, draft or not.
    def run(model: LlamaCppModel) -> tuple[str, list[str]]:
        cancel, pieces = CancelToken(), []

        def on_token(piece: str) -> None:
            pieces.append(piece)
            if len(pieces) == 7:
                cancel.cancel()

        completion = model.chat(TURN_2, max_tokens=60, on_token=on_token, cancel=cancel)
        assert completion.finish_reason == "cancelled"
        return completion.text, pieces

    plain_text, plain_pieces = run(root_models["none"])
    drafted_text, drafted_pieces = run(root_models["model"])
    assert drafted_text == plain_text and drafted_pieces == plain_pieces and len(plain_pieces) == 7


def test_prompt_lookup_copies_what_followed_the_latest_occurrence() -> None:
    history = np.array([5, 6, 7, 1, 5, 6, 8, 9, 2, 5, 6], dtype=np.intc)
    assert PromptLookup(min_ngram=2, max_tokens=3).propose(history, 10) == [8, 9, 2]
    assert PromptLookup(min_ngram=2).propose(history, 1) == [8]
    assert PromptLookup().propose(history, 10) == []  # no earlier occurrence of the last 3 tokens
    assert PromptLookup().propose(np.array([4, 1, 2, 3, 7, 4, 1, 2, 3], dtype=np.intc), 10) == [7, 4, 1, 2, 3]


def test_a_draft_model_with_another_vocabulary_is_refused(starter_pair: tuple[Path, Path], smollm2_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="vocabulary"):
        LlamaCppModel(starter_pair[0], n_ctx=1024, n_threads=2, draft="model", draft_model=smollm2_path)
    with pytest.raises(BackendError, match="draft mode"):
        LlamaCppModel(starter_pair[0], n_ctx=1024, n_threads=2, draft="ngram")

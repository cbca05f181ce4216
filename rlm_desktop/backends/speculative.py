"""Speculative decoding on one llama.cpp context: cheap drafts, verified by the model in one decode.

On a CPU a decode of a few tokens costs little more than a decode of one (the weights are read once),
so guessing the next tokens and checking them together saves steps whenever the guesses are right.
Two drafters guess: :class:`PromptLookup` copies what followed the latest earlier occurrence of the
conversation's last few tokens (root turns copy names, calls and figures from their prompt), and
:class:`DraftModel` lets a small model with the same vocabulary write them.

:func:`speculative_tokens` keeps the output that of plain decoding: every output token is sampled by
the model's own sampler chain (grammar included) from the model's logits at its position, exactly one
sampler call per output token in order, as plain decoding does; a draft token only saves the decode
that would have produced those logits, and the first draft token the model disagrees with ends the
step. Batched evaluation's floating point may still, rarely, tip an argmax (`rlm bench decode` counts it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import llama_cpp
import numpy as np

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.errors import BackendError, ModelLoadError

DRAFT_MODES = ("none", "lookup", "model")
LOOKUP_MAX_TOKENS = 6    # longest prompt-lookup draft (longer ones were accepted less often than they cost)
MODEL_MAX_TOKENS = 5     # longest draft-model draft (each of its tokens costs a small-model decode)
MODEL_MIN_PROBABILITY = 0.4  # the draft model stops guessing when its own top token is less likely than this


# The draft mode that `rlm bench decode` measured to win per (root GGUF, sub GGUF) file stem, speed and
# output equal to plain decoding on nearly every turn; a sub of None means any. A pair not listed decodes
# plainly under "auto". The starter pair is not listed: on 2 CPU threads prompt lookup generated 1.03x as fast
# (docs/eval/decode.md) and 3 of 8 recorded turns left plain decoding's text at a near tie; the 0.5B draft
# generated 0.46x as fast.
MEASURED_BEST: dict[tuple[str, str | None], str] = {}


def best_draft(root: str, sub: str | None) -> str:
    """The draft mode ``auto`` means for this root and sub model (file stems)."""
    return MEASURED_BEST.get((root, sub)) or MEASURED_BEST.get((root, None)) or "none"


class Drafter(Protocol):
    """Guesses the tokens that follow ``history`` (at most ``limit``; none is a fine answer)."""

    def propose(self, history: np.ndarray, limit: int) -> list[int]: ...

    def close(self) -> None: ...


class PromptLookup:
    """Drafts by copying: the tokens that followed the latest earlier occurrence of the last n tokens
    (the longest n from ``max_ngram`` down to ``min_ngram`` that occurred before)."""

    def __init__(self, *, max_ngram: int = 4, min_ngram: int = 3, max_tokens: int = LOOKUP_MAX_TOKENS) -> None:
        self.max_ngram, self.min_ngram, self.max_tokens = max_ngram, min_ngram, max_tokens

    def propose(self, history: np.ndarray, limit: int) -> list[int]:
        limit = min(limit, self.max_tokens)
        length = len(history)
        if limit <= 0:
            return []
        for n in range(min(self.max_ngram, length - 1), self.min_ngram - 1, -1):
            # windows start at most at length - 1 - n, so every match has at least one token after it
            windows = np.lib.stride_tricks.sliding_window_view(history[:-1], n)
            starts = np.nonzero((windows == history[-n:]).all(axis=1))[0]
            if len(starts):
                begin = int(starts[-1]) + n
                return [int(t) for t in history[begin:begin + limit]]
        return []

    def close(self) -> None:
        pass


class DraftModel:
    """Drafts with a small model of the same vocabulary, greedily, in a context of its own that follows
    the conversation (only what is new since its last draft is evaluated)."""

    def __init__(self, path: str | Path, *, n_ctx: int, n_threads: int | None, n_batch: int = 512,
                 max_tokens: int = MODEL_MAX_TOKENS, min_probability: float = MODEL_MIN_PROBABILITY) -> None:
        self.path = Path(path)
        self.max_tokens, self.min_probability = max_tokens, min_probability
        try:
            self.llama = llama_cpp.Llama(str(self.path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                                         n_batch=min(n_batch, n_ctx), seed=0, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"Could not load draft model {self.path}: {exc}") from exc

    def check_vocabulary(self, target: llama_cpp.Llama, target_name: str) -> None:
        """Raise ModelLoadError unless the draft model tokenizes text as ``target`` does."""
        probe = "```repl\nhits = grep(r'Escrow Amount', context)\nprint(len(hits))\n```<|im_end|>".encode()
        if (self.llama.n_vocab() != target.n_vocab()
                or self.llama.tokenize(probe, special=True) != target.tokenize(probe, special=True)):
            self.close()
            raise ModelLoadError(f"Draft model {self.path.stem} does not share {target_name}'s vocabulary; "
                                 f"use --draft lookup or none.")

    def propose(self, history: np.ndarray, limit: int) -> list[int]:
        limit = min(limit, self.max_tokens, self.llama.n_ctx() - len(history) - 1)
        if limit <= 0:
            return []
        self._follow(history)
        drafted: list[int] = []
        n_vocab = self.llama.n_vocab()
        while True:
            row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llama.ctx, -1), shape=(n_vocab,))
            token = int(row.argmax())
            top = row[token]
            probability = 1.0 / float(np.exp(row - top).sum())
            if probability < self.min_probability:
                break
            drafted.append(token)
            if len(drafted) >= limit:
                break
            self.llama.eval([token])
        return drafted

    def _follow(self, history: np.ndarray) -> None:
        """Make the draft context hold ``history``, evaluating what it does not hold yet (at least one token)."""
        llama = self.llama
        held = llama.input_ids[:llama.n_tokens]
        n = min(len(held), len(history) - 1)
        differ = np.nonzero(held[:n] != history[:n])[0]
        reuse = int(differ[0]) if len(differ) else n
        if reuse < llama.n_tokens and not llama._ctx.kv_cache_seq_rm(-1, reuse, -1):
            llama.reset()
            reuse = 0
        llama.n_tokens = reuse
        llama.eval([int(t) for t in history[reuse:]])

    def close(self) -> None:
        self.llama.close()


@dataclass
class DraftCounts:
    """Draft tokens sent to the model for checking, and how many of them became output."""

    proposed: int = 0
    accepted: int = 0


def speculative_tokens(llama: llama_cpp.Llama, drafter: Drafter, *, temperature: float,
                       grammar: llama_cpp.LlamaGrammar | None, max_tokens: int, counts: DraftCounts,
                       cancel: CancelToken | None = None) -> Iterator[int]:
    """Up to ``max_tokens`` output tokens after a prompt that
    :func:`~rlm_desktop.backends.llama_generation.prefill` left in ``llama`` (its logits fresh), as
    ``llama.generate`` would sample them. Close the iterator when done: the context then holds the
    prompt and every output token but the last, as after plain decoding."""
    sampler = llama._init_sampler(temp=temperature, repeat_penalty=1.0, grammar=grammar)  # generate()'s chain
    n_ctx = llama.n_ctx()
    kept = llama.n_tokens  # tokens whose keys/values the context holds and that stay
    try:
        token = sampler.sample(llama._ctx, -1)
        produced = 1
        yield token
        while produced < max_tokens:
            if cancel is not None and cancel.cancelled:
                return
            history = np.append(llama.input_ids[:kept], np.intc(token))
            draft = drafter.propose(history, min(max_tokens - produced - 1, n_ctx - kept - 2))
            batch = [token, *draft]
            llama._ctx.kv_cache_seq_rm(-1, kept, -1)
            llama._batch.set_batch(batch=batch, n_past=kept, logits_all=True)
            llama._ctx.decode(llama._batch)
            llama.input_ids[kept:kept + len(batch)] = batch
            llama.n_tokens = kept + len(batch)
            counts.proposed += len(draft)
            kept += 1  # the token just evaluated was output already
            for row in range(len(draft) + 1):
                token = sampler.sample(llama._ctx, row)
                produced += 1
                yield token
                if row < len(draft) and token == draft[row]:
                    counts.accepted += 1
                    kept += 1  # the draft token in this row is the output: its keys/values stay
                    continue
                break
    finally:
        # Drop the keys/values of draft tokens that did not become output.
        llama.n_tokens = kept
        llama._ctx.kv_cache_seq_rm(-1, kept, -1)


def make_drafter(mode: str, *, target: llama_cpp.Llama, target_name: str, draft_model_path: Path | None,
                 n_ctx: int, n_threads: int | None) -> Drafter | None:
    """The drafter a draft mode names, for one context of ``target`` (None for ``none``)."""
    if mode == "none":
        return None
    if mode == "lookup":
        return PromptLookup()
    if mode == "model":
        if draft_model_path is None:
            raise BackendError(f"Draft mode 'model' for {target_name} needs a draft model file.")
        drafter = DraftModel(draft_model_path, n_ctx=n_ctx, n_threads=n_threads)
        drafter.check_vocabulary(target, target_name)
        return drafter
    raise BackendError(f"Unknown draft mode {mode!r} for {target_name}; choose one of {', '.join(DRAFT_MODES)}.")

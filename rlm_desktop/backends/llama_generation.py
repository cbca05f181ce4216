"""One generation on one llama.cpp context: reuse the cached prefix, evaluate the rest
with an abortable prompt evaluation, sample with streaming, stop strings and cancellation.

The caller owns the context exclusively for the duration of :func:`generate`.
"""

from __future__ import annotations

import codecs
import ctypes
import time
from typing import Callable, Sequence

import llama_cpp
import numpy as np

from rlm_desktop.backends.base import CancelToken, Completion, Usage
from rlm_desktop.backends.speculative import DraftCounts, Drafter, speculative_tokens

# llama.cpp asks this callback between graph nodes (CPU backend) whether to abort a decode:
# a long prompt evaluation then stops within a fraction of a second of a cancel, while the
# prompt still goes through in full n_batch batches (small batches cost throughput).
_set_abort_callback = llama_cpp.llama_cpp._lib.llama_set_abort_callback
_set_abort_callback.argtypes = [ctypes.c_void_p, llama_cpp.ggml_abort_callback, ctypes.c_void_p]
_set_abort_callback.restype = None
_NO_ABORT_CALLBACK = llama_cpp.ggml_abort_callback()


class StopFilter:
    """Streams text through, holding back what might be the start of a stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self._held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text that can be released now; sets :attr:`stopped` once a stop string appears."""
        if self.stopped:
            return ""
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._held = ""
            return buffer[:cut]
        keep = max((_overlap(buffer, s) for s in self.stops), default=0)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held


def _overlap(text: str, stop: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``stop``."""
    for n in range(min(len(text), len(stop) - 1), 0, -1):
        if text.endswith(stop[:n]):
            return n
    return 0


def common_prefix_length(cached: np.ndarray | Sequence[int], tokens: Sequence[int]) -> int:
    """How many leading tokens of ``tokens`` the context (or a sequence's cache) already holds."""
    n = min(len(cached), len(tokens))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(cached[:n]) != np.asarray(tokens[:n]))[0]  # a context's ids are compared in place
    return int(diff[0]) if len(diff) else n


# A cached prefix is reused from a multiple of this many tokens. llama.cpp's CPU kernels compute the
# rows of a batch in groups (4 rows at a time for repacked k-quants, the rest one by one), so a
# token's values depend on where its batch starts: a prompt evaluated afresh from 0 and one evaluated
# from a reused prefix then put every token in the same place of a group, and greedy decoding gives
# the same text with the prompt cache cold or warm. It costs at most ALIGN - 1 tokens a reuse.
ALIGN = 32


def aligned(reused: int) -> int:
    """The longest reusable prefix of ``reused`` tokens that ends on a multiple of :data:`ALIGN`."""
    return reused - reused % ALIGN


def prefill(llama: llama_cpp.Llama, tokens: list[int], cancel: CancelToken | None) -> tuple[int, bool]:
    """Make the context hold exactly ``tokens``, evaluating only what is not cached.

    Returns ``(tokens evaluated, cancelled)``. At least the last token is evaluated so
    that fresh logits exist for sampling. A prefix that departs from the cached tokens is
    reused only up to a multiple of :data:`ALIGN`, so that the evaluation does not depend
    on what was cached. With a cancel token, llama.cpp checks it during evaluation and
    aborts the decode at once.
    """
    reuse = min(common_prefix_length(llama._input_ids, tokens), len(tokens) - 1)
    if reuse < llama.n_tokens:
        reuse = aligned(reuse)
    if reuse < llama.n_tokens and not llama._ctx.kv_cache_seq_rm(-1, reuse, -1):
        llama.reset()  # this memory type cannot drop a suffix: start over
        reuse = 0
    llama.n_tokens = reuse
    if cancel is None:
        llama.eval(tokens[reuse:])
        return len(tokens) - reuse, False
    if cancel.cancelled:
        return 0, True
    abort = llama_cpp.ggml_abort_callback(lambda _data: cancel.cancelled)
    _set_abort_callback(llama.ctx, abort, None)
    try:
        llama.eval(tokens[reuse:])
    except RuntimeError:
        if not cancel.cancelled:
            raise
        # Batches before the aborted one stay cached (llama.n_tokens counts them); the
        # aborted one is dropped from the KV cache by the next eval.
        llama._requires_eval = True
        return llama.n_tokens - reuse, True
    finally:
        _set_abort_callback(llama.ctx, _NO_ABORT_CALLBACK, None)
    return len(tokens) - reuse, False


def token_logprobs(logits: ctypes.Array | "ctypes._Pointer", n_vocab: int, tokens: Sequence[int]) -> tuple[float, ...]:
    """The log-probabilities of ``tokens`` under one position's ``logits`` (a softmax over the whole vocabulary)."""
    row = np.ctypeslib.as_array(logits, shape=(n_vocab,)).astype(np.float64)
    top = row.max()
    log_total = top + np.log(np.exp(row - top).sum())
    return tuple(float(row[token] - log_total) for token in tokens)


def generate(
    llama: llama_cpp.Llama,
    tokens: list[int],
    *,
    max_tokens: int,
    temperature: float,
    stops: Sequence[str],
    grammar: llama_cpp.LlamaGrammar | None,
    on_token: Callable[[str], None] | None,
    cancel: CancelToken | None,
    after_prefill: Callable[[int], None] | None = None,
    score_tokens: Sequence[int] = (),
    drafter: Drafter | None = None,
) -> Completion:
    """Complete ``tokens`` on ``llama``: text, finish reason and honest usage.

    ``after_prefill(evaluated)`` runs once the context holds exactly the prompt (not after a cancel).
    With ``score_tokens``, the completion's ``scores`` are their log-probabilities as the first answer token.
    With a ``drafter``, tokens are decoded speculatively (:mod:`rlm_desktop.backends.speculative`).
    """
    started = time.perf_counter()
    evaluated, cancelled = prefill(llama, tokens, cancel)
    if after_prefill is not None and not cancelled:
        after_prefill(evaluated)
    scores = None
    if score_tokens and not cancelled:
        logits = llama_cpp.llama_get_logits_ith(llama.ctx, -1)
        scores = token_logprobs(logits, llama.n_vocab(), score_tokens)
    pieces: list[str] = []
    produced = 0
    finish = "cancelled" if cancelled else "length"
    counts = DraftCounts()
    if not cancelled and max_tokens > 0:
        vocab = llama._model.vocab
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stop_filter = StopFilter(stops)

        def emit(text: str) -> None:
            if text:
                pieces.append(text)
                if on_token is not None:
                    on_token(text)

        if drafter is None:  # generate() finds the whole prompt cached by prefill() and samples at once
            stream = llama.generate(tokens, temp=temperature, repeat_penalty=1.0, grammar=grammar)
        else:
            stream = speculative_tokens(llama, drafter, temperature=temperature, grammar=grammar,
                                        max_tokens=max_tokens, counts=counts, cancel=cancel)
        for token in stream:
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
                break
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            produced += 1
            emit(stop_filter.feed(decoder.decode(llama.detokenize([token]))))
            if stop_filter.stopped:
                finish = "stop"
                break
            if produced >= max_tokens:
                break
        else:  # the stream ended by itself, as a speculative one does once cancelled
            if cancel is not None and cancel.cancelled:
                finish = "cancelled"
        stream.close()  # a speculative stream drops its unused draft tokens from the cache
        emit(stop_filter.feed(decoder.decode(b"", final=True)))
        emit(stop_filter.flush())
    usage = Usage(
        prompt_tokens=len(tokens),
        completion_tokens=produced,
        seconds=time.perf_counter() - started,
        prompt_tokens_evaluated=evaluated,
        draft_tokens_proposed=counts.proposed,
        draft_tokens_accepted=counts.accepted,
    )
    return Completion(text="".join(pieces), finish_reason=finish, usage=usage, scores=scores)

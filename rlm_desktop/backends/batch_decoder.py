"""True batched decoding: one llama.cpp context, several sequences decoded together.

A :class:`BatchDecoder` owns one context with ``n_seq`` sequences (one KV stream of
``seq_window`` cells each) over an already loaded model. One scheduler thread runs
continuous batching: a generation step is one ``llama_decode`` that holds the next token
of every generating sequence, so the weights are read once per step for all of them;
prompt chunks are filled in steps of their own, turn about with generation. A finished
sequence's slot takes the next waiting prompt. A prompt prefix that is already in some
sequence's cache, or that a prompt being filled shares, is evaluated once and copied
(``llama_memory_seq_cp``). Each request keeps its own stop strings, grammar, max tokens
and cancel token.
"""

from __future__ import annotations

import codecs
import ctypes
import threading
import time
from collections import deque
from collections.abc import Sequence

import llama_cpp
from llama_cpp import _internals as llama_internals

from rlm_desktop.backends.base import Completion, Usage
from rlm_desktop.backends.batch_request import BatchRequest, GenerationSteps, cancelled_completion
from rlm_desktop.backends.llama_generation import StopFilter, aligned, common_prefix_length, token_logprobs
from rlm_desktop.errors import BackendError

_set_abort_callback = llama_cpp.llama_cpp._lib.llama_set_abort_callback
_set_abort_callback.argtypes = [ctypes.c_void_p, llama_cpp.ggml_abort_callback, ctypes.c_void_p]
_set_abort_callback.restype = None
_NO_ABORT_CALLBACK = llama_cpp.ggml_abort_callback()

MIN_SHARED_PREFIX = 16  # shorter common prefixes are not worth a copy


class _Sequence:
    """One sequence id of the context: the tokens its KV cache holds and the request it serves."""

    def __init__(self, seq_id: int) -> None:
        self.seq_id = seq_id
        self.cached: list[int] = []       # tokens whose keys/values are in this sequence's cache
        self.request: BatchRequest | None = None
        self.waiting_for: _Sequence | None = None  # a leader that evaluates our shared prefix first
        self.shared = 0                   # how long that prefix is
        self.next_token: int | None = None  # sampled, not yet evaluated
        self.sampler: llama_internals.LlamaSampler | None = None
        self.pieces: list[str] = []
        self.produced = 0
        self.evaluated = 0
        self.decoder: codecs.IncrementalDecoder | None = None
        self.stop_filter: StopFilter | None = None
        self.started = 0.0
        self.scores: tuple[float, ...] | None = None

    @property
    def filling(self) -> bool:
        return self.request is not None and self.next_token is None and self.waiting_for is None

    def release(self) -> None:
        if self.sampler is not None:
            self.sampler.close()
        self.request, self.sampler, self.next_token, self.waiting_for = None, None, None, None
        self.decoder = self.stop_filter = None


class BatchDecoder:
    """Continuous batching over ``n_seq`` sequences of one context sharing ``model``'s weights."""

    def __init__(self, llama: llama_cpp.Llama, *, n_seq: int, seq_window: int, n_batch: int = 512,
                 n_threads: int | None = None, seed: int = 0, name: str = "model") -> None:
        self.name = name
        self.n_seq = n_seq
        self.seq_window = seq_window
        self.n_batch = n_batch
        self._llama = llama  # for its model, vocabulary and detokenizer
        self._vocab = llama._model.vocab
        self._n_vocab = llama.n_vocab()
        self._seed = seed or llama_cpp.LLAMA_DEFAULT_SEED
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_seq * seq_window
        params.n_batch = n_batch
        params.n_ubatch = n_batch
        params.n_seq_max = n_seq
        params.kv_unified = False  # one KV stream per sequence: attention reads only its own cells
        params.swa_full = True
        params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        threads = n_threads or llama.n_threads
        params.n_threads = threads
        params.n_threads_batch = threads
        params.no_perf = True
        try:
            self._ctx = llama_internals.LlamaContext(model=llama._model, params=params, verbose=False)
        except ValueError as exc:
            raise BackendError(f"Could not create a batched context ({n_seq} sequences of {seq_window} tokens) "
                               f"for {name}: {exc}") from exc
        self._memory = llama_cpp.llama_get_memory(self._ctx.ctx)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._seqs = [_Sequence(i) for i in range(n_seq)]
        self._pending: deque[BatchRequest] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._step_requests: list[BatchRequest] = []
        self._fill_turn = False
        self.generation_steps = GenerationSteps()
        self._abort = llama_cpp.ggml_abort_callback(self._should_abort)
        self._thread = threading.Thread(target=self._run, name=f"rlm-batch-{name}", daemon=True)
        self._thread.start()

    # --- public -------------------------------------------------------------------
    def submit(self, requests: Sequence[BatchRequest]) -> None:
        """Queue ``requests`` together (so their shared prefix is seen at once); results via ``wait()``."""
        with self._cond:
            if self._closed:
                raise BackendError(f"Model {self.name} is closed.")
            for request in requests:
                if request.done:
                    continue
                if len(request.tokens) + request.max_tokens > self.seq_window or not request.tokens:
                    request.finish(error=BackendError(
                        f"{len(request.tokens)} prompt tokens plus {request.max_tokens} for the answer do not fit "
                        f"a batch sequence of {self.name} ({self.seq_window} tokens)."))
                    continue
                self._pending.append(request)
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the scheduler (waiting and running requests end as cancelled) and free the context."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        llama_cpp.llama_batch_free(self._batch)
        self._ctx.close()

    # --- the scheduler thread --------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._closed and not self._pending and not self._active():
                        self._cond.wait()
                    if self._closed:
                        break
                    self._admit()
                self._step()
        except BaseException as exc:  # noqa: BLE001 - every waiting caller must learn of it
            failure = BackendError(f"{self.name} failed while batch decoding: {exc}")
            for seq in self._seqs:
                if seq.request is not None:
                    seq.request.finish(error=failure)
                    seq.release()
            with self._cond:
                self._closed = True
                while self._pending:
                    self._pending.popleft().finish(error=failure)
            return
        for seq in self._seqs:
            if seq.request is not None:
                self._finish(seq, "cancelled")
        while self._pending:
            request = self._pending.popleft()
            request.finish(cancelled_completion(request))

    def _active(self) -> list[_Sequence]:
        return [seq for seq in self._seqs if seq.request is not None]

    def _admit(self) -> None:
        """Give free sequences to waiting requests (FIFO), reusing cached or shared prefixes."""
        for request in [r for r in self._pending if r.cancelled]:
            self._pending.remove(request)
            request.finish(cancelled_completion(request))
        while self._pending:
            free = [seq for seq in self._seqs if seq.request is None]
            if not free:
                break
            request = self._pending.popleft()
            seq = max(free, key=lambda s: common_prefix_length(s.cached, request.tokens))
            self._start(seq, request)

    def _start(self, seq: _Sequence, request: BatchRequest) -> None:
        tokens = request.tokens
        # Prefixes are reused up to a multiple of ALIGN tokens (llama_generation.ALIGN): the answer then
        # does not depend on what the sequences held before.
        keep = _reusable(seq.cached, tokens)
        # The longest prefix another sequence holds now, or will hold once its prompt is filled.
        donor, donor_len, leader, leader_len = None, keep, None, keep
        for other in self._seqs:
            if other is seq:
                continue
            held = _reusable(other.cached, tokens)
            if held > donor_len and held >= MIN_SHARED_PREFIX:
                donor, donor_len = other, held
        for other in self._seqs:
            if other is not seq and other.filling:
                shared = _reusable(other.request.tokens, tokens)
                if shared > max(donor_len, leader_len) and shared >= MIN_SHARED_PREFIX:
                    leader, leader_len = other, shared
        seq.request = request
        seq.started = time.perf_counter()
        seq.pieces, seq.produced, seq.evaluated, seq.scores = [], 0, 0, None
        seq.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        seq.stop_filter = StopFilter(request.stops)
        seq.sampler = self._sampler(request)
        if leader is not None:
            self._truncate(seq, keep)
            seq.waiting_for, seq.shared = leader, leader_len
        elif donor is not None:
            self._copy(donor, seq, donor_len)
        else:
            self._truncate(seq, keep)

    def _truncate(self, seq: _Sequence, keep: int) -> None:
        if keep < len(seq.cached):
            if not llama_cpp.llama_memory_seq_rm(self._memory, seq.seq_id, keep, -1):
                llama_cpp.llama_memory_seq_rm(self._memory, seq.seq_id, -1, -1)
                keep = 0
            del seq.cached[keep:]

    def _copy(self, source: _Sequence, target: _Sequence, length: int) -> None:
        """Make ``target`` hold ``source``'s first ``length`` tokens (a whole-stream copy, then a cut)."""
        llama_cpp.llama_memory_seq_rm(self._memory, target.seq_id, -1, -1)
        llama_cpp.llama_memory_seq_cp(self._memory, source.seq_id, target.seq_id, -1, -1)
        target.cached = list(source.cached)
        self._truncate(target, length)

    def _sampler(self, request: BatchRequest) -> llama_internals.LlamaSampler:
        """The sampler llama-cpp-python's own ``generate`` would build for these settings."""
        sampler = llama_internals.LlamaSampler()
        if request.grammar is not None:
            sampler.add_grammar(self._llama._model, request.grammar)
        if request.temperature <= 0.0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(40)
            sampler.add_typical(1.0, 1)
            sampler.add_top_p(0.95, 1)
            sampler.add_min_p(0.05, 1)
            sampler.add_temp(request.temperature)
            sampler.add_dist(request.seed if request.seed is not None else self._seed)
        return sampler

    def _step(self) -> None:
        """One llama_decode, then sampling where logits came out.

        A step either advances every generating sequence by one token, or fills the next prompt
        chunk of one sequence (turn about while both kinds wait). llama.cpp's CPU kernels round
        differently for different batch shapes (re-evaluating one token of a prompt already gives
        other logits than evaluating it in a chunk), so a prompt is filled in the chunks a
        sequential call would use, and batched answers equal sequential ones token for token as
        far as the reused prefix is the same. Generation steps of several sequences do not change
        any sequence's logits (measured with this llama.cpp build).
        """
        began = time.perf_counter()
        for seq in self._active():
            if seq.request.cancelled:
                self._finish(seq, "cancelled")
        self._resolve_waits()
        n = 0
        outputs: list[tuple[_Sequence, int]] = []
        fills: list[tuple[_Sequence, int]] = []
        generating = [seq for seq in self._active() if seq.next_token is not None]
        filling = [seq for seq in self._active() if seq.filling]
        self._fill_turn = bool(filling) and (not generating or not self._fill_turn)
        if not self._fill_turn:
            for seq in generating:  # one token each
                self._put(n, seq.next_token, len(seq.cached), seq.seq_id, True)
                outputs.append((seq, n))
                n += 1
        else:
            seq = filling[0]
            tokens, start = seq.request.tokens, len(seq.cached)
            count = min(len(tokens) - start, self.n_batch)
            for i in range(count):
                last = start + i == len(tokens) - 1
                self._put(n, tokens[start + i], start + i, seq.seq_id, last)
                if last:
                    outputs.append((seq, n))
                n += 1
            fills.append((seq, count))
        batch = self._batch
        if n == 0:
            return
        batch.n_tokens = n
        # A step with prompt chunks can take seconds: llama.cpp then asks between graph nodes whether
        # to abort. Generation-only steps are short and skip that per-node call into Python.
        self._step_requests = [seq.request for seq in self._active()]
        _set_abort_callback(self._ctx.ctx, self._abort if fills else _NO_ABORT_CALLBACK, None)
        status = llama_cpp.llama_decode(self._ctx.ctx, batch)
        self._step_requests = []
        if status != 0:
            self._after_failed_decode(status, [seq for seq, _ in outputs] + [seq for seq, _ in fills])
            return
        for seq, count in fills:
            start = len(seq.cached)
            seq.cached.extend(seq.request.tokens[start:start + count])
            seq.evaluated += count
        for seq, index in outputs:
            if seq.next_token is not None:
                seq.cached.append(seq.next_token)
                seq.next_token = None
            self._sample(seq, index)
        if not fills:
            self.generation_steps.add(n, time.perf_counter() - began)

    def _put(self, i: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
        batch = self._batch
        batch.token[i] = token
        batch.pos[i] = pos
        batch.n_seq_id[i] = 1
        batch.seq_id[i][0] = seq_id
        batch.logits[i] = logits

    def _should_abort(self, _data: ctypes.c_void_p) -> bool:
        return any(request.cancelled for request in self._step_requests)

    def _after_failed_decode(self, status: int, involved: list[_Sequence]) -> None:
        """Resynchronise what each sequence holds; end cancelled requests (abort) or all involved (error)."""
        for seq in set(involved):  # drop what this step added (its earlier ubatches may have been kept)
            llama_cpp.llama_memory_seq_rm(self._memory, seq.seq_id, len(seq.cached), -1)
        if status == 2:  # aborted by our callback: a request was cancelled; the others go on next step
            for seq in self._active():
                if seq.request.cancelled:
                    self._finish(seq, "cancelled")
            return
        error = BackendError(f"{self.name} failed while batch decoding: llama_decode returned {status}")
        for seq in set(involved):
            if seq.request is not None:
                seq.request.finish(error=error)
                seq.release()

    def _resolve_waits(self) -> None:
        """Sequences waiting on a leader copy its prefix once the leader holds it (or give up waiting)."""
        for seq in self._active():
            leader = seq.waiting_for
            if leader is None:
                continue
            if (len(leader.cached) >= seq.shared
                    and common_prefix_length(leader.cached, seq.request.tokens) >= seq.shared):
                seq.waiting_for = None
                self._copy(leader, seq, seq.shared)
            elif leader.request is None or not leader.filling:
                seq.waiting_for = None  # the leader ended or went past without the prefix: fill alone

    def _sample(self, seq: _Sequence, index: int) -> None:
        request = seq.request
        if request.score_tokens and seq.produced == 0:
            logits = llama_cpp.llama_get_logits_ith(self._ctx.ctx, index)
            seq.scores = token_logprobs(logits, self._n_vocab, request.score_tokens)
        if request.max_tokens <= 0:
            self._finish(seq, "length")
            return
        token = llama_cpp.llama_sampler_sample(seq.sampler.sampler, self._ctx.ctx, index)
        if llama_cpp.llama_vocab_is_eog(self._vocab, token):
            self._finish(seq, "stop")
            return
        seq.produced += 1
        try:
            self._emit(seq, seq.stop_filter.feed(seq.decoder.decode(self._llama.detokenize([token]))))
        except Exception as exc:  # noqa: BLE001 - an on_token callback failed: end that request only
            request.finish(error=exc)
            seq.release()
            return
        if seq.stop_filter.stopped:
            self._finish(seq, "stop")
        elif request.cancelled:
            self._finish(seq, "cancelled")
        elif seq.produced >= request.max_tokens:
            self._finish(seq, "length")
        else:
            seq.next_token = token

    def _emit(self, seq: _Sequence, text: str) -> None:
        if text:
            seq.pieces.append(text)
            if seq.request.on_token is not None:
                seq.request.on_token(text)

    def _finish(self, seq: _Sequence, reason: str) -> None:
        request = seq.request
        if reason != "cancelled":
            try:
                self._emit(seq, seq.stop_filter.feed(seq.decoder.decode(b"", final=True)))
                self._emit(seq, seq.stop_filter.flush())
            except Exception as exc:  # noqa: BLE001 - as in _sample
                request.finish(error=exc)
                seq.release()
                return
        usage = Usage(prompt_tokens=len(request.tokens), completion_tokens=seq.produced,
                      seconds=time.perf_counter() - seq.started, prompt_tokens_evaluated=seq.evaluated)
        seq.release()
        request.finish(Completion(text="".join(seq.pieces), finish_reason=reason, usage=usage, scores=seq.scores))


def _reusable(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """How many leading tokens of ``tokens`` to take from ``cached``: the shared prefix, ending on an ALIGN
    boundary, short of the last token (whose logits must be computed)."""
    return aligned(min(common_prefix_length(cached, tokens), len(tokens) - 1))

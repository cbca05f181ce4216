"""In-process llama.cpp through llama-cpp-python, one loaded model per GGUF file.

Each :class:`LlamaCppModel` keeps its evaluated tokens between calls, so a root model
whose conversation only grows evaluates just the new turn. With ``parallel=N`` it
keeps N independent contexts over the same memory-mapped weights (one KV cache
each) so that concurrent ``chat`` calls overlap; a call goes to the free context
whose cache shares the longest prefix with its prompt.

With ``batching=True`` it instead decodes concurrent calls and :meth:`LlamaCppModel.chat_batch`
together in one context with several sequences (:mod:`rlm_desktop.backends.batch_decoder`):
the weights are read once per step for all of them; every sequence has the model's
whole window.

With ``draft="lookup"`` or ``draft="model"`` its plain contexts decode speculatively
(:mod:`rlm_desktop.backends.speculative`): the output is that of plain decoding, in fewer decodes.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import llama_cpp
from llama_cpp import _internals as llama_internals

from rlm_desktop.backends.base import CancelToken, Completion, Message, Usage
from rlm_desktop.backends.batch_decoder import BatchDecoder, BatchRequest
from rlm_desktop.backends.batch_sizing import choose_sequences
from rlm_desktop.backends.chat_format import ChatTemplate
from rlm_desktop.backends.llama_generation import common_prefix_length, generate
from rlm_desktop.backends.prompt_cache import PromptStateCache, model_key, restore_prompt, save_prompt, should_save
from rlm_desktop.backends.speculative import DRAFT_MODES, Drafter, make_drafter
from rlm_desktop.errors import BackendError, ContextOverflowError, ModelLoadError

DEFAULT_MAX_CONTEXT = 8192
_GGUF_MAGIC = b"GGUF"
_verbose_models = 0  # llama.cpp's log goes to stderr only while a verbose model is loaded


@llama_cpp.llama_log_callback
def _llama_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    if _verbose_models > 0:
        print(text.decode("utf-8", errors="replace"), end="", flush=True, file=sys.stderr)


llama_cpp.llama_log_set(_llama_log, ctypes.c_void_p(0))  # replaces llama-cpp-python's, which lets some through


class _Slot:
    """One llama.cpp context (with its own KV cache) and whether a call holds it."""

    def __init__(self, llama: llama_cpp.Llama) -> None:
        self.llama = llama
        self.drafter: Drafter | None = None  # proposes tokens for speculative decoding on this context
        self.busy = False
        self.last_used = 0.0


class LlamaCppModel:
    """A GGUF model run in this process. Implements :class:`~rlm_desktop.backends.base.LanguageModel`."""

    supports_grammar = True

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        seed: int = 0,
        verbose: bool = False,
        parallel: int = 1,
        n_batch: int = 512,
        batching: bool = False,
        sequences: int | None = None,
        prompt_cache_dir: Path | None = None,
        draft: str = "none",
        draft_model: str | Path | None = None,
    ) -> None:
        """``batching``: serve calls through one multi-sequence context; ``sequences`` (None:
        chosen from the window and free memory) is how many it decodes at once. Where only one
        would fit, ``parallel`` plain contexts serve the calls instead.
        ``prompt_cache_dir``: keep evaluated prompt states there (and in memory) across runs.
        ``draft``: speculative decoding on the plain contexts, one of ``none``, ``lookup`` (drafts copied
        from the conversation) and ``model`` (drafts written by the GGUF ``draft_model``, which must share
        this model's vocabulary); a batched context decodes plainly."""
        self.path = Path(path)
        self.name = self.path.stem
        if parallel < 1:
            raise BackendError(f"parallel must be at least 1 for {self.name}, got {parallel}.")
        if draft not in DRAFT_MODES:
            raise BackendError(f"Unknown draft mode {draft!r} for {self.name}; choose one of {', '.join(DRAFT_MODES)}.")
        self.draft = draft
        metadata, bos, eos = _read_metadata(self.path)
        self.metadata = metadata
        trained = _trained_context(metadata)
        self.trained_context_length = trained
        self.context_length = int(n_ctx) if n_ctx else min(trained or DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT)
        self.template = ChatTemplate.from_metadata(metadata, bos_token=bos, eos_token=eos, model=self.name)
        self._add_bos_tokens = metadata.get("tokenizer.ggml.add_bos_token", "true") == "true"
        self._options = dict(
            n_ctx=self.context_length,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_gpu_layers=n_gpu_layers,
            seed=seed,
            n_batch=min(n_batch, self.context_length),
            verbose=verbose,
            swa_full=True,  # sliding-window models (Gemma 3) can then drop a suffix and reuse the prefix
        )
        self._seed = seed or llama_cpp.LLAMA_DEFAULT_SEED  # llama.cpp's "default" seed is a fresh random one
        self._prompt_cache: PromptStateCache | None = None
        if prompt_cache_dir is not None:
            shaping = {k: self._options[k] for k in ("n_ctx", "n_batch", "n_gpu_layers", "swa_full")}
            self._prompt_cache = PromptStateCache(Path(prompt_cache_dir), model_key(
                self.path, {**shaping, "llama_cpp": llama_cpp.__version__}))
        self._cond = threading.Condition()
        self._closed = False
        self._verbose = verbose
        self._grammars: dict[str, llama_cpp.LlamaGrammar] = {}
        _set_verbose(verbose, +1)
        self._decoder: BatchDecoder | None = None
        n_seq = (sequences or choose_sequences(metadata, self.context_length)) if batching else 1
        if n_seq > 1:  # the plain context only lends its weights and vocabulary to the batched one
            parallel = 1
            self._options.update(n_ctx=min(self.context_length, 256), n_batch=min(n_batch, 256))
        try:
            self._slots = [_Slot(self._load()) for _ in range(parallel)]
            if n_seq > 1:
                self._decoder = BatchDecoder(self._slots[0].llama, n_seq=n_seq, seq_window=self.context_length,
                                             n_batch=min(n_batch, self.context_length), n_threads=n_threads,
                                             seed=seed, name=self.name)
            else:
                for slot in self._slots:
                    slot.drafter = make_drafter(draft, target=slot.llama, target_name=self.name,
                                                draft_model_path=Path(draft_model) if draft_model else None,
                                                n_ctx=self.context_length, n_threads=n_threads)
        except BaseException:
            for slot in getattr(self, "_slots", []):
                if slot.drafter is not None:
                    slot.drafter.close()
                slot.llama.close()
            _set_verbose(verbose, -1)
            raise

    # --- LanguageModel -------------------------------------------------------
    def chat(
        self,
        messages: list[Message],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        grammar: str | None = None,
        on_token: Callable[[str], None] | None = None,
        cancel: CancelToken | None = None,
        seed: int | None = None,
    ) -> Completion:
        """Complete a conversation; raises ContextOverflowError when prompt + max_tokens do not fit.

        ``seed`` fixes the sampler's random numbers when ``temperature`` > 0 (the same seed, prompt and
        settings give the same text); None draws fresh ones (the model's own seed, if it was given one)."""
        request = self._request(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                grammar=grammar, on_token=on_token, cancel=cancel)
        request.seed = seed
        if self._decoder is not None:
            self._decoder.submit([request])
            return request.wait()
        return self._chat_plain(request)

    def chat_batch(
        self,
        conversations: list[list[Message]],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        grammar: str | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Completion | Exception]:
        """Complete many conversations together, results in their order.

        A conversation that fails (e.g. :class:`ContextOverflowError`) gets its exception in
        its place; the others are unaffected. Without batching they run one after another.
        """
        requests: list[BatchRequest | Exception] = []
        for messages in conversations:
            try:
                requests.append(self._request(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                              grammar=grammar, on_token=None, cancel=cancel))
            except (ContextOverflowError, BackendError) as exc:
                requests.append(exc)
        return self._serve(requests)

    def score_choices(
        self,
        conversations: list[list[Message]],
        choices: Sequence[str],
        *,
        cancel: CancelToken | None = None,
    ) -> list[Completion | Exception]:
        """Per conversation, the log-probability of each choice's first token as the first answer token.

        Only the prompts are evaluated (no token is generated); each Completion's ``text`` is the likeliest
        choice and its ``scores`` the log-probabilities, in the order of ``choices``. Raises ValueError when
        two choices begin with the same token.
        """
        firsts = [self.tokenize(choice, add_bos=False)[:1] for choice in choices]
        if any(not first for first in firsts) or len({first[0] for first in firsts}) < len(firsts):
            raise ValueError(f"the choices {list(choices)} do not each begin with a token of their own "
                             f"in {self.name}'s vocabulary")
        score_tokens = tuple(first[0] for first in firsts)
        requests: list[BatchRequest | Exception] = []
        for messages in conversations:
            try:
                request = self._request(messages, max_tokens=0, temperature=0.0, stop=None, grammar=None,
                                        on_token=None, cancel=cancel)
                request.score_tokens = score_tokens
                requests.append(request)
            except (ContextOverflowError, BackendError) as exc:
                requests.append(exc)
        results = self._serve(requests)
        return [replace(result, text=choices[max(range(len(choices)), key=result.scores.__getitem__)])
                if isinstance(result, Completion) and result.scores is not None else result
                for result in results]

    def _serve(self, requests: list[BatchRequest | Exception]) -> list[Completion | Exception]:
        """Run the requests (batched where a decoder exists); a failed one gives its exception in its place."""
        if self._decoder is not None:
            self._decoder.submit([r for r in requests if isinstance(r, BatchRequest)])
        results: list[Completion | Exception] = []
        for request in requests:
            if isinstance(request, Exception):
                results.append(request)
                continue
            try:
                results.append(request.wait() if self._decoder is not None else self._chat_plain(request))
            except (BackendError, RuntimeError, ValueError) as exc:
                results.append(exc)
        return results

    def _prompt_cache_hooks(self, llama: llama_cpp.Llama,
                            tokens: list[int]) -> tuple[int, Callable[[int], None] | None]:
        """Restore a saved prompt state that beats the context's own cache; a hook that saves a new one."""
        cache = self._prompt_cache
        if cache is None:
            return 0, None
        restored = restore_prompt(llama, tokens, cache, common_prefix_length(llama._input_ids, tokens))

        def save(evaluated: int) -> None:
            if should_save(len(tokens), evaluated):
                save_prompt(llama, tokens, cache)

        return restored, save

    @property
    def sequences(self) -> int:
        """How many sequences are decoded together (1 without batching)."""
        return self._decoder.n_seq if self._decoder is not None else 1

    def _request(self, messages: list[Message], *, max_tokens: int, temperature: float, stop: list[str] | None,
                 grammar: str | None, on_token: Callable[[str], None] | None,
                 cancel: CancelToken | None) -> BatchRequest:
        prompt = self.template.render(messages)
        tokens = self.tokenize(prompt.text, add_bos=not prompt.starts_with_bos)
        if len(tokens) + max_tokens > self.context_length:
            raise _overflow(self.name, len(tokens), max_tokens, self.context_length)
        return BatchRequest(tokens=tokens, max_tokens=max_tokens, temperature=temperature,
                            stops=[*(stop or []), *prompt.stops], grammar=self._grammar(grammar) if grammar else None,
                            on_token=on_token, cancel=cancel)

    def _chat_plain(self, request: BatchRequest) -> Completion:
        """One call on one of the plain contexts (waits for a free one)."""
        tokens, cancel = request.tokens, request.cancel
        waited = time.perf_counter()
        slot = self._acquire(tokens, cancel)
        if slot is None:
            usage = Usage(prompt_tokens=len(tokens), seconds=time.perf_counter() - waited, prompt_tokens_evaluated=0)
            return Completion(text="", finish_reason="cancelled", usage=usage)
        try:
            restored, save = self._prompt_cache_hooks(slot.llama, tokens)
            slot.llama.set_seed(request.seed if request.seed is not None else self._seed)
            completion = generate(
                slot.llama,
                tokens,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stops=request.stops,
                grammar=request.grammar,
                on_token=request.on_token,
                cancel=cancel,
                after_prefill=save,
                score_tokens=request.score_tokens,
                drafter=slot.drafter,
            )
            if restored:
                completion = replace(completion, usage=replace(completion.usage, prompt_tokens_restored=restored))
            return completion
        except (RuntimeError, ValueError) as exc:  # llama_decode failures surface as RuntimeError
            raise BackendError(f"{self.name} failed while generating: {exc}") from exc
        finally:
            self._release(slot)

    def count_tokens(self, text: str) -> int:
        """Number of tokens ``text`` takes in this model's vocabulary (no BOS)."""
        return len(self.tokenize(text, add_bos=False))

    def close(self) -> None:
        """Free the contexts and weights; waits for running calls to finish."""
        if self._decoder is not None:
            self._decoder.close()
        with self._cond:
            self._closed = True
            while any(slot.busy for slot in self._slots):
                self._cond.wait()
            for slot in self._slots:
                if slot.drafter is not None:
                    slot.drafter.close()
                slot.llama.close()
            if self._slots:
                _set_verbose(self._verbose, -1)
            self._slots = []

    # --- extras ----------------------------------------------------------------
    @property
    def parallel(self) -> int:
        return len(self._slots)

    def tokenize(self, text: str, *, add_bos: bool = True) -> list[int]:
        """Tokens of ``text``, special tokens parsed, BOS added when the model wants one."""
        llama = self._any_llama()
        return llama.tokenize(text.encode("utf-8"), add_bos=add_bos and self._add_bos_tokens, special=True)

    def __enter__(self) -> "LlamaCppModel":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LlamaCppModel({str(self.path)!r}, n_ctx={self.context_length}, parallel={self.parallel})"

    # --- internals -------------------------------------------------------------
    def _load(self) -> llama_cpp.Llama:
        try:
            return llama_cpp.Llama(str(self.path), **self._options)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"Could not load model {self.path}: {exc}") from exc

    def _any_llama(self) -> llama_cpp.Llama:
        if self._closed or not self._slots:
            raise BackendError(f"Model {self.name} is closed.")
        return self._slots[0].llama

    def _grammar(self, text: str) -> llama_cpp.LlamaGrammar:
        with self._cond:
            compiled = self._grammars.get(text)
        if compiled is None:
            compiled = _compile_grammar(text, self._any_llama(), self.name)
            with self._cond:
                self._grammars[text] = compiled
        return compiled

    def _acquire(self, tokens: list[int], cancel: CancelToken | None) -> _Slot | None:
        """The free context sharing the longest cached prefix with ``tokens`` (then least recently used)."""
        with self._cond:
            while True:
                if self._closed:
                    raise BackendError(f"Model {self.name} is closed.")
                free = [slot for slot in self._slots if not slot.busy]
                if free:
                    best = max(free, key=lambda s: (common_prefix_length(s.llama._input_ids, tokens), -s.last_used))
                    best.busy = True
                    return best
                if cancel is not None and cancel.cancelled:
                    return None
                self._cond.wait(timeout=0.1)

    def _release(self, slot: _Slot) -> None:
        with self._cond:
            slot.busy = False
            slot.last_used = time.monotonic()
            self._cond.notify_all()


def _set_verbose(verbose: bool, change: int) -> None:
    global _verbose_models
    if verbose:
        _verbose_models += change


def _read_metadata(path: Path) -> tuple[dict[str, str], str, str]:
    """GGUF metadata and BOS/EOS token texts, from a vocabulary-only load (no weights)."""
    if not path.is_file():
        raise ModelLoadError(f"Model file not found: {path}")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(f"Could not read model file {path}: {exc}") from exc
    if magic != _GGUF_MAGIC:
        raise ModelLoadError(f"{path} is not a GGUF model file (it does not start with 'GGUF').")
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    try:
        vocab = llama_internals.LlamaModel(path_model=str(path), params=params, verbose=False)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(f"Could not load model {path}: {exc}") from exc
    try:
        metadata = vocab.metadata()
        bos_id, eos_id = vocab.token_bos(), vocab.token_eos()
        bos = vocab.token_get_text(bos_id) if bos_id != -1 else ""
        eos = vocab.token_get_text(eos_id) if eos_id != -1 else ""
    finally:
        vocab.close()
    return metadata, bos, eos


def _trained_context(metadata: dict[str, str]) -> int | None:
    architecture = metadata.get("general.architecture", "")
    try:
        return int(metadata[f"{architecture}.context_length"])
    except (KeyError, ValueError):
        return None


def _compile_grammar(text: str, llama: llama_cpp.Llama, model: str) -> llama_cpp.LlamaGrammar:
    """A checked GBNF grammar: llama.cpp parses it once here, so a bad one fails clearly."""
    grammar = llama_cpp.LlamaGrammar.from_string(text, verbose=False)
    sampler = llama_cpp.llama_sampler_init_grammar(
        llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
    )
    if not sampler:
        raise BackendError(f"Invalid GBNF grammar for {model} (llama.cpp could not parse it).")
    llama_cpp.llama_sampler_free(sampler)
    return grammar


def _overflow(model: str, prompt_tokens: int, max_tokens: int, context_length: int) -> ContextOverflowError:
    error = ContextOverflowError(model, prompt_tokens, context_length)
    if prompt_tokens <= context_length:  # the prompt fits, but not with room for the answer
        error.args = (
            f"Prompt of {prompt_tokens} tokens plus {max_tokens} tokens for the answer does not fit "
            f"the context window of {model} ({context_length} tokens).",
        )
    return error

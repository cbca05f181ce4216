"""Serving `llm_query` and `llm_query_batched` for the code a root model writes.

The sandbox calls these host functions in the parent process. Depth 1 (the paper's)
makes a sub-call one plain sub-model completion; depth 2 hands the prompt to a child
RLM with its own sandbox. Every call goes through the sub-call cache when one is
given, counts towards the run's sub-call and token budgets, and emits start/finish
events. Batches run on a bounded thread pool and keep their order.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from rlm_desktop.backends.base import LanguageModel, Usage
from rlm_desktop.engine.budget import RunBudget
from rlm_desktop.engine.events import Event, SubCallFinished, SubCallStarted
from rlm_desktop.errors import BackendError, ContextOverflowError

_PREVIEW = 200


class SubCallCache(Protocol):
    """Stores sub-call answers across runs (implemented by the library)."""

    def get(self, model_id: str, prompt: str, settings: dict) -> str | None: ...

    def put(self, model_id: str, prompt: str, settings: dict, answer: str) -> None: ...


ChildRunner = Callable[[str], tuple[str, Usage]]
"""Runs a depth-2 child RLM over a prompt; returns its answer and its usage."""


class SubCallServer:
    """The host functions `llm_query` / `llm_query_batched` of one run."""

    def __init__(self, model: LanguageModel, *, budget: RunBudget, emit: Callable[[Event], None],
                 max_tokens: int, parallel: int, cache: SubCallCache | None = None,
                 child: ChildRunner | None = None, depth: int = 0) -> None:
        self.model = model
        self.budget = budget
        self.emit = emit
        self.max_tokens = max_tokens
        self.parallel = max(1, parallel)
        self.cache = cache
        self.child = child
        self.depth = depth
        self._ids = itertools.count(1)
        self._ids_lock = threading.Lock()

    def host_functions(self) -> dict[str, Callable[..., Any]]:
        return {"llm_query": self.llm_query, "llm_query_batched": self.llm_query_batched}

    @property
    def _cache_settings(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "temperature": 0.0, "depth": 2 if self.child else 1}

    def llm_query(self, prompt: str) -> str:
        """Answer one prompt with the sub-model (or a child RLM at depth 2)."""
        if not isinstance(prompt, str):
            prompt = str(prompt)
        with self._ids_lock:
            call_id = next(self._ids)
        self.emit(SubCallStarted(call_id=call_id, prompt_preview=prompt[:_PREVIEW],
                                 prompt_chars=len(prompt), depth=self.depth))
        started = time.monotonic()
        cached = self.cache.get(self.model.name, prompt, self._cache_settings) if self.cache else None
        if cached is not None:
            self.budget.count_sub_call(cached=True)
            self.emit(SubCallFinished(call_id=call_id, answer_preview=cached[:_PREVIEW], prompt_tokens=0,
                                      completion_tokens=0, seconds=time.monotonic() - started,
                                      cached=True, depth=self.depth))
            return cached
        try:
            answer, usage = self._answer(prompt)
        except Exception as exc:
            self.emit(SubCallFinished(call_id=call_id, answer_preview="", prompt_tokens=0, completion_tokens=0,
                                      seconds=time.monotonic() - started, error=str(exc), depth=self.depth))
            raise
        self.emit(SubCallFinished(call_id=call_id, answer_preview=answer[:_PREVIEW],
                                  prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                  seconds=time.monotonic() - started, depth=self.depth))
        if self.cache is not None and not self.budget.work_cancelled:
            self.cache.put(self.model.name, prompt, self._cache_settings, answer)
        return answer

    def _answer(self, prompt: str) -> tuple[str, Usage]:
        """Run the model (or child RLM) for one uncached prompt, within the budgets."""
        if self.budget.work_cancelled:
            raise RuntimeError(f"llm_query refused: the run was stopped ({self.budget.tripped})")
        if not self.budget.reserve_sub_call():
            raise RuntimeError(f"llm_query refused: the run's budget of {self.budget.max_sub_calls} "
                               "sub-calls is spent")
        if self.budget.tokens_left <= 0:
            raise RuntimeError(f"llm_query refused: the run's budget of {self.budget.max_tokens} tokens is spent")
        self.budget.count_sub_call(cached=False)
        if self.child is not None:
            return self.child(prompt)
        try:
            completion = self.model.chat([{"role": "user", "content": prompt}], max_tokens=self.max_tokens,
                                         temperature=0.0, cancel=self.budget.token)
        except ContextOverflowError as exc:
            raise ValueError(f"llm_query prompt too long: {exc.prompt_tokens} tokens, the sub-model "
                             f"reads at most {exc.context_length}; use smaller chunks") from None
        except BackendError as exc:
            raise RuntimeError(f"llm_query failed: {exc}") from None
        self.budget.add_usage("sub", completion.usage)
        if completion.finish_reason == "cancelled":
            raise RuntimeError("llm_query cancelled: the run was stopped")
        return completion.text.strip(), completion.usage

    def llm_query_batched(self, prompts: list[str]) -> list[str]:
        """Answer many prompts concurrently (bounded by ``parallel``), in their order."""
        if isinstance(prompts, str) or not hasattr(prompts, "__iter__"):
            raise TypeError("llm_query_batched expects a list of prompts (str)")
        prompts = [p if isinstance(p, str) else str(p) for p in prompts]
        if not prompts:
            return []
        workers = min(self.parallel, len(prompts))
        if workers == 1:
            return [self.llm_query(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlm-subcall") as pool:
            futures = [pool.submit(self.llm_query, p) for p in prompts]
            answers: list[str] = []
            for index, future in enumerate(futures):
                try:
                    answers.append(future.result())
                except Exception as exc:
                    for rest in futures[index + 1:]:
                        rest.cancel()
                    kind = type(exc) if type(exc) in (ValueError, TypeError, RuntimeError) else RuntimeError
                    raise kind(f"prompt {index + 1} of {len(prompts)}: {exc}") from None
        return answers

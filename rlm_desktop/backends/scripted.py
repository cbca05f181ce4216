"""A deterministic model that replays given outputs: for loop tests and demos.

Honours the protocol like a real backend: streams through ``on_token``, stops on
``stop`` strings, cuts at ``max_tokens``, refuses prompts over its context length,
and returns ``finish_reason="cancelled"`` when cancelled during its delay.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Callable

from rlm_desktop.backends.base import CancelToken, Completion, Message, Usage
from rlm_desktop.errors import BackendError, ContextOverflowError

_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s])|\s+")  # word-ish pieces, leading whitespace attached


def _pieces(text: str) -> list[str]:
    return _TOKEN.findall(text)


class ScriptedModel:
    """Replays ``outputs`` in order, or answers ``outputs(messages)`` when given a function.

    ``calls`` holds a copy of the messages of every call, ``options`` the keyword
    options (max_tokens, temperature, stop, grammar) of each. ``delay`` seconds pass
    before each answer (cancellable), so concurrent calls visibly overlap.
    """

    supports_grammar = False

    def __init__(
        self,
        outputs: list[str] | Callable[[list[Message]], str],
        *,
        name: str = "scripted",
        delay: float = 0.0,
        context_length: int = 32768,
    ) -> None:
        self.name = name
        self.delay = delay
        self.context_length = context_length
        self._outputs = outputs if callable(outputs) else list(outputs)
        self._next = 0
        self._lock = threading.Lock()
        self.calls: list[list[Message]] = []
        self.options: list[dict[str, Any]] = []

    @property
    def remaining(self) -> int | None:
        """Outputs left to replay (None when answering through a function)."""
        with self._lock:
            return None if callable(self._outputs) else len(self._outputs) - self._next

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
        started = time.perf_counter()
        prompt_tokens = sum(self.count_tokens(m.get("content", "")) for m in messages)
        if prompt_tokens + max_tokens > self.context_length:
            raise ContextOverflowError(self.name, prompt_tokens, self.context_length)
        with self._lock:
            self.calls.append([dict(m) for m in messages])
            self.options.append({"max_tokens": max_tokens, "temperature": temperature, "stop": stop, "grammar": grammar,
                                 "seed": seed})
            output = self._take(messages)
        if cancel is not None and (cancel.cancelled or (self.delay > 0 and cancel.wait(self.delay))):
            return _cancelled(prompt_tokens, started)
        if self.delay > 0 and cancel is None:
            time.sleep(self.delay)
        text, finish = _apply_limits(output, max_tokens, stop or [])
        pieces = _pieces(text)
        if on_token is not None:
            for piece in pieces:
                on_token(piece)
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=len(pieces),
            seconds=time.perf_counter() - started,
            prompt_tokens_evaluated=prompt_tokens,
        )
        return Completion(text=text, finish_reason=finish, usage=usage)

    def count_tokens(self, text: str) -> int:
        """Word-ish pieces: a stand-in for a tokenizer, stable across runs."""
        return len(_pieces(text))

    def close(self) -> None:
        pass

    def _take(self, messages: list[Message]) -> str:
        if callable(self._outputs):
            try:
                return str(self._outputs(messages))
            except Exception as exc:
                raise BackendError(f"Scripted model {self.name!r} failed on call {len(self.calls)}: {exc}") from exc
        if self._next >= len(self._outputs):
            raise BackendError(
                f"Scripted model {self.name!r} has no output left for call {len(self.calls)} "
                f"(its script had {len(self._outputs)})."
            )
        self._next += 1
        return self._outputs[self._next - 1]


def _apply_limits(output: str, max_tokens: int, stop: list[str]) -> tuple[str, str]:
    cuts = [i for i in (output.find(s) for s in stop if s) if i >= 0]
    text, finish = (output[: min(cuts)], "stop") if cuts else (output, "stop")
    pieces = _pieces(text)
    if len(pieces) > max_tokens:
        return "".join(pieces[:max_tokens]), "length"
    return text, finish


def _cancelled(prompt_tokens: int, started: float) -> Completion:
    usage = Usage(prompt_tokens=prompt_tokens, seconds=time.perf_counter() - started, prompt_tokens_evaluated=0)
    return Completion(text="", finish_reason="cancelled", usage=usage)

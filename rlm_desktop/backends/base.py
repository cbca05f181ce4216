"""The one small protocol every language model backend implements."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence, runtime_checkable

Message = dict[str, str]
"""A chat message: ``{"role": "system"|"user"|"assistant", "content": str}``."""


@dataclass(frozen=True)
class Usage:
    """Token and time accounting for one call.

    ``prompt_tokens`` is the whole prompt; ``prompt_tokens_evaluated`` is how many
    of them the model actually had to process (fewer when a KV cache was reused).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    prompt_tokens_evaluated: int | None = None
    cached: bool = False  # answered from the sub-call cache, no model ran
    prompt_tokens_restored: int = 0  # of the reused prompt tokens, how many came from a saved prompt state
    draft_tokens_proposed: int = 0  # speculative decoding: draft tokens the model checked
    draft_tokens_accepted: int = 0  # of them, how many it agreed with (output without a decode of their own)

    def __add__(self, other: "Usage") -> "Usage":
        pe_self = self.prompt_tokens if self.prompt_tokens_evaluated is None else self.prompt_tokens_evaluated
        pe_other = other.prompt_tokens if other.prompt_tokens_evaluated is None else other.prompt_tokens_evaluated
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            seconds=self.seconds + other.seconds,
            prompt_tokens_evaluated=pe_self + pe_other,
            prompt_tokens_restored=self.prompt_tokens_restored + other.prompt_tokens_restored,
            draft_tokens_proposed=self.draft_tokens_proposed + other.draft_tokens_proposed,
            draft_tokens_accepted=self.draft_tokens_accepted + other.draft_tokens_accepted,
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    """What a model returned: text, why it stopped (``stop``, ``length``, ``cancelled``), usage."""

    text: str
    finish_reason: str
    usage: Usage = field(default_factory=Usage)
    # log-probabilities, at the first answer position, of the choices a scoring call named (else None)
    scores: tuple[float, ...] | None = None


class CancelToken:
    """Thread-safe cancellation flag shared by a run, its model calls and its sandbox."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if cancelled meanwhile."""
        return self._event.wait(timeout)


@runtime_checkable
class LanguageModel(Protocol):
    """A chat model. Implementations: llamacpp, openai_http, scripted.

    ``chat`` must be safe to call from several threads (implementations serialise
    internally where the underlying model is not), must stop within a second of
    ``cancel.cancel()`` (returning ``finish_reason="cancelled"``), and must raise
    :class:`~rlm_desktop.errors.ContextOverflowError` rather than truncate.
    ``grammar`` is a llama.cpp GBNF grammar; backends that cannot apply one ignore it
    and report so through ``supports_grammar``.
    """

    name: str
    context_length: int
    supports_grammar: bool

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
    ) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...


@runtime_checkable
class BatchingLanguageModel(LanguageModel, Protocol):
    """A model that decodes many conversations together (llama.cpp with batching on).

    ``chat_batch`` returns one result per conversation, in order: a Completion, or the
    exception that conversation alone raised (e.g. ContextOverflowError).
    ``sequences`` is how many it decodes at once.
    """

    sequences: int

    def chat_batch(
        self,
        conversations: list[list[Message]],
        *,
        max_tokens: int = 1024,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        grammar: str | None = None,
        cancel: CancelToken | None = None,
    ) -> list[Completion | Exception]: ...


@runtime_checkable
class ChoiceScoringModel(Protocol):
    """A model that can say how likely each of a few choices is as the start of its answer (llama.cpp).

    ``score_choices`` evaluates each conversation's prompt and returns, per conversation, a Completion whose
    ``scores`` are the log-probabilities of each choice's first token at the first answer position (the
    choice with the highest is its ``text``), or the exception that conversation alone raised. It raises
    ValueError at once when two choices begin with the same token (their scores would be equal).
    """

    def score_choices(
        self,
        conversations: list[list[Message]],
        choices: Sequence[str],
        *,
        cancel: CancelToken | None = None,
    ) -> list[Completion | Exception]: ...

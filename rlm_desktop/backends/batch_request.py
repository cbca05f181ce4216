"""What a caller hands the batch decoder (one prompt and its settings) and what it measures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import llama_cpp

from rlm_desktop.backends.base import CancelToken, Completion, Usage


@dataclass
class BatchRequest:
    """One prompt waiting for, or being served by, the decoder; ``wait()`` gives its result."""

    tokens: list[int]
    max_tokens: int
    temperature: float = 0.0
    stops: Sequence[str] = ()
    grammar: llama_cpp.LlamaGrammar | None = None
    on_token: Callable[[str], None] | None = None
    cancel: CancelToken | None = None
    score_tokens: Sequence[int] = ()  # tokens whose log-probabilities at the first answer position are wanted
    seed: int | None = None  # the sampler's seed when temperature > 0 (None: the decoder's own)
    completion: Completion | None = None
    error: BaseException | None = None
    submitted: float = field(default_factory=time.perf_counter)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.cancelled

    def finish(self, completion: Completion | None = None, error: BaseException | None = None) -> None:
        self.completion, self.error = completion, error
        self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self) -> Completion:
        """Block until served; raises the request's own error (others in the batch are unaffected)."""
        self._done.wait()
        if self.error is not None:
            raise self.error
        assert self.completion is not None
        return self.completion


@dataclass
class GenerationSteps:
    """Decode steps that held only generating sequences (no prompt chunk): tokens and seconds, by width."""

    tokens: dict[int, int] = field(default_factory=dict)
    seconds: dict[int, float] = field(default_factory=dict)

    def add(self, width: int, seconds: float) -> None:
        self.tokens[width] = self.tokens.get(width, 0) + width
        self.seconds[width] = self.seconds.get(width, 0.0) + seconds

    def tokens_per_second(self, width: int) -> float | None:
        seconds = self.seconds.get(width)
        return self.tokens[width] / seconds if seconds else None


def cancelled_completion(request: BatchRequest) -> Completion:
    """The result of a request cancelled before it reached a sequence."""
    return Completion(text="", finish_reason="cancelled",
                      usage=Usage(prompt_tokens=len(request.tokens), prompt_tokens_evaluated=0,
                                  seconds=time.perf_counter() - request.submitted))


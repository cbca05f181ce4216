"""Serving `llm_query`, `llm_query_batched`, `llm_classify` and `llm_answer` for the code a root model writes.

The sandbox calls these host functions in the parent process. Depth 1 (the paper's)
makes a sub-call one plain sub-model completion; depth 2 hands the prompt to a child
RLM with its own sandbox. Every call goes through the sub-call cache when one is
given, counts towards the run's sub-call and token budgets, and emits start/finish
events. Batches keep their order: a model that decodes many sequences together
(:class:`~rlm_desktop.backends.base.BatchingLanguageModel`) gets the whole batch at once,
any other model gets the prompts on a bounded thread pool. ``llm_classify`` puts each of
many texts in one of a few labels: one sub-call per text, always on the plain sub-model, that
scores the labels where the backend can (then corrected for the model's preference for some
labels) or generates one, held by a grammar to the labels where the backend takes one. ``llm_answer``
answers one short question from given sentences (the REPL's ``ask()``), with worked turns,
also always on the plain sub-model.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from rlm_desktop.backends.base import (BatchingLanguageModel, ChoiceScoringModel, Completion, LanguageModel, Message,
                                       Usage)
from rlm_desktop.engine import prompts
from rlm_desktop.engine.budget import RunBudget
from rlm_desktop.engine.calibration import chosen_labels
from rlm_desktop.engine.document_text import quoted_prompt, with_data_note
from rlm_desktop.engine.events import Event, SubCallFinished, SubCallStarted
from rlm_desktop.engine.grammar import EXTRACT_GRAMMAR, FILTER_GRAMMAR, choice_grammar
from rlm_desktop.engine.operator_prompts import OPERATOR_MAX_TOKENS, operator_messages, operator_prompt
from rlm_desktop.engine.prompts import (answer_messages, answer_prompt, classify_messages, example_messages,
                                        example_request, sub_messages, written_examples)
from rlm_desktop.errors import BackendError, ContextOverflowError
from rlm_desktop.sandbox.helpers import EXAMPLE_SAMPLES

_PREVIEW = 200
MAX_LABELS = 40
MAX_LABEL_CHARS = 120
UNCLEAR_LABEL = "(unclear)"
ANSWER_MAX_TOKENS = 48  # a name, a date or an amount
EXAMPLE_TOKENS = 40  # one short example text
EXAMPLE_SAMPLE_CHARS = 300


@dataclass(frozen=True)
class _CallKind:
    """How one family of sub-calls is put to the model."""

    messages: Callable[[str], list[Message]]
    max_tokens: int
    grammar: str | None = None
    via_child: bool = True   # at depth 2 a child RLM answers instead of the plain sub-model
    tag: str | None = None   # told apart in the sub-call cache (None: a plain llm_query)
    model: LanguageModel | None = None  # another model than the sub-model (the writer of classify() examples)
    role: str = "sub"        # whose usage the call counts as
    choices: tuple[str, ...] = ()  # score these as the answer's start instead of generating (classify())

    @property
    def options(self) -> dict[str, Any]:
        """Extra keyword arguments for ``chat`` / ``chat_batch``."""
        return {"grammar": self.grammar} if self.grammar else {}


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
                 child: ChildRunner | None = None, depth: int = 0, writer: LanguageModel | None = None) -> None:
        self.model = model
        self.writer = writer
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
        return {"llm_query": self.llm_query, "llm_query_batched": self.llm_query_batched,
                "llm_classify": self.llm_classify, "llm_answer": self.llm_answer, "llm_examples": self.llm_examples,
                "llm_extract": self.llm_extract}

    @property
    def _plain(self) -> _CallKind:
        return _CallKind(messages=sub_messages, max_tokens=self.max_tokens)

    def _cache_settings(self, kind: _CallKind) -> dict[str, Any]:
        if kind.tag is not None:
            return {"max_tokens": kind.max_tokens, "temperature": 0.0, "kind": kind.tag}
        return {"max_tokens": self.max_tokens, "temperature": 0.0, "depth": 2 if self.child else 1}

    def llm_query(self, prompt: str) -> str:
        """Answer one prompt with the sub-model (or a child RLM at depth 2)."""
        return self._one(prompt if isinstance(prompt, str) else str(prompt), self._plain)

    def llm_classify(self, texts: list[str], labels: list[str], examples: Any = ()) -> list[str]:
        """Put each text in one of ``labels`` (one sub-call per text); the labels in the texts' order.

        ``examples`` are (text, label) pairs shown to the sub-model as earlier turns. A backend that
        scores choices (llama.cpp) gives each label's probability as the answer's start, and the labels
        are chosen after correcting for the model's preference for some of them
        (:mod:`~rlm_desktop.engine.calibration`). Otherwise the answer is generated, held to the labels
        by a grammar where the backend takes one, and the label it names is taken
        (:data:`UNCLEAR_LABEL` where it names none).
        """
        labels = checked_labels(labels)
        shots = checked_examples(examples, labels)
        if isinstance(texts, str) or not hasattr(texts, "__iter__"):
            raise TypeError("llm_classify expects a list of texts (str)")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        messages = lambda text: classify_messages(labels, text, shots)  # noqa: E731
        tag = "\n".join(["classify", *labels, *(f"{text}\t{label}" for text, label in shots)])
        if self._scores_choices(labels):
            kind = _CallKind(messages=messages, max_tokens=0, via_child=False, tag=f"scores-{tag}",
                             choices=tuple(labels))
            self._check_room(texts, kind, "classify()")
            return chosen_labels([_scores_in(answer, len(labels)) for answer in self._many(texts, kind)], labels)
        grammar = choice_grammar(labels) if getattr(self.model, "supports_grammar", False) else None
        longest = max(self.model.count_tokens(label) for label in labels)
        kind = _CallKind(messages=messages, max_tokens=longest + 8, grammar=grammar, via_child=False, tag=tag)
        self._check_room(texts, kind, "classify()")
        return [match_label(answer, labels) for answer in self._many(texts, kind)]

    def _scores_choices(self, labels: list[str]) -> bool:
        """Whether the sub-model can score ``labels`` (each begins with a token of its own)."""
        if not isinstance(self.model, ChoiceScoringModel):
            return False
        try:
            self.model.score_choices([], labels)
        except ValueError:
            return False
        return True

    def _check_room(self, prompts: list[str], kind: _CallKind, what: str) -> None:
        """Refuse at once, rather than after spending the budget, a batch that needs more sub-calls than are left."""
        distinct = list(dict.fromkeys(prompts))
        settings = self._cache_settings(kind)
        needed = sum(1 for p in distinct if self.cache is None or self.cache.get(self.model.name, p, settings) is None)
        left = self.budget.sub_calls_left
        if needed > left:
            raise RuntimeError(f"{what} refused: it needs {needed:,} sub-calls (one per text not answered before) and "
                               f"this run has {left:,} left (the sub-calls per run setting). Classify fewer texts, "
                               "such as only the part of each item that decides its category (a date or an id makes "
                               "every item distinct).")

    def llm_examples(self, labels: list[str], samples: list[str]) -> list[list[str]]:
        """Example texts for each label (two), written by the writer model (the root where the run has one) in
        the form of ``samples`` (a few of the texts to classify): the examples a classify() call gets when its
        caller gave none. A text written for two labels is left out (it is wrong for one of them), and so is a
        sample written back unchanged (copied, not written for the label)."""
        labels = checked_labels(labels)
        if isinstance(samples, str) or not hasattr(samples, "__iter__"):
            raise TypeError("llm_examples expects a list of sample texts (str)")
        shown = [str(sample)[:EXAMPLE_SAMPLE_CHARS] for sample in list(samples)[:EXAMPLE_SAMPLES]]
        writer = self.writer or self.model
        kind = _CallKind(messages=example_messages, max_tokens=EXAMPLE_TOKENS * prompts.EXAMPLES_PER_LABEL,
                         via_child=False, tag="example", model=writer,
                         role="root" if self.writer is not None else "sub")
        pairs = [[text, label] for label in labels
                 for text in written_examples(self._one(example_request(labels, label, shown), kind))]
        given = Counter(_plain(text) for text, _ in pairs)
        copied = {_plain(sample) for sample in shown}
        # a text written for two labels is wrong for one; a sample copied back was not written for the label (the
        # 1.5B copied shown samples as the first label's examples, on 4 of 9 OOLONG-style seeds, always wrong)
        return [pair for pair in pairs if given[_plain(pair[0])] == 1 and _plain(pair[0]) not in copied]

    def llm_answer(self, question: str, sentences: str) -> str:
        """Answer ``question`` from ``sentences`` (one per line) with a short name, date or amount,
        or NONE; the reader is shown worked turns first."""
        if not isinstance(question, str) or not isinstance(sentences, str):
            raise TypeError("llm_answer expects a question and its sentences (str)")
        kind = _CallKind(messages=answer_messages, max_tokens=ANSWER_MAX_TOKENS, via_child=False, tag="answer")
        return self._one(answer_prompt(question, sentences), kind)

    def llm_extract(self, mode: str, question: str, passages: list[str]) -> list[str | None]:
        """The sub-model's JSON answer for each passage of an ``extract`` or ``filter`` map (None where that
        sub-call failed: the row fails, not the run), held by a grammar where the backend takes one."""
        if mode not in ("extract", "filter"):
            raise ValueError(f"llm_extract mode must be 'extract' or 'filter', not {mode!r}")
        if not isinstance(question, str) or isinstance(passages, str) or not hasattr(passages, "__iter__"):
            raise TypeError("llm_extract expects a question (str) and a list of passages (str)")
        grammar = (FILTER_GRAMMAR if mode == "filter" else EXTRACT_GRAMMAR) \
            if getattr(self.model, "supports_grammar", False) else None
        kind = _CallKind(messages=lambda prompt: operator_messages(mode, prompt), max_tokens=OPERATOR_MAX_TOKENS,
                         grammar=grammar, via_child=False, tag=f"{mode}-json")
        asked = [operator_prompt(mode, question, str(passage)) for passage in passages]
        self._check_room(asked, kind, f"{mode}()")
        return self._many(asked, kind, tolerate=True)

    def _one(self, prompt: str, kind: _CallKind) -> str:
        prompt = quoted_prompt(prompt)  # document text is material to read: passages that give orders are quoted
        with self._ids_lock:
            call_id = next(self._ids)
        self.emit(SubCallStarted(call_id=call_id, prompt_preview=prompt[:_PREVIEW],
                                 prompt_chars=len(prompt), depth=self.depth))
        started = time.monotonic()
        model = kind.model or self.model
        cached = self.cache.get(model.name, prompt, self._cache_settings(kind)) if self.cache else None
        if cached is not None:
            self.budget.count_sub_call(cached=True)
            self.emit(SubCallFinished(call_id=call_id, answer_preview=cached[:_PREVIEW], prompt_tokens=0,
                                      completion_tokens=0, seconds=time.monotonic() - started,
                                      cached=True, depth=self.depth))
            return cached
        try:
            answer, usage = self._answer(prompt, kind)
        except Exception as exc:
            self.emit(SubCallFinished(call_id=call_id, answer_preview="", prompt_tokens=0, completion_tokens=0,
                                      seconds=time.monotonic() - started, error=str(exc), depth=self.depth))
            raise
        self.emit(SubCallFinished(call_id=call_id, answer_preview=answer[:_PREVIEW],
                                  prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                  seconds=time.monotonic() - started,
                                  prompt_tokens_evaluated=usage.prompt_tokens_evaluated, depth=self.depth))
        if self.cache is not None and not self.budget.work_cancelled:
            self.cache.put(model.name, prompt, self._cache_settings(kind), answer)
        return answer

    def _admit_one(self) -> None:
        """Count one uncached sub-call against the budgets, or raise why it may not run."""
        if self.budget.work_cancelled:
            raise RuntimeError(f"llm_query refused: the run was stopped ({self.budget.tripped})")
        if not self.budget.reserve_sub_call():
            raise RuntimeError(f"llm_query refused: the run's budget of {self.budget.max_sub_calls} "
                               "sub-calls is spent")
        if self.budget.tokens_left <= 0:
            raise RuntimeError(f"llm_query refused: the run's budget of {self.budget.max_tokens} tokens is spent")
        self.budget.count_sub_call(cached=False)

    def _answer(self, prompt: str, kind: _CallKind) -> tuple[str, Usage]:
        """Run the model (or child RLM) for one uncached prompt, within the budgets."""
        self._admit_one()
        if self.child is not None and kind.via_child:
            return self.child(prompt)
        model = kind.model or self.model
        try:
            if kind.choices:
                completion = model.score_choices([with_data_note(kind.messages(prompt))], kind.choices,
                                                 cancel=self.budget.token)[0]
            else:
                completion = model.chat(with_data_note(kind.messages(prompt)), max_tokens=kind.max_tokens,
                                        temperature=0.0, cancel=self.budget.token, **kind.options)
        except (ContextOverflowError, BackendError) as exc:
            completion = exc
        return self._answer_of(completion, kind.role)

    def _answer_of(self, completion: Completion | Exception, role: str = "sub") -> tuple[str, Usage]:
        """The answer of one model call, or the error the sandbox code sees."""
        if isinstance(completion, ContextOverflowError):
            raise ValueError(f"llm_query prompt too long: {completion.prompt_tokens} tokens, the sub-model "
                             f"reads at most {completion.context_length}; use smaller chunks") from None
        if isinstance(completion, Exception):
            raise RuntimeError(f"llm_query failed: {completion}") from None
        self.budget.add_usage(role, completion.usage)
        if completion.finish_reason == "cancelled":
            raise RuntimeError("llm_query cancelled: the run was stopped")
        if completion.scores is not None:  # a scoring call: its answer is the scores (cached as such)
            return json.dumps([round(score, 4) for score in completion.scores]), completion.usage
        return completion.text.strip(), completion.usage

    def llm_query_batched(self, prompts: list[str]) -> list[str]:
        """Answer many prompts concurrently (bounded by ``parallel``), in their order."""
        if isinstance(prompts, str) or not hasattr(prompts, "__iter__"):
            raise TypeError("llm_query_batched expects a list of prompts (str)")
        return self._many([p if isinstance(p, str) else str(p) for p in prompts], self._plain)

    def _many(self, prompts: list[str], kind: _CallKind, *, tolerate: bool = False) -> list[Any]:
        """Answers in the prompts' order; with ``tolerate``, a failed call gives None instead of failing all."""
        if not prompts:
            return []
        plain_model = self.child is None or not kind.via_child
        if (plain_model and len(prompts) > 1 and isinstance(self.model, BatchingLanguageModel)
                and self.model.sequences > 1):
            return self._decode_together(prompts, kind, tolerate=tolerate)
        if tolerate:
            return [self._one_or_none(p, kind) for p in prompts]
        workers = min(self.parallel, len(prompts))
        if workers == 1:
            return [self._one(p, kind) for p in prompts]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rlm-subcall") as pool:
            futures = [pool.submit(self._one, p, kind) for p in prompts]
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

    def _one_or_none(self, prompt: str, kind: _CallKind) -> str | None:
        """One call whose failure is its own (an error event, and None), unless the run itself is stopped."""
        try:
            return self._one(prompt, kind)
        except (ValueError, RuntimeError):
            if self.budget.work_cancelled:
                raise
            return None

    def _decode_together(self, prompts: list[str], kind: _CallKind, *, tolerate: bool = False) -> list[Any]:
        """A batch on a batching model: one ``chat_batch`` for the uncached prompts, events and cache per prompt."""
        prompts = [quoted_prompt(prompt) for prompt in prompts]
        answers: list[str | None] = [None] * len(prompts)
        errors: list[Exception | None] = [None] * len(prompts)
        ids: list[int] = []
        started = time.monotonic()
        for index, prompt in enumerate(prompts):
            with self._ids_lock:
                ids.append(next(self._ids))
            self.emit(SubCallStarted(call_id=ids[index], prompt_preview=prompt[:_PREVIEW],
                                     prompt_chars=len(prompt), depth=self.depth))
            cached = self.cache.get(self.model.name, prompt, self._cache_settings(kind)) if self.cache else None
            if cached is not None:
                self.budget.count_sub_call(cached=True)
                answers[index] = cached
                self.emit(SubCallFinished(call_id=ids[index], answer_preview=cached[:_PREVIEW], prompt_tokens=0,
                                          completion_tokens=0, seconds=time.monotonic() - started, cached=True,
                                          depth=self.depth))
        todo = [i for i, answer in enumerate(answers) if answer is None]
        runnable = []
        for index in todo:
            try:
                self._admit_one()
                runnable.append(index)
            except RuntimeError as exc:
                errors[index] = exc
        conversations = [with_data_note(kind.messages(prompts[i])) for i in runnable]
        if not runnable:
            results: list[Completion | Exception] = []
        elif kind.choices:
            results = self.model.score_choices(conversations, kind.choices, cancel=self.budget.token)
        else:
            results = self.model.chat_batch(conversations, max_tokens=kind.max_tokens, temperature=0.0,
                                            cancel=self.budget.token, **kind.options)
        for index, result in zip(runnable, results):
            try:
                answer, usage = self._answer_of(result)
            except (ValueError, RuntimeError) as exc:
                errors[index] = exc
                continue
            answers[index] = answer
            self.emit(SubCallFinished(call_id=ids[index], answer_preview=answer[:_PREVIEW],
                                      prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                      seconds=usage.seconds, prompt_tokens_evaluated=usage.prompt_tokens_evaluated,
                                      depth=self.depth))
            if self.cache is not None and not self.budget.work_cancelled:
                self.cache.put(self.model.name, prompts[index], self._cache_settings(kind), answer)
        for index, error in enumerate(errors):
            if error is not None:
                self.emit(SubCallFinished(call_id=ids[index], answer_preview="", prompt_tokens=0, completion_tokens=0,
                                          seconds=time.monotonic() - started, error=str(error), depth=self.depth))
        if tolerate and not self.budget.work_cancelled:
            return [None if error is not None else answer or "" for answer, error in zip(answers, errors)]
        for index, error in enumerate(errors):
            if error is not None:
                raise type(error)(f"prompt {index + 1} of {len(prompts)}: {error}") from None
        return [answer or "" for answer in answers]


def _scores_in(answer: str, count: int) -> list[float]:
    """The label log-probabilities a scoring sub-call answered (as cached)."""
    scores = json.loads(answer)
    if not isinstance(scores, list) or len(scores) != count:
        raise RuntimeError(f"classify(): a label scoring gave {answer[:80]!r}, not {count} scores")
    return [float(score) for score in scores]


def checked_labels(labels: Any) -> list[str]:
    """The labels of a classify() call, or a ValueError saying what is wrong with them."""
    if isinstance(labels, str) or not hasattr(labels, "__iter__"):
        raise TypeError("classify(texts, labels): labels must be a list of str, e.g. ['yes', 'no']")
    names = [str(label).strip() for label in labels]
    if len(names) < 2 or len(names) > MAX_LABELS:
        raise ValueError(f"classify(texts, labels) needs 2 to {MAX_LABELS} labels, not {len(names)}")
    if any(not name or len(name) > MAX_LABEL_CHARS or "\n" in name for name in names):
        raise ValueError(f"classify labels must be non-empty single lines of at most {MAX_LABEL_CHARS} characters")
    if len({name.casefold() for name in names}) != len(names):
        raise ValueError("classify labels must differ from each other")
    return names


def checked_examples(examples: Any, labels: list[str]) -> list[tuple[str, str]]:
    """The (text, label) examples of a classify() call, each label one of ``labels``."""
    if examples is None:
        return []
    if isinstance(examples, dict):
        examples = list(examples.items())
    if isinstance(examples, str) or not hasattr(examples, "__iter__"):
        raise TypeError("classify(texts, labels, examples): examples must be a list of (text, label) pairs")
    pairs = []
    for item in examples:
        if isinstance(item, str) or not hasattr(item, "__len__") or len(item) != 2:
            raise TypeError(f"classify examples must be (text, label) pairs, not {item!r:.80}")
        text, label = str(item[0]), str(item[1]).strip()
        matched = [name for name in labels if name.casefold() == label.casefold()]
        if not matched:
            raise ValueError(f"classify example label {label!r} is not one of the labels {labels}")
        pairs.append((text, matched[0]))
    if len(pairs) > 3 * MAX_LABELS:
        raise ValueError(f"classify takes at most {3 * MAX_LABELS} examples")
    return pairs


def match_label(answer: str, labels: list[str]) -> str:
    """The label a sub-model's answer names: exact first, then the one it mentions first (longest on a tie)."""
    said = answer.strip().strip(".\"'`* ").casefold()
    for label in labels:
        if said == label.casefold():
            return label
    found = [(said.find(label.casefold()), -len(label), label) for label in labels if label.casefold() in said]
    return min(found)[2] if found else UNCLEAR_LABEL


def _plain(text: str) -> str:
    """A text as compared with another: case and spacing aside."""
    return " ".join(text.casefold().split())

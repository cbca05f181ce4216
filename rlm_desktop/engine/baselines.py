"""The paper's baselines, each returning the engine's :class:`RunResult` so they compare like for like.

- :func:`run_base`: the root model alone with the context in its prompt; a context
  longer than the window is cut in the middle (head and tail kept, as LongBench
  does) and the cut is recorded in the trajectory's ``RunStarted.settings``.
- :func:`run_rlm_nosub`: the RLM with the REPL but without ``llm_query``.
- :func:`run_summary`: an iterative summarising agent that reads the context one
  window at a time and compacts what it has read into notes.
- :func:`run_codeact_bm25`: a ReAct-style code agent with the (cut) context in its
  prompt and a BM25 ``search(query, k)`` over the whole input in its REPL.

Built from the engine's own parts (budget, protocol, grammar, events) and the sandbox.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from rlm_desktop.backends.base import CancelToken, Completion, LanguageModel, Message
from rlm_desktop.documents import Context, Document
from rlm_desktop.engine.budget import GuardHit, RunBudget
from rlm_desktop.engine.events import (CellOutput, CodeCell, ErrorEvent, Event, EventCallback, FinalAnswer,
                                       RootTurn, RunStarted)
from rlm_desktop.engine.grammar import FINAL_TURN_GRAMMAR, root_grammar
from rlm_desktop.engine.loop import RLM, RLMConfig, RunResult
from rlm_desktop.engine.protocol import parse_turn, strip_code
from rlm_desktop.errors import BackendError, ContextOverflowError, SandboxError
from rlm_desktop.sandbox import SandboxSession

_TEMPLATE_MARGIN = 64  # tokens the chat template adds around the messages
_MAX_CHARS_PER_TOKEN = 8  # no tokenizer packs more: a safe pre-cut before counting tokens

BASE_SYSTEM = "You answer questions about the documents the user gives you. Answer concisely."

SUMMARY_SYSTEM = ("You read long documents one part at a time and keep short notes of every fact that could "
                  "help answer a question: names, numbers, dates, exact phrases.")

CODEACT_SYSTEM = """You answer a question about documents. The documents are shown below (cut in the middle when
they are too long) and you can also search all of them with Python code. Each reply: a line of reasoning,
then ONE code block:

```repl
hits = search("purchase price", k=5)
for h in hits:
    print(h)
```

In the REPL, `search(query, k=10)` ranks passages of the full documents by BM25 and returns hits with
`.document`, `.page` and `.snippet`; `grep(pattern)` finds a regex. I run the block and show you what it
printed. When you know the answer, reply with FINAL(answer)."""

NOSUB_SYSTEM_NOTE = """You answer a question about documents that are far too long to read at once. They are
loaded in a Python REPL as the variable `context` (a str, or a list of documents that are str with `.name`).
You cannot see them; explore them with code. Each reply: a few lines of reasoning, then ONE code block:

```repl
print(len(context))
print(context[:500])
```

I run the block and show you what it printed (long output is cut). Variables persist between blocks. The
REPL offers `grep(pattern, context_chars=80, max_hits=200)`, `search(query, k=10)` (BM25 passages),
`chunk(text, size)` and `print`; there is no helper language model. Useful steps: look at sizes and a
sample, search for keywords the question names, count and aggregate with code, check a candidate answer
against the text. When you are sure, reply FINAL(answer), or FINAL_VAR(name) to answer with a variable."""


# --- shared pieces -------------------------------------------------------------------
def render_context(context: Context) -> str:
    """The context as one prompt text: documents under ``### name`` headings."""
    if isinstance(context, str):
        return context
    parts = []
    for i, item in enumerate(context):
        if isinstance(item, Document):
            parts.append(f"### {item.name}\n{item.text}")
        else:
            parts.append(f"### Document {i + 1}\n{item}")
    return "\n\n".join(parts)


def cut_middle(text: str, keep_chars: int) -> str:
    """``text`` with its middle replaced by a marker so that about ``keep_chars`` remain."""
    if len(text) <= keep_chars:
        return text
    marker = f"\n[... {len(text) - keep_chars:,} characters cut to fit the model's window ...]\n"
    keep = max(0, keep_chars - len(marker))
    head = keep // 2
    return text[:head] + marker + text[len(text) - (keep - head):]


def fit_to_tokens(model: LanguageModel, text: str, budget_tokens: int) -> tuple[str, bool]:
    """(``text`` cut in the middle to at most ``budget_tokens`` of ``model``'s tokens, whether it was cut)."""
    if budget_tokens <= 0:
        return "", bool(text)
    cut = False
    if len(text) > budget_tokens * _MAX_CHARS_PER_TOKEN:
        text, cut = cut_middle(text, budget_tokens * _MAX_CHARS_PER_TOKEN), True
    for _ in range(8):
        tokens = model.count_tokens(text)
        if tokens <= budget_tokens:
            return text, cut
        text, cut = cut_middle(text, int(len(text) * budget_tokens / tokens * 0.97)), True
    return cut_middle(text, budget_tokens), True  # one char per token always fits


class _Recorder:
    """Trajectory, listener and budget of one baseline run."""

    def __init__(self, config: RLMConfig, on_event: EventCallback | None, cancel: CancelToken | None) -> None:
        self.started = time.monotonic()
        self.trajectory: list[Event] = []
        self.on_event = on_event
        self.budget = RunBudget(max_sub_calls=config.max_sub_calls, max_tokens=config.max_tokens,
                                max_seconds=config.max_seconds, user_cancel=cancel)
        self.iterations = 0
        self.partial = ""  # the best answer so far, returned when a guard ends the run

    def emit(self, event: Event) -> None:
        self.trajectory.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def chat(self, model: LanguageModel, messages: list[Message], *, max_tokens: int,
             grammar: str | None = None) -> Completion:
        """One root call, counted against the budget and recorded as a root turn."""
        self.budget.check()
        completion = model.chat(messages, max_tokens=max_tokens, temperature=0.0, grammar=grammar,
                                cancel=self.budget.token)
        self.budget.add_usage("root", completion.usage)
        self.iterations += 1
        usage = completion.usage
        self.emit(RootTurn(iteration=self.iterations, text=completion.text, prompt_tokens=usage.prompt_tokens,
                           completion_tokens=usage.completion_tokens,
                           prompt_tokens_evaluated=usage.prompt_tokens if usage.prompt_tokens_evaluated is None
                           else usage.prompt_tokens_evaluated, seconds=usage.seconds))
        if completion.finish_reason == "cancelled":
            self.budget.check()
        return completion

    def result(self, answer: str, stopped_by: str | None) -> RunResult:
        self.emit(FinalAnswer(answer=answer, stopped_by=stopped_by))
        return RunResult(answer=answer, stopped_by=stopped_by, trajectory=self.trajectory, usage=self.budget.usage,
                         iterations=self.iterations, sub_calls=0, cache_hits=0,
                         seconds=time.monotonic() - self.started, citations=[])


def _prompt_room(model: LanguageModel, config: RLMConfig, *fixed: str) -> int:
    """Tokens left for context once the fixed texts and the answer are counted."""
    used = sum(model.count_tokens(text) for text in fixed)
    return model.context_length - config.root_max_tokens - used - _TEMPLATE_MARGIN


def _guarded(recorder: _Recorder, body: Callable[[], str]) -> RunResult:
    """Run ``body`` inside the budget; guards and model errors end the run with what is known."""
    with recorder.budget:
        try:
            return recorder.result(body(), None)
        except GuardHit as hit:
            return recorder.result(recorder.partial, hit.guard)
        except (BackendError, SandboxError) as exc:
            guard = recorder.budget.tripped
            if guard in ("cancelled", "max_seconds"):
                return recorder.result(recorder.partial, guard)
            recorder.emit(ErrorEvent(message=str(exc)))
            return recorder.result(recorder.partial, "error")


def _started(recorder: _Recorder, method: str, question: str, context: Context, model: LanguageModel,
             **settings: object) -> None:
    total = len(render_context(context)) if not isinstance(context, str) else len(context)
    recorder.emit(RunStarted(question=question, context_summary=f"{total:,} characters",
                             settings={"method": method, "root_model": model.name, "context_chars": total,
                                       **settings}))


# --- base -----------------------------------------------------------------------------
def run_base(root: LanguageModel, question: str, context: Context, config: RLMConfig | None = None, *,
             on_event: EventCallback | None = None, cancel: CancelToken | None = None) -> RunResult:
    """The root model alone, the context in its prompt (cut in the middle to fit the window)."""
    config = config or RLMConfig()
    recorder = _Recorder(config, on_event, cancel)
    shell = f"Documents:\n\n\n\nQuestion: {question}\nAnswer:"
    text, cut = fit_to_tokens(root, render_context(context), _prompt_room(root, config, BASE_SYSTEM, shell))
    _started(recorder, "base", question, context, root, context_cut=cut, context_chars_kept=len(text))

    def body() -> str:
        messages = [{"role": "system", "content": BASE_SYSTEM},
                    {"role": "user", "content": f"Documents:\n{text}\n\nQuestion: {question}\nAnswer:"}]
        return recorder.chat(root, messages, max_tokens=config.root_max_tokens).text.strip()

    return _guarded(recorder, body)


# --- RLM without sub-calls ----------------------------------------------------------------
class ReplOnlyRLM(RLM):
    """The RLM with the REPL only: a prompt without ``llm_query`` and a sub-call budget of zero.

    A model that calls ``llm_query`` anyway is refused, which ends the run by the
    ``max_sub_calls`` guard (recorded in ``stopped_by``).
    """

    def __init__(self, root: LanguageModel, config: RLMConfig | None = None) -> None:
        super().__init__(root, root, dataclasses.replace(config or RLMConfig(), max_sub_calls=0),
                         system_prompt=NOSUB_SYSTEM_NOTE)


def run_rlm_nosub(root: LanguageModel, question: str, context: Context, config: RLMConfig | None = None, *,
                  on_event: EventCallback | None = None, cancel: CancelToken | None = None) -> RunResult:
    """The RLM ablation without sub-calls (the paper's "RLM (no sub-calls)")."""
    return ReplOnlyRLM(root, config).run(question, context, on_event=on_event, cancel=cancel)


# --- iterative summary agent -----------------------------------------------------------------
def _summary_prompt(question: str, notes: str, part: str, index: int, count: int) -> str:
    return (f"Question: {question}\n\nNotes so far:\n{notes or '(none yet)'}\n\n"
            f"Part {index} of {count} of the documents:\n{part}\n\n"
            "Rewrite the notes: keep every fact from the notes and from this part that could help answer the "
            "question, with exact names and numbers. Be brief. Do not answer yet.")


def run_summary(root: LanguageModel, question: str, context: Context, config: RLMConfig | None = None, *,
                on_event: EventCallback | None = None, cancel: CancelToken | None = None) -> RunResult:
    """Read the context a window at a time, compacting it into notes; answer from the notes.

    Reads the whole input (``max_iterations`` does not apply); ``max_seconds`` and
    ``max_tokens`` end it early with an answer from the notes so far.
    """
    config = config or RLMConfig()
    recorder = _Recorder(config, on_event, cancel)
    text = render_context(context)
    shell = _summary_prompt(question, "", "", 0, 0)
    room = _prompt_room(root, config, SUMMARY_SYSTEM, shell) - config.root_max_tokens  # notes come back in
    sample = text[:20_000]
    chars_per_token = len(sample) / max(1, root.count_tokens(sample)) if sample else 4.0
    part_chars = max(200, int(room * chars_per_token * 0.9))
    parts = [text[i:i + part_chars] for i in range(0, len(text), part_chars)] or [""]
    _started(recorder, "summary", question, context, root, parts=len(parts), context_cut=False)

    def body() -> str:
        notes = ""
        if len(parts) > 1:
            for index, part in enumerate(parts, start=1):
                part, _ = fit_to_tokens(root, part, room)
                prompt = _summary_prompt(question, notes, part, index, len(parts))
                messages = [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": prompt}]
                notes = recorder.chat(root, messages, max_tokens=config.root_max_tokens).text.strip()
                recorder.partial = notes
            source = f"Notes taken while reading the documents:\n{notes}"
        else:
            source = f"Documents:\n{parts[0]}"
        messages = [{"role": "system", "content": BASE_SYSTEM},
                    {"role": "user", "content": f"{source}\n\nQuestion: {question}\nAnswer:"}]
        return recorder.chat(root, messages, max_tokens=config.root_max_tokens).text.strip()

    return _guarded(recorder, body)


# --- CodeAct with BM25 -------------------------------------------------------------------------
def run_codeact_bm25(root: LanguageModel, question: str, context: Context, config: RLMConfig | None = None, *,
                     on_event: EventCallback | None = None, cancel: CancelToken | None = None) -> RunResult:
    """A ReAct code agent: context (cut to half the window) in its prompt, BM25 ``search`` in its REPL."""
    config = config or RLMConfig()
    recorder = _Recorder(config, on_event, cancel)
    shell = f"Documents:\n\n\nQuestion: {question}"
    half = _prompt_room(root, config, CODEACT_SYSTEM, shell) // 2  # the other half holds the turns
    text, cut = fit_to_tokens(root, render_context(context), half)
    _started(recorder, "codeact-bm25", question, context, root, context_cut=cut, context_chars_kept=len(text))
    grammar = root_grammar(config.grammar, root.supports_grammar)

    def body() -> str:
        messages: list[Message] = [{"role": "system", "content": CODEACT_SYSTEM},
                                   {"role": "user", "content": f"Documents:\n{text}\n\nQuestion: {question}"}]
        with SandboxSession(context, limits=config.sandbox, cancel=recorder.budget.token) as sandbox:
            for _ in range(config.max_iterations):
                turn = parse_turn(_chat_compacting(recorder, root, messages, config, grammar).text)
                messages.append({"role": "assistant", "content": turn.text})
                feedback = []
                for index, code in enumerate(turn.code_blocks):
                    recorder.emit(CodeCell(iteration=recorder.iterations, index=index, code=code))
                    cell = sandbox.run(code)
                    shown = cell.output[:config.output_chars]
                    recorder.emit(CellOutput(iteration=recorder.iterations, index=index, output=shown,
                                             error=cell.error, truncated=len(cell.output) > len(shown) or cell.truncated,
                                             seconds=cell.seconds, restarted=cell.restarted))
                    if cell.final is not None:
                        return cell.final
                    if cell.output.strip():
                        recorder.partial = cell.output.strip()[-2000:]
                    feedback.append(f"Output:\n{shown or '(nothing printed)'}" + (f"\nError: {cell.error}"
                                                                                   if cell.error else ""))
                if turn.final is not None:
                    if not turn.final.is_variable:
                        return turn.final.value
                    try:
                        return sandbox.get_variable(turn.final.value)
                    except SandboxError as exc:
                        feedback.append(str(exc))
                messages.append({"role": "user", "content": "\n\n".join(feedback) or
                                 "Reply with one ```repl block, or FINAL(answer)."})
            messages[-1] = {"role": "user", "content": messages[-1]["content"] + "\n\nNo more code will run. "
                            "Give your answer now as FINAL(answer)."}
            closing = _chat_compacting(recorder, root, messages, config,
                                       FINAL_TURN_GRAMMAR if grammar else None).text
            final = parse_turn(closing).final
            return final.value if final is not None and not final.is_variable else strip_code(closing)

    return _guarded(recorder, body)


def _chat_compacting(recorder: _Recorder, root: LanguageModel, messages: list[Message], config: RLMConfig,
                     grammar: str | None) -> Completion:
    """A root turn; when the window is full, drop the oldest exchanges (keeping the documents) and retry."""
    while True:
        try:
            return recorder.chat(root, messages, max_tokens=config.root_max_tokens, grammar=grammar)
        except ContextOverflowError:
            if len(messages) <= 3:
                raise
            del messages[2:4]

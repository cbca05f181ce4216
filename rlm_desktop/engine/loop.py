"""The RLM loop: root turns -> code cells in the sandbox -> FINAL.

The spine is :meth:`RLM._loop`, in the shape of rlm-minimal: build the messages, call
the root, extract the code blocks, run them, append their (truncated) output, check
for FINAL. Guards, events, cancel and sub-call serving sit around it: the budget
raises :class:`GuardHit` at the checks, the sandbox and models watch the budget's
cancel token, and :mod:`rlm_desktop.engine.subcalls` serves llm_query.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rlm_desktop.backends.base import CancelToken, Completion, LanguageModel, Message, Usage
from rlm_desktop.documents import Citation, Context, Document, context_texts
from rlm_desktop.engine import prompts
from rlm_desktop.engine.answer_checks import (UNCONFIRMED_SENTENCE, Objection, Seen, contradiction, objection,
                                             unchecked_details)
from rlm_desktop.engine.answer_text import app_notes, without_copied_notes
from rlm_desktop.engine.budget import GuardHit, RunBudget
from rlm_desktop.engine.citations import choose_citations
from rlm_desktop.engine.document_text import quoted_names, quoted_output
from rlm_desktop.engine.events import (CellOutput, CodeCell, ErrorEvent, Event, EventCallback, FinalAnswer,
                                       RootMessages, RootTurn, RunStarted, TurnTakenBack)
from rlm_desktop.engine.grammar import FINAL_TURN_GRAMMAR, PLAN_TURN_GRAMMAR, root_grammar
from rlm_desktop.engine.page_citations import correct_page_citations
from rlm_desktop.engine.profiles import get_profile
from rlm_desktop.engine.protocol import (FinalDirective, ParsedTurn, calls_in_answer, literal_assignments, parse_turn,
                                         strip_code)
from rlm_desktop.engine.resume import ResumeState, resume_note, resumed_event
from rlm_desktop.engine.steered_answers import SteeringCheck
from rlm_desktop.engine.subcalls import SubCallCache, SubCallServer
from rlm_desktop.engine.turn_guard import TurnGuard
from rlm_desktop.errors import BackendError, ContextOverflowError, EngineError, SandboxError
from rlm_desktop.sandbox import HELPER_NAMES, CellResult, SandboxLimits, SandboxSession

_SHARED_GUARDS = ("max_sub_calls", "max_tokens", "max_seconds", "cancelled")
_ANSWER_VARIABLES = ("answer", "final_answer", "result", "final")
REPEAT_TEMPERATURE = 0.7  # a root turn after greedy decoding repeated itself (a failed block, a refused FINAL)
VERIFIED_SAMPLES = 3  # sampled answers tried, after a refused FINAL was written again, for one the checks accept
_FALLBACK_CHARS = 2000
_SEARCH_CALL = re.compile(r"(?<![\w.])(grep|search)\s*\(")  # not re.search(: a regex, not a search of the documents
_MAX_REFUSED_FINALS = 2  # then a written FINAL is taken as it is: the model may know better than the check


@dataclass
class RLMConfig:
    """Budgets and knobs of a run (the user's settings map onto these)."""

    max_iterations: int = 12
    max_sub_calls: int = 1000
    max_tokens: int = 2_000_000
    max_seconds: float = 1800.0
    depth: int = 1                  # 1: llm_query is a plain sub-model call; 2: a full child RLM
    parallel_sub_calls: int = 4     # bound for llm_query_batched
    output_chars: int = 4000        # cell output shown to the root per cell (says so when cut)
    grammar: bool = True            # GBNF-constrained root turns where the backend supports it
    prompt_profile: str = "default"  # how the root is addressed (engine/profiles.py), from the model's catalog entry
    root_max_tokens: int = 640       # a code turn fits; a degenerate one is stopped earlier by TurnGuard
    sampling_seed: int | None = 0    # sampled root turns use seeds 0, 1, 2, ... in a run (reproducible); None: random
    sub_max_tokens: int = 512
    plan: bool = False               # the first turn begins with a plan line: the question's shape and slots
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)


@dataclass
class RunResult:
    """The answer, why the run ended (None = the model gave FINAL), and how it got there."""

    answer: str
    stopped_by: str | None  # "max_iterations"|"max_sub_calls"|"max_tokens"|"max_seconds"|"cancelled"|"error"
    trajectory: list[Event]
    usage: dict[str, Usage]
    iterations: int
    sub_calls: int
    cache_hits: int
    seconds: float
    citations: list[Citation]
    warnings: list[str] = field(default_factory=list)  # for the user: the answer was steered by a document

    def summary(self) -> dict[str, Any]:
        """What the run log stores about the outcome (the faces and resume all store this)."""
        return {
            "answer": self.answer, "stopped_by": self.stopped_by, "iterations": self.iterations,
            "sub_calls": self.sub_calls, "cache_hits": self.cache_hits, "seconds": self.seconds,
            "usage": {role: dataclasses.asdict(usage) for role, usage in self.usage.items()},
            "citations": [dataclasses.asdict(c) for c in self.citations], "warnings": list(self.warnings),
        }


@dataclass
class _Run:
    """State of one (possibly child) run: its budget, listener, messages and what it has seen."""

    budget: RunBudget
    emit: Callable[[Event], None]
    depth: int = 0
    role: str = "root"  # whose usage the root turns count as ("sub" inside a depth-2 child)
    messages: list[Message] = field(default_factory=list)
    iterations: int = 0
    hits: list[dict] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    refused_finals: int = 0  # written FINALs refused as ungrounded (engine/grounding.py)
    texts: list[str] = field(default_factory=list)  # the context's texts (one per document)
    searched_empty: bool = False  # the last cell called grep/search and found nothing
    last_cell: tuple[str, str] | None = None  # (code, error or output) of the last cell run
    repeated_output: bool = False  # the last cell was the one before it again, with the same output
    repeated_error: bool = False  # the last cell was one that failed before, unchanged, failing the same way
    failed: set[tuple[str, str]] = field(default_factory=set)  # (code, last line of its error) of cells that failed
    repeats: int = 0  # turns in a row taken back for repeating a failed block
    last_turn: str = ""  # the text of the last root turn
    sample_next: bool = False  # the next root turn is sampled (REPEAT_TEMPERATURE), not greedy: greedy repeated itself
    refused_answers: set[str] = field(default_factory=set)  # written FINALs refused so far
    context: Context | None = None  # the documents asked about (the REPL's `context`)
    unconfirmed: list[str] = field(default_factory=list)  # what the checks could not confirm in the answer taken
    resampled: bool = False  # a FINAL identical to a refused one was taken back once already
    refused_past_cap: bool = False  # an answer at odds with itself was refused after the cap already
    verify_next: bool = False  # the next (sampled) turn is drawn up to VERIFIED_SAMPLES times, for a checked answer
    samples: int = 0  # root turns sampled so far (each draws the next sampling seed); a resumed run goes on from it
    last_sampled: bool = False  # the last root completion was sampled
    cells: list[tuple[str, str]] = field(default_factory=list)  # (code, output) of every cell run
    recorded: int = 0                 # messages already stored in RootMessages events
    pending_turn: str | None = None   # a resumed run's stored turn whose cells run again
    judged: dict[tuple, Objection | None] = field(default_factory=dict)  # the checks' verdicts, by answer and state
    callables: frozenset[str] = frozenset(HELPER_NAMES)  # the REPL's functions, host functions included
    steering: SteeringCheck = field(default_factory=SteeringCheck)  # answers done as a document demands


@dataclass
class _Outcome:
    answer: str
    stopped_by: str | None
    run: _Run


class RLM:
    """A Recursive Language Model: a root model that explores ``context`` with code."""

    def __init__(self, root: LanguageModel, sub: LanguageModel | None = None,
                 config: RLMConfig | None = None, sub_call_cache: SubCallCache | None = None,
                 system_prompt: str | None = None) -> None:
        """``system_prompt`` replaces the default root prompt (baselines use it)."""
        self.root = root
        self.sub = sub or root
        self.config = config or RLMConfig()
        self.cache = sub_call_cache
        self._profile = get_profile(self.config.prompt_profile)
        self._system = system_prompt or self._profile.system(self.sub.context_length, self.config.sub_max_tokens)
        # A model tuned on the paper's scaffold keys on its protocol: the plan line is ours.
        self._plans = self.config.plan and self._profile.name == "default"

    # --- public ---------------------------------------------------------------------
    def run(self, question: str, context: Context, *, on_event: EventCallback | None = None,
            cancel: CancelToken | None = None, tools: dict[str, Callable[..., Any]] | None = None,
            resume: ResumeState | None = None) -> RunResult:
        """Answer ``question`` over ``context``; never raises for guards, cancel or model errors.

        ``resume`` continues a stored run (see engine/resume.py): its REPL is rebuilt by replay,
        its conversation from the record, and its usage counts on from what it had spent.
        """
        started = time.monotonic()
        trajectory: list[Event] = []
        lock = threading.Lock()

        def emit(event: Event) -> None:
            with lock:
                trajectory.append(event)
                if on_event is not None:
                    on_event(event)

        cfg = self.config
        with RunBudget(max_sub_calls=cfg.max_sub_calls, max_tokens=cfg.max_tokens, max_seconds=cfg.max_seconds,
                       user_cancel=cancel) as budget:
            if resume is not None:
                budget.carry_over(resume.usage, resume.sub_calls, resume.cache_hits)
                started -= resume.seconds
            outcome = self._execute(question, context, _Run(budget=budget, emit=emit), tools or {}, resume)
            return RunResult(
                answer=outcome.answer, stopped_by=outcome.stopped_by, trajectory=trajectory, usage=budget.usage,
                iterations=outcome.run.iterations, sub_calls=budget.sub_calls, cache_hits=budget.cache_hits,
                seconds=time.monotonic() - started, citations=choose_citations(outcome.run.hits, outcome.answer),
                warnings=list(outcome.run.steering.warnings_given),
            )

    # --- one run, with its sandbox, guards and events ---------------------------------
    def _execute(self, question: str, context: Context, run: _Run, tools: dict[str, Callable[..., Any]],
                 resume: ResumeState | None = None) -> _Outcome:
        run.texts = context_texts(context)
        run.context = context
        run.steering = SteeringCheck(context)
        if resume is None:
            run.emit(RunStarted(question=question, context_summary=prompts.describe_context(context),
                                settings=_settings(self.config, self.root, self.sub), depth=run.depth))
        subcalls = SubCallServer(self.sub, budget=run.budget, emit=run.emit, max_tokens=self.config.sub_max_tokens,
                                 parallel=self.config.parallel_sub_calls, cache=self.cache,
                                 child=self._child_runner(run) if self.config.depth >= 2 else None, depth=run.depth,
                                 writer=self.root)
        host = {**tools, **subcalls.host_functions()}
        run.callables = frozenset(HELPER_NAMES) | frozenset(host)
        sandbox: SandboxSession | None = None
        try:
            with SandboxSession(context, limits=self.config.sandbox, host_functions=host,
                                cancel=run.budget.token, focus=question) as sandbox:
                try:
                    if resume is not None:
                        self._resume_into(run, sandbox, resume)
                    answer, stopped_by = self._loop(question, context, sandbox, run), None
                except GuardHit as hit:
                    stopped_by = hit.guard
                    answer = self._best_answer(hit.guard, sandbox, run)
        except (SandboxError, BackendError, EngineError) as exc:
            guard = run.budget.tripped
            stopped_by = guard if guard in ("cancelled", "max_seconds") else "error"
            if stopped_by == "error":
                run.emit(ErrorEvent(message=str(exc), depth=run.depth))
            answer = self._answer_from_state(None, run)
        answer = without_copied_notes(answer, app_notes(run.messages), run.outputs)
        answer = correct_page_citations(answer, context, run.hits)
        answer = run.steering.answer_given(answer, run.outputs, run.hits)
        run.emit(FinalAnswer(answer=answer, stopped_by=stopped_by, unconfirmed=list(run.unconfirmed),
                             warnings=list(run.steering.warnings_given), depth=run.depth))
        return _Outcome(answer, stopped_by, run)

    # --- the spine ------------------------------------------------------------------
    def _loop(self, question: str, context: Context, sandbox: SandboxSession, run: _Run) -> str:
        """Root turn -> run its code blocks -> feed back output; return the FINAL answer."""
        if not run.messages:  # a resumed run comes with its conversation
            run.messages = quoted_names(self._profile.first_messages(question, context, self._system),
                                        _names(context))
            if self._plans:
                run.messages[-1] = {**run.messages[-1],
                                    "content": f"{run.messages[-1]['content']}\n\n{prompts.plan_request()}"}
        code_only = False  # after a FINAL refused as ungrounded, the next turn must be code
        stuck = False  # after a block that repeated the last one and its output, the next turn must answer
        for iteration in range(run.iterations + 1, self.config.max_iterations + 1):
            run.budget.check()
            run.iterations = iteration
            turn, stopped_because = self._root_turn(run, iteration, question, code_only=code_only, final_only=stuck)
            if not turn.runnable and turn.text == run.last_turn and self.config.max_iterations - iteration > 1:
                run.sample_next = True  # the same reply that ran nothing, again: greedy decoding is stuck; not kept
                run.emit(TurnTakenBack(iteration=iteration, reason="same_reply", next_sampled=True, depth=run.depth))
                continue
            run.last_turn = turn.text
            code_only = stuck = False
            run.messages.append({"role": "assistant", "content": turn.text})
            feedback = []
            for index, code in enumerate(turn.code_blocks):
                cell = self._run_cell(sandbox, code, iteration, index, run)
                steered = run.steering.refusal(cell.final, run.outputs, run.hits) if cell.final is not None else None
                if cell.final is not None and steered is None:
                    return cell.final
                feedback.append(self._feedback(index, cell, run, len(turn.code_blocks), code))
                feedback += [steered] if steered else []
                stuck = run.repeated_output and self.config.max_iterations - iteration > 1
                if run.budget.tripped:
                    break  # the check at the top of the loop ends the run, after the feedback is recorded
            if len(turn.code_blocks) == 1 and turn.final is None and run.repeated_error and not run.budget.tripped:
                self._take_back_repeat(run, iteration)  # the same failing block again: not kept where it is copied
                continue
            run.repeats = 0
            if turn.final is not None and turn.code_blocks and not _names_a_variable(turn.final, run):
                feedback.append(prompts.early_final_note())  # written before the code's output was seen
            elif turn.final is not None and not run.budget.tripped and (calls := self._calls_in_final(turn.final, run)):
                feedback.extend(self._run_calls_in_final(calls, sandbox, iteration, run))
            elif turn.final is not None and not run.budget.tripped and self._refused_before(turn.final, run, iteration, question):
                run.messages.pop()  # the same answer again, as if unread: taken back, and the next turn sampled
                run.sample_next = run.verify_next = True
                run.emit(TurnTakenBack(iteration=iteration, reason="refused_again", next_sampled=True,
                                       depth=run.depth))
                continue
            elif turn.final is not None and not run.budget.tripped:
                answer, problem = self._resolve_final(turn.final, sandbox, run)
                next_turn, read = "any", ""
                if answer is not None and not _names_a_variable(turn.final, run):
                    problem, next_turn, read = self._check_grounded(answer, question, run)
                    if problem:
                        run.refused_answers.add(turn.final.value)
                    answer = None if problem else answer + self._unchecked(answer, question, run)
                    code_only = next_turn == "code" and self.config.max_iterations - iteration > 1
                if answer is not None:
                    return answer
                if next_turn == "read":  # the engine prints what the root is to read, then it answers again
                    problem = "\n\n".join([problem, self._engine_cell(read, sandbox, iteration, run)])
                if next_turn in ("again", "read") and not turn.code_blocks and not stopped_because:
                    _take_back(run, problem)
                    run.emit(TurnTakenBack(iteration=iteration, reason="answer_again", note=problem, depth=run.depth))
                    continue
                feedback.append(problem)
            if stopped_because:
                feedback.append(prompts.degenerate_turn_note(stopped_because))
            left = self.config.max_iterations - iteration
            run.messages.append({"role": "user", "content": self._profile.next_message(question, feedback, left)})
            self._record_messages(run, iteration)
        run.budget.check()
        raise GuardHit("max_iterations")

    # --- steps ----------------------------------------------------------------------
    def _root_turn(self, run: _Run, iteration: int, question: str, *, code_only: bool = False,
                   final_only: bool = False) -> tuple[ParsedTurn, str | None]:
        """One root turn, stopped early if it degenerates; (the turn, why it was stopped or None)."""
        if run.pending_turn is not None:  # resumed mid-turn: the root already wrote it, run its code again
            text, run.pending_turn = run.pending_turn, None
            return parse_turn(text), None
        self._record_messages(run, iteration)
        grammar = root_grammar(self.config.grammar, self.root.supports_grammar, code_only=code_only)
        if final_only and grammar is not None:
            grammar = FINAL_TURN_GRAMMAR
        elif grammar is not None and self._plans and not code_only and prompts.turns_since_question(run.messages) == 0:
            grammar = PLAN_TURN_GRAMMAR
        tries, run.verify_next = (VERIFIED_SAMPLES if run.verify_next and run.sample_next else 1), False
        for attempt in range(1, tries + 1):
            run.sample_next = run.sample_next or attempt > 1
            guard = TurnGuard(run.budget.token)
            completion = self._call_root(run, grammar, guard=guard)
            text = guard.turn_text(completion.text)
            turn = parse_turn(text)
            if attempt == tries or completion.finish_reason == "cancelled" or self._answer_holds(turn, question, run):
                break
            run.emit(TurnTakenBack(iteration=iteration, reason="sample_failed_checks", next_sampled=True, note=text,
                                   sampled=run.last_sampled, depth=run.depth, **_turn_usage(completion.usage)))
        run.emit(RootTurn(iteration=iteration, text=text, repaired=turn.repaired or guard.stopped,
                          runnable=turn.runnable, depth=run.depth, stopped_early=guard.reason,
                          prompt_tokens_restored=completion.usage.prompt_tokens_restored,
                          sampled=run.last_sampled, **_turn_usage(completion.usage)))
        if completion.finish_reason == "cancelled":
            run.budget.check()
        return turn, guard.reason

    def _call_root(self, run: _Run, grammar: str | None, messages: list[Message] | None = None,
                   guard: TurnGuard | None = None) -> Completion:
        """One root completion; on a full window, drop the oldest exchanges once and retry."""
        messages = messages if messages is not None else run.messages
        temperature, seed = 0.0, None
        if run.sample_next:
            temperature, seed = REPEAT_TEMPERATURE, _sampling_seed(self.config, run.samples)
            run.samples += 1
        run.last_sampled, run.sample_next = run.sample_next, False
        options = dict(max_tokens=self.config.root_max_tokens, temperature=temperature, grammar=grammar,
                       cancel=guard.cancel if guard else run.budget.token,
                       on_token=guard.on_token if guard else None, seed=seed)
        try:
            completion = self.root.chat(messages, **options)
        except ContextOverflowError:
            compacted = _compact(messages)
            if compacted is None:
                raise
            messages[:] = compacted
            completion = self.root.chat(messages, **options)
        run.budget.add_usage(run.role, completion.usage)
        run.usage = run.usage + completion.usage
        return completion

    def _run_cell(self, sandbox: SandboxSession, code: str, iteration: int, index: int, run: _Run) -> CellResult:
        run.emit(CodeCell(iteration=iteration, index=index, code=code, depth=run.depth))
        cell = sandbox.run(code, label=f"turn {iteration}, block {index + 1}")
        run.hits.extend(cell.hits)
        run.variables = list(cell.variables)
        shown, cut_from = _truncate(cell.output, self.config.output_chars)
        run.emit(CellOutput(iteration=iteration, index=index, output=shown, error=cell.error,
                            truncated=cut_from is not None or cell.truncated, seconds=cell.seconds,
                            restarted=cell.restarted, host_calls=cell.host_calls,
                            host_seconds=cell.host_seconds, depth=run.depth))
        if cell.output.strip():
            run.outputs.append(cell.output)
        run.cells.append((code, cell.output))
        return cell

    def _feedback(self, index: int, cell: CellResult, run: _Run, blocks: int = 1, code: str = "") -> str:
        shown, cut_from = _truncate(cell.output, self.config.output_chars)
        shown = quoted_output(shown)  # documents are evidence: a passage that speaks to the model is quoted
        searched = _SEARCH_CALL.search(code) is not None and not cell.error
        found = any(hit.get("source") in ("grep", "search") for hit in cell.hits)
        run.searched_empty = searched and not found
        result = (code.strip(), _last_line(cell.error) if cell.error else cell.output)
        repeated = result == run.last_cell
        run.last_cell = result
        run.repeated_output = repeated and not cell.error
        run.repeated_error = bool(cell.error) and result in run.failed
        if cell.error:
            run.failed.add(result)
        return prompts.cell_feedback(index, shown, cell.error, cut_from=cut_from, worker_truncated=cell.truncated,
                                     restarted_after=cell.limit if cell.restarted else None, blocks=blocks,
                                     restored=cell.restore is not None, found_nothing=searched and not found,
                                     repeated=repeated, assigned=literal_assignments(code) if code else ())

    def _take_back_repeat(self, run: _Run, iteration: int) -> None:
        """Take back a turn that ran a block that failed before, unchanged, with the same error.

        Left in view, the repeat is copied again turn after turn (the 1.5B wrote one failing block ten times,
        each time shown the error and told to change it). The first repeat is taken back and the note added
        to the error it answered; after that the next turn is sampled, not greedy, so it can differ.
        """
        run.repeats += 1
        if run.repeats == 1:
            _take_back(run, prompts.repeated_failure_note())
        else:
            run.messages.pop()
            run.sample_next = True
        run.emit(TurnTakenBack(iteration=iteration, reason="repeated_failure", next_sampled=run.sample_next,
                               note=prompts.repeated_failure_note() if run.repeats == 1 else "", depth=run.depth))

    def _answer_holds(self, turn: ParsedTurn, question: str, run: _Run) -> bool:
        """Whether a sampled turn is a written answer, not refused before, that the checks accept (whatever
        refusals the run has spent): the checks pick among sampled answers, as a verifier would."""
        final = turn.final
        if final is None or turn.code_blocks or _names_a_variable(final, run) or final.value in run.refused_answers:
            return False
        if final.value in _ANSWER_VARIABLES or calls_in_answer(final.value, run.callables):
            return False
        return _objection(final.value, question, run) is None

    def _refused_before(self, final: FinalDirective, run: _Run, iteration: int, question: str) -> bool:
        """A written FINAL identical to one refused before, that the checks still refuse: once a run, it is not
        taken (nor counted as refused). One the checks now accept (a "not stated" refused before any search
        returned passages, written again after one did) is judged as any other answer."""
        if _names_a_variable(final, run) or final.value not in run.refused_answers or run.resampled:
            return False
        if self.config.max_iterations - iteration < 1:
            return False
        if run.refused_finals < _MAX_REFUSED_FINALS and _objection(final.value, question, run) is None:
            return False
        run.resampled = True
        return True

    def _check_grounded(self, answer: str, question: str, run: _Run) -> tuple[str, str, str]:
        """("", "any", "") if a written FINAL passes the checks (or was refused enough already), else (why it is
        refused, what the next turn is, the code to run first for "read"): "code" = code only, "again" = any,
        with the refused FINAL taken back; "read" = as "again", after the engine ran that code."""
        if run.refused_finals >= _MAX_REFUSED_FINALS:
            found = None if run.refused_past_cap else contradiction(answer, question)
            if found is None:
                return "", "any", ""
            run.refused_past_cap = True  # an answer at odds with itself: refused once more, not more
            return found.note, found.next_turn, found.code
        found = _objection(answer, question, run)
        if found is None:
            return "", "any", ""
        run.refused_finals += 1
        return found.note, found.next_turn, found.code

    def _engine_cell(self, code: str, sandbox: SandboxSession, iteration: int, run: _Run) -> str:
        """Run ``code`` that the engine wrote for the root, as a cell of the run, and return its feedback."""
        cell = self._run_cell(sandbox, code, iteration, 0, run)
        return self._feedback(0, cell, run, 1, code)

    def _unchecked(self, answer: str, question: str, run: _Run) -> str:
        """One plain sentence for the user when a FINAL is taken after its refusals and the checks still object
        (the details go to the trajectory with the final answer)."""
        if run.refused_finals < _MAX_REFUSED_FINALS:
            return ""
        run.unconfirmed = unchecked_details(answer, question, _seen(run))
        return f"\n\n{UNCONFIRMED_SENTENCE}" if run.unconfirmed else ""

    def _calls_in_final(self, final: FinalDirective, run: _Run) -> list[str]:
        """REPL calls written inside a FINAL answer (code the answer cannot run), until the refusals run out."""
        if final.is_variable or run.refused_finals >= _MAX_REFUSED_FINALS:
            return []
        return calls_in_answer(final.value, run.callables)

    def _run_calls_in_final(self, calls: list[str], sandbox: SandboxSession, iteration: int,
                            run: _Run) -> list[str]:
        """Run the calls a FINAL answer holds, as a cell of their own, and say so: the next turn answers from
        their output."""
        run.refused_finals += 1
        code = "\n".join(f"print({call})" for call in calls)
        return [prompts.calls_in_final_note(calls), self._engine_cell(code, sandbox, iteration, run)]

    def _resolve_final(self, final: FinalDirective, sandbox: SandboxSession, run: _Run) -> tuple[str | None, str]:
        """The answer of a FINAL written in text, or (None, what to tell the model)."""
        name = final.value
        if _names_a_variable(final, run):
            try:
                value = sandbox.get_variable(name)
            except SandboxError:
                shown = ", ".join(run.variables) or "none"
                return None, f"FINAL_VAR({name}): no variable named {name!r} (defined: {shown})."
            steered = run.steering.refusal(value, run.outputs, run.hits)
            return (None, steered) if steered else (value, "")
        if name in _ANSWER_VARIABLES:  # FINAL(answer) with no such variable: a placeholder, not an answer
            return None, f"FINAL({name}): no variable named {name!r}; put the answer itself inside FINAL(...)."
        steered = run.steering.refusal(final.value, run.outputs, run.hits)
        return (None, steered) if steered else (final.value, "")

    # --- the record that lets a run resume --------------------------------------------
    def _record_messages(self, run: _Run, iteration: int) -> None:
        """Store the messages added to the root's conversation since the last call (top-level runs only)."""
        if run.depth == 0 and len(run.messages) > run.recorded:
            run.emit(RootMessages(iteration=iteration, messages=[dict(m) for m in run.messages[run.recorded:]],
                                  depth=run.depth))
            run.recorded = len(run.messages)

    def _resume_into(self, run: _Run, sandbox: SandboxSession, state: ResumeState) -> None:
        """Rebuild a stored run's REPL (replay, no model called) and conversation."""
        report = sandbox.replay(state.cells)
        run.emit(resumed_event(state, report, state.cells[:report.replayed]))
        run.messages = [dict(m) for m in state.messages]
        run.recorded = len(run.messages)
        run.iterations, run.pending_turn = state.iterations, state.pending_turn
        run.samples = state.samples  # the next sampled turn draws the seed the run would have drawn next
        run.variables, run.outputs = list(report.variables), list(state.outputs)
        run.hits.extend(report.hits)
        note = resume_note(report)
        if note and run.messages[-1]["role"] == "user":
            run.messages[-1]["content"] += "\n\n" + note

    # --- when a guard ends the run ---------------------------------------------------
    def _best_answer(self, guard: str, sandbox: SandboxSession, run: _Run) -> str:
        """One closing root turn where the budget allows it, else what the REPL holds."""
        budget = run.budget
        if (guard in ("max_iterations", "max_sub_calls") and not budget.work_cancelled
                and budget.tokens_left > self.config.root_max_tokens and len(run.messages) > 2):
            answer = self._closing_turn(guard, sandbox, run)
            if answer:
                return answer
        return self._answer_from_state(sandbox, run)

    def _closing_turn(self, guard: str, sandbox: SandboxSession, run: _Run) -> str:
        closing = prompts.closing_message(guard)
        messages = list(run.messages)
        if messages[-1]["role"] == "user":
            messages[-1] = {"role": "user", "content": messages[-1]["content"] + "\n\n" + closing}
        else:
            messages.append({"role": "user", "content": closing})
        grammar = FINAL_TURN_GRAMMAR if self.config.grammar and self.root.supports_grammar else None
        try:
            completion = self._call_root(run, grammar, messages)
        except BackendError as exc:
            run.emit(ErrorEvent(message=str(exc), depth=run.depth))
            return ""
        turn = parse_turn(completion.text)
        run.emit(RootTurn(iteration=run.iterations + 1, text=completion.text, repaired=turn.repaired,
                          runnable=turn.final is not None, depth=run.depth,
                          prompt_tokens_restored=completion.usage.prompt_tokens_restored,
                          sampled=run.last_sampled, **_turn_usage(completion.usage)))
        if turn.final is not None:
            return self._resolve_final(turn.final, sandbox, run)[0] or ""  # "" falls back to the REPL state
        return strip_code(completion.text)

    def _answer_from_state(self, sandbox: SandboxSession | None, run: _Run) -> str:
        """Without a model: an answer-like REPL variable, else the last printed output."""
        if sandbox is not None and not run.budget.work_cancelled:
            for name in _ANSWER_VARIABLES:
                if name in run.variables:
                    try:
                        return sandbox.get_variable(name)
                    except SandboxError:
                        continue
        if run.outputs:
            return run.outputs[-1].strip()[-_FALLBACK_CHARS:]
        return ""

    # --- depth 2 ---------------------------------------------------------------------
    def _child_runner(self, parent: _Run) -> Callable[[str], tuple[str, Usage]]:
        """llm_query at depth 2: a child RLM (sub model as its root) over the prompt."""
        child = RLM(self.sub, self.sub, dataclasses.replace(self.config, depth=1), self.cache)

        def run_child(prompt: str) -> tuple[str, Usage]:
            run = _Run(budget=parent.budget, emit=parent.emit, depth=parent.depth + 1, role="sub")
            outcome = child._execute(prompts.child_question(prompt), prompt, run, {})
            if outcome.stopped_by in _SHARED_GUARDS or outcome.stopped_by == "error":
                raise RuntimeError(f"llm_query: the sub-RLM stopped ({outcome.stopped_by})")
            return outcome.answer, run.usage

        return run_child


def _objection(answer: str, question: str, run: _Run) -> Objection | None:
    """The checks' objection to ``answer`` given what the run has seen, judged once per answer and state: a
    refused answer written again is checked before it is judged, and the same verdict serves both."""
    key = (answer, question, len(run.cells), len(run.outputs), len(run.hits), run.searched_empty)
    if key not in run.judged:
        run.judged[key] = objection(answer, question, _seen(run))
    return run.judged[key]


def _seen(run: _Run) -> Seen:
    """What the run has seen, for the answer checks."""
    return Seen(cells=run.cells, outputs=run.outputs, hits=run.hits, texts=run.texts, context=run.context,
                searched_empty=run.searched_empty)


def _names(context: Context) -> list[str]:
    return [] if isinstance(context, str) else [d.name for d in context if isinstance(d, Document)]


def _take_back(run: _Run, note: str) -> None:
    """Take back a refused FINAL and add ``note`` to the message it answered, for the root to answer again.

    After a misreading of output it has on screen, a small model shown its own refused FINAL writes
    the same one again, whatever the note says; without it in view it reads the output again. (Not
    after a refusal that asks for code: the note, left in view without the FINAL, was copied above
    the same search turn after turn.) The stored record (engine/resume.py) keeps that message as it
    was sent first: a resumed run answers it again.
    """
    run.messages.pop()
    last = run.messages[-1]
    run.messages[-1] = {**last, "content": f"{last['content']}\n\n{note}"}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _names_a_variable(final: FinalDirective, run: _Run) -> bool:
    """FINAL_VAR(x), or FINAL(x) where x is a variable the cells defined."""
    return final.is_variable or (final.value.isidentifier() and final.value in run.variables)


def _truncate(output: str, limit: int) -> tuple[str, int | None]:
    """(what the root is shown, the full length when it was cut)."""
    if len(output) <= limit:
        return output, None
    return output[:limit], len(output)


def _evaluated(usage: Usage) -> int:
    return usage.prompt_tokens if usage.prompt_tokens_evaluated is None else usage.prompt_tokens_evaluated


def _turn_usage(usage: Usage) -> dict[str, Any]:
    """The usage fields a root turn's event carries (RootTurn, and TurnTakenBack for a refused sample)."""
    return dict(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                prompt_tokens_evaluated=_evaluated(usage), seconds=usage.seconds,
                draft_tokens_proposed=usage.draft_tokens_proposed, draft_tokens_accepted=usage.draft_tokens_accepted)


def _sampling_seed(config: RLMConfig, drawn: int) -> int | None:
    """The seed of a run's next sampled root turn: the config's seed plus the turns sampled before it, so a
    run asked again samples the same turns (None when the config asks for fresh random ones)."""
    return None if config.sampling_seed is None else (config.sampling_seed + drawn) % 2**31


def _compact(messages: list[Message]) -> list[Message] | None:
    """Keep the system prompt, the question and the last exchange; None if nothing to drop."""
    if len(messages) <= 4:
        return None
    note = {"role": "user", "content": messages[1]["content"] + "\n\n[Earlier turns were dropped to fit the "
            "model's window; variables you defined are still in the REPL: use SHOW_VARS().]"}
    return [messages[0], note, *messages[-2:]]


def _settings(config: RLMConfig, root: LanguageModel, sub: LanguageModel) -> dict[str, Any]:
    settings = dataclasses.asdict(config)
    settings["root_model"] = root.name
    settings["sub_model"] = sub.name
    return settings

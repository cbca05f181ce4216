"""Stop a root turn as soon as it has gone wrong, instead of letting it run to its token cap.

On a laptop CPU a small root model writes about 5 tokens a second, so a turn that runs
to a 1,024-token cap costs minutes. Two failures were seen in real trajectories:

- the model writes prose (often a continuation of the document text it was shown)
  inside its ```repl block: the block cannot run, yet generation goes on;
- the model loops, repeating a line or a phrase.

It also ends a turn cleanly once a ``FINAL(...)`` written outside code has closed: small
models go on explaining the answer for a hundred tokens or more (20 s on 2 cores).

:class:`TurnGuard` watches the tokens as they stream (through ``on_token``) and stops
the turn through its own cancel token, which also follows the run's. A block that
stopped being Python is cut back to its last line that still compiled, so the good
part of the turn still runs, and the model is told why it was cut.
"""

from __future__ import annotations

import codeop
import re
import warnings

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.engine.protocol import final_closed_at

_OPEN_REPL = re.compile(r"```[ \t]*(repl|python|py|python3)?[ \t]*\n")
_MIN_LINE = 12        # shorter repeated lines (``print()``, ``)``) are normal code
_LINE_REPEATS = 3     # the same line this many times in a row, or 2 more than that in all, is a loop
_TAIL = 60            # a loop: the last this-many characters already occurred ...
_TAIL_REPEATS = 3     # ... this many times
_AFTER_FINAL = 40     # characters of prose after a closed FINAL(...) (no code fence) that end the turn


class TurnCancel(CancelToken):
    """A turn's cancel token: set by the guard, or by the run's own token."""

    def __init__(self, parent: CancelToken | None) -> None:
        super().__init__()
        self._parent = parent

    @property
    def cancelled(self) -> bool:
        return super().cancelled or (self._parent is not None and self._parent.cancelled)

    def wait(self, timeout: float) -> bool:
        if self._parent is None:
            return super().wait(timeout)
        step = min(0.05, timeout)
        waited = 0.0
        while waited < timeout:
            if self.cancelled:
                return True
            super().wait(step)
            waited += step
        return self.cancelled


class TurnGuard:
    """Watches one root turn's text as it streams; stops it when it degenerates."""

    def __init__(self, run_cancel: CancelToken | None) -> None:
        self.cancel = TurnCancel(run_cancel)
        self.text = ""
        self.reason: str | None = None
        self._cut_at: int | None = None
        self._checked_to = 0
        self.finished_at: int | None = None  # set when a FINAL(...) outside code closed: the turn ends there
        self._final_end: int | None = None  # where the first FINAL(...) outside code closed, once it has

    @property
    def stopped(self) -> bool:
        return self.reason is not None

    def on_token(self, piece: str) -> None:
        """Feed one streamed piece; may set :attr:`reason` and cancel the turn."""
        if self.reason is not None or self.finished_at is not None:
            return
        self.text += piece
        if self._final_end is None and ")" in piece:  # a FINAL(...) can only close on a ")"
            self._final_end = final_closed_at(self.text)
        end = self._final_end
        if end is not None and "```" not in self.text[end:] and len(self.text) - end >= _AFTER_FINAL:
            self.finished_at = end  # the answer is written and no code follows: the rest would only cost time
            self.cancel.cancel()
            return
        if "\n" in piece:
            self._check_lines()
        if self.reason is None and len(self.text) >= 2 * _TAIL:
            tail = self.text[-_TAIL:]
            if tail.strip() and self.text.count(tail) >= _TAIL_REPEATS:
                self._stop("it kept repeating the same text", None)

    def turn_text(self, generated: str) -> str:
        """The text the loop should use: the generated text, cut where its FINAL closed or where a block went bad."""
        if self.finished_at is not None:
            return self.text[:self.finished_at]
        if self._cut_at is None:
            return generated
        return self.text[:self._cut_at].rstrip("\n") + "\n```"

    # --- checks ------------------------------------------------------------------------
    def _check_lines(self) -> None:
        complete = self.text[:self.text.rfind("\n") + 1]
        lines = [line.strip() for line in complete.splitlines()]
        self._check_repeats(lines)
        if self.reason is None:
            self._check_code(complete)

    def _check_repeats(self, lines: list[str]) -> None:
        long_lines = [line for line in lines if len(line) >= _MIN_LINE]
        if len(long_lines) < _LINE_REPEATS:
            return
        last = long_lines[-1]
        in_a_row = lines[-_LINE_REPEATS:]
        if (len(in_a_row) == _LINE_REPEATS and len(set(in_a_row)) == 1 and len(last) >= _MIN_LINE) \
                or long_lines.count(last) >= _LINE_REPEATS + 2:
            self._stop(f"it repeated the line {last[:60]!r}", None)

    def _check_code(self, complete: str) -> None:
        """Inside an open code block, compile what is there; stop at the first line that is not Python."""
        opened = None
        for match in _OPEN_REPL.finditer(complete):
            opened = match
        if opened is None or "```" in complete[opened.end():]:
            return  # no block open (or it is closed): nothing to check
        body_start = opened.end()
        body = complete[body_start:]
        if not body.strip() or len(body) <= self._checked_to:
            return
        self._checked_to = len(body)
        if _compiles_or_incomplete(body):
            return
        good = _longest_compiling_prefix(body)
        cut = body_start + good if good else None
        lines = body[good:].strip().splitlines()
        first_bad = lines[0] if lines else ""
        self._stop(f"line {body[:good].count(chr(10)) + 1} of the code block is not Python ({first_bad[:60]!r})", cut)

    def _stop(self, reason: str, cut_at: int | None) -> None:
        self.reason = reason
        self._cut_at = cut_at
        self.cancel.cancel()


def _compiles_or_incomplete(source: str) -> bool:
    """True when ``source`` compiles, or is a valid start that needs more lines."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            codeop.compile_command(source + "\n", "<turn>", "exec")
            return True
        except (SyntaxError, ValueError, OverflowError):
            return False


def _longest_compiling_prefix(body: str) -> int:
    """Length of the longest whole-line prefix of ``body`` that compiles completely (0 if none)."""
    ends = [m.end() for m in re.finditer(r"\n", body)]
    for end in reversed(ends):
        prefix = body[:end]
        if not prefix.strip():
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                compile(prefix, "<turn>", "exec")
                return end
            except (SyntaxError, ValueError, OverflowError):
                continue
    return 0

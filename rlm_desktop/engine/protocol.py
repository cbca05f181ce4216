"""Parse a root model turn: ```repl code blocks and FINAL(...) / FINAL_VAR(...).

Well-behaved models write reasoning, one or more ```repl blocks, and end with
``FINAL(answer)`` or ``FINAL_VAR(name)`` on a line of its own (inside a block or in
the text). Small local models miss that format in predictable ways; each of these
is repaired rather than wasting a turn, and the turn is marked ``repaired``:

- a ```python / ```py / bare ``` fence instead of ```repl;
- an unclosed last fence (the model stopped before the closing ```);
- ``FINAL(...)`` in the middle of a sentence instead of on its own line;
- ``FINAL(the answer in words)`` inside a code block, where Python cannot run it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)```", re.DOTALL)
_OPEN_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n?(.*)\Z", re.DOTALL)
_CODE_LANGS = {"repl"}
_REPAIRABLE_LANGS = {"python", "py", "python3", "", "repl_python", "pycon"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FINAL_START = re.compile(r"\bFINAL(_VAR)?\s*\(")
# "Final(...)" starting a line of prose is a FINAL too (the 1.5B wrote its whole answer so, then began a FINAL
# it did not finish); in the middle of a sentence only the upper-case FINAL counts
_LINE_FINAL = re.compile(r"^[ \t>*_]*(?:FINAL|Final)(_VAR)?\s*\(", re.MULTILINE)


@dataclass(frozen=True)
class FinalDirective:
    """``FINAL(value)`` (``is_variable`` False) or ``FINAL_VAR(name)`` (True)."""

    value: str
    is_variable: bool = False


@dataclass
class ParsedTurn:
    """What one root turn asks the loop to do."""

    text: str
    code_blocks: list[str] = field(default_factory=list)
    final: FinalDirective | None = None  # a FINAL written in the text, outside code
    repaired: bool = False

    @property
    def runnable(self) -> bool:
        return bool(self.code_blocks) or self.final is not None


def parse_turn(text: str) -> ParsedTurn:
    """Split a root model's reply into code blocks and a FINAL written outside them."""
    blocks, prose, repaired = _extract_blocks(text)
    written = [b for b in blocks if _is_written_final(b)]
    if written:  # FINAL(Yes, the answer) fenced as code: a written answer, not a SyntaxError
        blocks = [b for b in blocks if b not in written]
        prose = prose + "\n" + "\n".join(written)
        repaired = True
    final, final_repaired = _find_final(prose, have_code=bool(blocks))
    return ParsedTurn(text=text, code_blocks=blocks, final=final, repaired=repaired or final_repaired)


def _is_written_final(block: str) -> bool:
    """A code block that is only ``FINAL(...)`` in words, which Python cannot run."""
    if not _LINE_FINAL.match(block.strip()):
        return False
    try:
        compile(block, "<cell>", "exec")
    except SyntaxError:
        return True
    return False


def _extract_blocks(text: str) -> tuple[list[str], str, bool]:
    """Return (code blocks, the text outside them, whether a fence needed repair)."""
    repl: list[str] = []
    other: list[str] = []
    prose_parts: list[str] = []
    pos = 0
    for match in _FENCE.finditer(text):
        prose_parts.append(text[pos:match.start()])
        pos = match.end()
        lang, body = match.group(1).lower(), match.group(2)
        if lang in _CODE_LANGS:
            repl.append(body)
        elif lang in _REPAIRABLE_LANGS:
            other.append(body)
        else:  # ```text, ```output and the like are not code
            prose_parts.append(body)
    rest = text[pos:]
    repaired = False
    unclosed = _OPEN_FENCE.search(rest)
    if unclosed and unclosed.group(1).lower() in _CODE_LANGS | _REPAIRABLE_LANGS and unclosed.group(2).strip():
        prose_parts.append(rest[:unclosed.start()])
        (repl if unclosed.group(1).lower() in _CODE_LANGS else other).append(unclosed.group(2))
        repaired = True
    else:
        prose_parts.append(rest)
    if repl:
        blocks = repl
    else:
        blocks = other
        repaired = repaired or bool(other)
    blocks = [b.strip("\n") for b in blocks if b.strip()]
    return blocks, "".join(prose_parts), repaired


def _find_final(prose: str, *, have_code: bool) -> tuple[FinalDirective | None, bool]:
    """A FINAL on its own line counts; one inside a sentence counts only when there is no code."""
    for match in _LINE_FINAL.finditer(prose):
        directive = _read_final(prose, match.end() - 1, bool(match.group(1)))
        if directive is not None:
            return directive, False
    if have_code:
        return None, False
    for match in _FINAL_START.finditer(prose):
        directive = _read_final(prose, match.end() - 1, bool(match.group(1)))
        if directive is not None:
            return directive, True
    return None, False


def _read_final(text: str, open_paren: int, is_variable: bool) -> FinalDirective | None:
    """Read the argument of FINAL( / FINAL_VAR( starting at ``open_paren``."""
    argument = _balanced_argument(text, open_paren)
    if argument is None:
        return None
    argument = argument.strip()
    if is_variable:
        name = _unquote(argument).strip()
        return FinalDirective(name, is_variable=True) if _IDENT.fullmatch(name) else None
    value = _unquote(argument)
    return FinalDirective(value.strip()) if value.strip() else None


def _balanced_argument(text: str, open_paren: int) -> str | None:
    """Text between ``text[open_paren] == '('`` and its matching ')'.

    Falls back to the end of the line when the parentheses never balance (a small
    model that wrote ``FINAL(the answer is (a``); returns None for an empty call.
    """
    close = matching_paren(text, open_paren)
    if close is not None:
        return text[open_paren + 1:close]
    line_end = text.find("\n", open_paren)
    tail = text[open_paren + 1:line_end if line_end != -1 else len(text)].rstrip()
    tail = tail[:-1] if tail.endswith(")") else tail
    return tail or None


def final_closed_at(text: str) -> int | None:
    """Where the first ``FINAL(...)`` that starts a line outside code closes (index after its ')'), or None."""
    for match in _LINE_FINAL.finditer(text):
        if text[:match.start()].count("```") % 2:  # inside a code block: that FINAL is code
            continue
        close = matching_paren(text, match.end() - 1)
        if close is not None:
            return close + 1
    return None


def matching_paren(text: str, open_paren: int) -> int | None:
    """Index of the ')' that closes ``text[open_paren] == '('`` (quotes respected), or None."""
    depth = 0
    quote: str | None = None
    i = open_paren
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i:i + 3]
            i += 3
            continue
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _unquote(value: str) -> str:
    """Strip one layer of matching Python string quotes (``"x"``, ``'x'``, ``\"\"\"x\"\"\"``, f-less)."""
    for q in ('"""', "'''", '"', "'"):
        if len(value) >= 2 * len(q) and value.startswith(q) and value.endswith(q):
            inner = value[len(q):-len(q)]
            if q in ('"', "'"):
                inner = inner.replace("\\" + q, q).replace("\\n", "\n")
            return inner
    return value


def strip_code(text: str) -> str:
    """The prose of a turn without its code blocks (for a best-effort answer)."""
    return _extract_blocks(text)[1].strip()


def calls_in_answer(answer: str, names: Iterable[str]) -> list[str]:
    """The calls to ``names`` written inside an answer (``FINAL(Acme, share_of(context[2], 'Acme'))``),
    each a whole Python expression, in order; [] for an answer in words."""
    wanted = "|".join(re.escape(name) for name in sorted(set(names), key=len, reverse=True))
    if not wanted:
        return []
    calls: list[str] = []
    position = 0
    for match in re.finditer(rf"(?<![\w.])(?:{wanted})\(", answer):
        if match.start() < position:
            continue  # inside a call already taken
        close = matching_paren(answer, match.end() - 1)
        if close is None:
            continue
        call = answer[match.start():close + 1]
        if not answer[match.end():close].strip():
            continue  # "or search() with key words": a helper named in prose, no value to compute
        try:
            ast.parse(call, mode="eval")
        except SyntaxError:
            continue
        calls.append(call)
        position = close + 1
    return calls


def literal_assignments(code: str) -> list[str]:
    """``name = value`` for each assignment of a block made only of assignments of written values
    (``total = 814000.0``); [] for any other block. Such a block does nothing the output can show: the 1.5B
    wrote the total it had just been shown as ``total = 814000.0`` and, told "(nothing printed)", answered 0."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    shown: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
            targets, value = [t.id for t in statement.targets if isinstance(t, ast.Name)], statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            targets, value = [statement.target.id], statement.value
        else:
            return []
        try:
            written = repr(ast.literal_eval(value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return []
        written = written if len(written) <= 200 else written[:200] + "..."
        shown += [f"{target} = {written}" for target in targets]
    return shown


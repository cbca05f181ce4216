"""Is a written answer grounded in what the root has actually seen?

A small root model sometimes answers with FINAL before it has found anything, inventing a
figure or a name, or hands back a name the question itself gave. A number or a capitalised
name in a FINAL written as text must appear in some printed output (or in the question), and
the answer to a which/who/what/where question must say more than the question's own words;
otherwise the FINAL is refused (at most twice a run), the model is told why and which names
the output showed that it could follow next, and its next turn must be code. Answers computed
by code (FINAL inside a cell, FINAL_VAR) are not checked: the code is their evidence.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Sequence

from rlm_desktop.engine.arithmetic import computed_results


_CITATION_MARK = re.compile(r"\[\d{1,2}\]")
SOURCE_NOTE = re.compile(r"\(([^()]*\b(?:page|p\.)\s*\d+[^()]*)\)", re.IGNORECASE)
"""A source note of a written answer, "(lease.md, page 3)"; group 1 is what is inside the brackets."""
_NAME = re.compile(r"\b[A-Z][\w'\-]*[a-z][\w'\-]*")  # a capitalised word: Kestrel, McAllister, St
_WORD = re.compile(r"[^\W_]+")
_WH_QUESTION = re.compile(r"^\W*(which|who|whom|whose|what|where|when)\b", re.IGNORECASE)
_PLAIN_WORDS = frozenset("""
yes no the a an it its this that these those there they he she we i none not both neither either and or but so
however according based page pages document documents answer final true false is was are were in on of for to by
with from at as after before between total sum count number amount date unknown only all each per than
zero one two three four five six seven eight nine ten eleven twelve first second third last none
""".split())
_FIGURE = re.compile(r"\d[\d,.' ]*\d|\d")
_SOURCE_REFERENCE = re.compile(r"\b(?:page|p\.)\s*\d+|[^\s,;()]+\.[A-Za-z]\w{0,4}\b", re.IGNORECASE)


def figure_digits(text: str) -> str:
    """A figure's digits without its separators: "EUR 4,850,000" and "4 850 000" both hold "4850000"."""
    return re.sub(r"[,.' ]", "", text)


_DECIMAL_TAIL = re.compile(r"[.,](\d+)$")


def figure_key(text: str) -> str:
    """A figure as compared with what the output showed: its digits without thousands separators, and a decimal
    part kept after ".": "4,850,000" and "4 850 000" -> "4850000", but "20.24" -> "20.24" (not the year 2024);
    a decimal part of zeros is dropped ("48,500,000.00" -> "48500000")."""
    text = text.strip()
    tail = _DECIMAL_TAIL.search(text)
    if tail is None or len(tail.group(1)) == 3:
        return figure_digits(text)
    whole, fraction = figure_digits(text[:tail.start()]), tail.group(1).rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def unsupported_figures(answer: str, cells: Iterable[tuple[str, str]], question: str = "") -> list[str]:
    """The numbers in ``answer`` that no cell's output showed (separators ignored).

    ``cells`` are (code, output) pairs. A figure only counts as shown when the cell's code did not
    write it itself: ``print("GBP 21")`` is not evidence of GBP 21.
    """
    # "[1]" points at a citation, "page 3" and "01_spa.md" at a source: none is a figure of the answer
    # (engine/page_citations.py checks the page numbers against the documents)
    answer = _SOURCE_REFERENCE.sub(" ", _CITATION_MARK.sub(" ", answer))
    figures = [match.group(0).strip() for match in _FIGURE.finditer(answer)]
    if not figures:
        return []
    asked = _numbers(question) | {figure_key(r) for r in computed_results(answer)}  # a right sum rests on its terms
    shown = [_evidence(code, output) for code, output in cells]
    missing = []
    for figure in figures:
        digits = figure_key(figure)
        if not digits or digits in asked or figure in missing:
            continue
        if not any(_shows(digits, numbers, text) for numbers, text in shown):
            missing.append(figure)
    return missing


def without_source_notes(answer: str) -> str:
    """``answer`` less its citation marks ("[1]") and source notes ("(lease.md, page 3)")."""
    return SOURCE_NOTE.sub(" ", _CITATION_MARK.sub(" ", answer))


def unsupported_names(answer: str, cells: Iterable[tuple[str, str]], question: str = "") -> list[str]:
    """The capitalised words of ``answer`` (names, places) that no output showed and the question lacks.

    Case is ignored: a name printed as "KESTREL" or inside a longer word shows it. A name the code
    searched for counts too (``grep(r"germany")`` then "governed by the laws of Germany"); one the code only
    wrote in a comment does not (``print(town)  # Output: New York``, then "New York").
    """
    answer = without_source_notes(answer)
    seen = " ".join(code_without_comments(code) + "\n" + output for code, output in cells).lower() + " " + \
        question.lower()
    missing: list[str] = []
    for match in _NAME.finditer(answer):
        word = re.sub(r"['\u2019]s$", "", match.group(0))
        if word.lower() in _PLAIN_WORDS or word in missing:
            continue
        if word.lower() not in seen:
            missing.append(word)
    return missing


def code_without_comments(code: str) -> str:
    """``code`` less its comments (a ``#`` outside a string, to the end of the line)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.sub(r"(^|\s)#[^\n]*", r"\1", code)
    lines = code.splitlines(keepends=True)
    for token in reversed([t for t in tokens if t.type == tokenize.COMMENT]):
        row, col = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + line[col + len(token.string):]
    return "".join(lines)


def repeats_question(answer: str, question: str) -> bool:
    """True when a which/who/what/where/when question is answered with nothing but its own words
    (and source references: "05_memo.md, customer contract" names a file, not a contract)."""
    if not _WH_QUESTION.match(question):
        return False
    answer = _SOURCE_REFERENCE.sub(" ", without_source_notes(answer))
    words = {w for w in _WORD.findall(answer.lower()) if w not in _PLAIN_WORDS}
    asked = set(_WORD.findall(question.lower()))
    return bool(words) and words <= asked


_NAME_PHRASE = re.compile(r"(?<![\w'\u2019])[A-Z][\w\-]*[a-z][\w\-]*(?:[ \-](?:[A-Z][\w\-]*[a-z][\w\-]*|&))*")
_SENTENCE_START = re.compile(r"(^|[.!?:;]\s+|\n\s*)$")


def new_names(outputs: Sequence[str], question: str, limit: int = 4) -> list[str]:
    """Names (capitalised words inside a sentence) that the outputs show and the question does not give.

    The next link of a chain: the question names Tamquenby, the output says "Born in Tamquenby,
    Hugo Galgal grew up ... moved to Rhotamby": Hugo Galgal is what to search for next. Names
    nearest to a word of the question come first.
    """
    asked = set(_WORD.findall(question.lower()))
    anchors = [w for w in asked if len(w) > 3 and w not in _PLAIN_WORDS]
    found: dict[str, int] = {}
    for output in outputs:
        lowered = output.lower()
        spots = [m.start() for w in anchors for m in re.finditer(r"\b" + re.escape(w), lowered)]
        for match in _NAME_PHRASE.finditer(output):
            if match.start() == 0 or _SENTENCE_START.search(output[max(0, match.start() - 3):match.start()]):
                continue  # "The", "Every": a capital that only starts a sentence
            name = match.group(0)
            words = set(_WORD.findall(name.lower()))
            if words <= asked or words <= _PLAIN_WORDS or "_" in name:
                continue
            distance = min((abs(match.start() - spot) for spot in spots), default=len(output))
            found[name] = min(found.get(name, distance), distance)
    return sorted(found, key=lambda name: found[name])[:limit]


def _evidence(code: str, output: str) -> tuple[set[str], str]:
    """The numbers of the output lines that the code did not write out itself (an echo is no evidence)."""
    echoes = _echoed_lines(code)
    lines = [line for line in output.splitlines() if line.strip() and line.strip() not in echoes]
    text = "\n".join(lines)
    return _numbers(text), text


def _echoed_lines(code: str) -> set[str]:
    """The lines that ``print`` calls of nothing but literals write: ``print("GBP", 21)`` -> "GBP 21"."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    echoes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print" \
                and node.args and all(isinstance(arg, ast.Constant) for arg in node.args):
            echoes.add(" ".join(str(arg.value) for arg in node.args).strip())  # type: ignore[attr-defined]
    return echoes


def _numbers(text: str) -> set[str]:
    """The digits of each figure, and of each space-separated part of one ("31 2846500": 31, 2846500)."""
    numbers = set()
    for match in _FIGURE.finditer(text):
        numbers.add(figure_key(match.group(0)))
        numbers.update(figure_key(part) for part in match.group(0).split())
    return numbers


def _shows(digits: str, numbers: set[str], text: str) -> bool:
    """A whole number of the output, or (4+ digits) one that stands on its own inside a longer run of
    figures ("2,846,500" in "31 2846500", "48,500,000" in "48,500,000.00"). "21" is not shown by
    "212,000", nor "742,000" by "7420000": a figure read with a digit lost is another figure."""
    if digits in numbers:
        return True
    if len(digits) < 4 or "." in digits:
        return False
    pattern = r"(?<![\d,.'])" + r"[,.' ]?".join(digits) + r"(?:[.,]0+)?(?![,.' ]?\d)"
    return re.search(pattern, text) is not None


def ungrounded_final_note(figures: list[str], outputs_seen: int, *, nothing_found: bool = False,
                          echoes_question: bool = False, leads: Sequence[str] = ()) -> str:
    """What the root is told when its FINAL is refused (``figures``: the numbers or names it never saw)."""
    if nothing_found and not figures:
        return ("FINAL refused: your searches have found no passage yet, so the answer cannot rest on the "
                "documents. Search again with one distinctive word, a word stem or other key words.")
    if not outputs_seen:
        return ("FINAL refused: you have not run any code yet, so the answer cannot come from the documents. "
                "Search for it first.")
    lead = ""
    if leads:
        names = ", ".join(repr(name) for name in leads)
        patterns = ", ".join(f'r"{name}"' for name in leads)
        lead = (f" Names the output showed that the question does not give: {names}. The question may reach its "
                "answer through one of them: search for them next and read what the documents say about each:\n"
                f"for pattern in [{patterns}]:\n    for h in grep(pattern, context_chars=150)[:3]:\n"
                "        print(pattern, '|', h.document, h.page, h.snippet)")
    if echoes_question and not figures:
        return ("FINAL refused: your answer only repeats words of the question, so it does not say what the "
                "question asks for." + (lead or " Search for the name or fact the output gave you."))
    shown = ", ".join(repr(f) for f in figures[:5])
    return (f"FINAL refused: {shown} appears in none of the output you have printed, so it is not evidence. "
            "Find the passage with code and print it, then answer from it." + lead)


def echo_answer_note() -> str:
    """Appended to an answer taken after its refusals that still says nothing the question did not."""
    return "[Unchecked: this answer repeats the question's own words; it does not answer it.]"


def unchecked_answer_note(unseen: Sequence[str]) -> str:
    """Appended to an answer taken after its refusals that still holds words no output showed."""
    shown = ", ".join(repr(word) for word in unseen[:5])
    return (f"[Unchecked: {shown} appear{'s' if len(unseen) == 1 else ''} in none of the text the model read; "
            "this answer may not come from the documents.]")

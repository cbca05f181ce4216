"""Does a written answer read its figures the way the printed passages give them?

Misreadings of a small root model that the grounding check (every figure was printed
somewhere) lets through:

- the wrong figure of a passage: "pay EUR 43,650,000 to the Seller and EUR 4,850,000 (the
  Escrow Amount)" answered as "the escrow amount, EUR 43,650,000". The answer puts a word of
  the question next to a figure; in the output that word always stands nearer another figure.
- arithmetic written out instead of computed: "216,000 + 226,000 + 216,000 + ...", which a
  small model neither finishes nor adds up right;
- a comparison the wrong way round: "EUR 4,850,000 ... is larger than ... EUR 6,000,000";
- the wrong period: a question about 2024 answered from a sentence about 2023;
- the wrong subject: "the effective date of the agreement with Thornbury Logistics GmbH" answered from
  the first "agreement" hit, another party's lease, when no output has shown that name at all.

Each gives the root a short note saying what the output shows; the loop refuses the FINAL
(within the same cap as the grounding check). After a misread figure or comparison the root
answers the same output again with the note beside it, its refused answer taken back; after a
wrong period or written arithmetic its next turn must be code (see engine/loop.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from rlm_desktop.engine.arithmetic import written_equations
from rlm_desktop.engine.grounding import without_source_notes
from rlm_desktop.sandbox.words import singular_word

_FIGURE = re.compile(r"\d[\d,.']*\d")
_WORD = re.compile(r"[^\W\d_]+")
_CLAUSE_START = re.compile(r"[.;:!?(\n]\s|\)")
_SUM_IN_WRITING = re.compile(r"\d[\d,.]*\s*\+\s*\d[\d,.]*\s*\+\s*\d")
_NEAR = 200        # characters: how far a figure may stand from the word it goes with
_MIN_DIGITS = 4    # amounts, not clause numbers or days
_STEM = 6
_COMMON = frozenset("""
what which when where whose amount number total date sum value figure under with from that this there their
than more less larger smaller greater does agreed agreement document documents page shall each
""".split())


@dataclass(frozen=True)
class Misreading:
    """A figure of the answer (``said``) that the output puts next to ``word`` less closely than ``shown``."""

    said: str
    shown: str
    word: str
    excerpt: str


def _digits(text: str) -> str:
    return re.sub(r"[,.']", "", text)


def _stem(word: str) -> str:
    return word.lower()[:_STEM]


def _figures(text: str) -> list[tuple[int, int, str]]:
    """(start, end, digits) of every figure of at least four digits."""
    return [(m.start(), m.end(), _digits(m.group(0))) for m in _FIGURE.finditer(text)
            if len(_digits(m.group(0))) >= _MIN_DIGITS]


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def _figure_clauses(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, digits, clause) of each figure of ``text``: the clause is the words that lead up to the
    figure, from the figure before it or the start of its clause, whichever is nearer."""
    previous_end = 0
    for start, end, digits in _figures(text):
        clause = text[previous_end:start]
        starts = [m.end() for m in _CLAUSE_START.finditer(clause)]
        yield start, end, digits, clause[starts[-1]:] if starts else clause
        previous_end = end


def misread_figures(answer: str, outputs: Iterable[str], question: str) -> list[Misreading]:
    """Figures the answer ties to a word of the question that the output ties to another figure.

    Only flagged when no occurrence of that word in any output has the answer's figure as its
    nearest figure, and some occurrence has the answer's figure within reach but another one nearer.
    """
    asked = {_stem(w) for w in _WORD.findall(question) if len(w) > 3 and w.lower() not in _COMMON}
    if not asked:
        return []
    texts = [text for text in outputs if text.strip()]
    clean = without_source_notes(answer)
    found: list[Misreading] = []
    for start, end, digits, clause in _figure_clauses(clean):
        words = {_stem(w) for w in _WORD.findall(clause)} & asked
        for word in sorted(words):
            problem = _misreading(digits, word, texts) or _misplaced(digits, word, texts, asked - {word})
            if problem is not None:
                found.append(Misreading(said=clean[start:end], shown=problem[0], word=problem[1],
                                        excerpt=problem[2]))
                break
    return found


_AGGREGATE = frozenset("""
total overall combined average annual yearly monthly sum whole gross net
""".split())


def unseen_subjects(answer: str, outputs: Iterable[str], question: str) -> list[str]:
    """Words of the question that the answer puts beside one of its figures but no output ever showed.

    "the Kestrel minimum annual purchase, EUR 43,650,000" when nothing printed says "minimum": that
    figure was read from a passage about something else; the thing asked about is still to be found.
    Words that a passage may leave unsaid ("total", "annual", "the amount") do not count on their own.
    """
    asked = [w for w in _WORD.findall(question) if len(w) > 3 and w.lower() not in _COMMON]
    if not asked:
        return []
    shown = " ".join(text for text in outputs if text.strip()).lower()
    unseen: list[str] = []
    for _, _, _, clause in _figure_clauses(without_source_notes(answer)):
        said = {_stem(w) for w in _WORD.findall(clause)}
        missing = [w for w in asked if _stem(w) in said and _root(w) not in shown]
        if any(w.lower() not in _AGGREGATE for w in missing):
            unseen.extend(w for w in missing if w not in unseen)
    return unseen


_NAME_PART = r"[A-Z][\w&'\-]*(?:\.[A-Z]\.?)?\.?"
_QUESTION_NAME = re.compile(rf"{_NAME_PART}(?:\s+(?:(?:of|de|van|von|der|and|&)\s+)?{_NAME_PART})+")
_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)$")


_REFERENCE = re.compile(r"(?<![\w-])(?=[\w/.-]*\d)(?=[\w/.-]*[A-Za-z])[A-Z][\w]*(?:[-/.][\w]+)+(?![\w-])|"
                        r"(?<![\w-])[A-Z]{2,}\d{2,}(?![\w-])")


def question_names(question: str) -> list[str]:
    """The names of two or more capitalised words that a question writes ("Thornbury Logistics GmbH",
    "Licence Agreements"), its opening word aside, and the references it writes ("HH-031", "C-2041/7")."""
    names = [match.group(0).rstrip(".") for match in _REFERENCE.finditer(question)]
    for match in _QUESTION_NAME.finditer(question):
        words = match.group(0).split()
        if _SENTENCE_START.search(question[:match.start()]):
            words = words[1:]
            while words and not words[0][0].isupper():
                words = words[1:]
        if len(words) >= 2:
            names.append(" ".join(words))
    return names


def unshown_question_names(question: str, outputs: Iterable[str]) -> list[str]:
    """The question's names (:func:`question_names`) that no output has shown, case and plurals aside: an
    answer given then cannot come from a passage about them."""
    printed = " ".join(outputs)
    shown = f" {_plain_words(printed)} "

    def is_shown(name: str) -> bool:
        return f" {_plain_words(name)} " in shown or _spelled_out(name).search(printed) is not None

    # "GPL-1 and GPL-2" names two things: shown when each one is, as a listing by document shows them
    return [name for name in question_names(question)
            if not is_shown(name) and not _each_shown(conjuncts(name), is_shown)]


_CONJUNCTION = re.compile(r"\s+(?:and|&)\s+")


def _each_shown(parts: list[str], is_shown: Callable[[str], bool]) -> bool:
    return bool(parts) and all(is_shown(part) for part in parts)


def conjuncts(name: str) -> list[str]:
    """The parts of a name joined by "and" or "&" ("GPL-1 and GPL-2"), or [] when it has none."""
    parts = _CONJUNCTION.split(name)
    return parts if len(parts) > 1 else []


def _spelled_out(name: str) -> re.Pattern[str]:
    """``name`` with each of its acronyms also matched by words of those initials: "GNU FDL" is shown by
    "GNU Free Documentation License", as users shorten the names that documents write in full."""
    parts = []
    for word in name.split():
        core = re.sub(r"\W", "", word)
        if len(core) >= 2 and core.isupper() and core.isalpha():
            initials = r"[\s-]+".join(rf"(?-i:{letter})\w*" for letter in core)  # capital initials only
            parts.append(rf"(?:{re.escape(word)}|{initials})")
        else:
            parts.append(re.escape(word))
    return re.compile(r"(?<!\w)" + r"\W+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _plain_words(text: str) -> str:
    return " ".join(singular_word(word) for word in re.findall(r"[\w&]+", text.lower()))


def unshown_name_note(names: list[str]) -> str:
    """What the root is told when it answers a question about a name that no output has shown."""
    name = names[0]
    return (f"FINAL refused: the question asks about {name}, but nothing printed so far mentions {name}, so "
            f"the answer cannot come from a passage about it. Search for it first, e.g. "
            f"grep(r\"{re.escape(name)}\"), and answer from the passage that names it.")


def _root(word: str) -> str:
    """A word without a plural ending, as searched for in output ("fees" is shown by "fee")."""
    word = word.lower()
    return _stem(word[:-1] if word.endswith("s") and not word.endswith("ss") else word)


def unseen_subject_note(words: list[str], question: str) -> str:
    """What the root is told when its answer gives a figure for something no output has shown yet."""
    lowered = question.lower()
    ordered = sorted(words, key=lambda w: lowered.find(w.lower()))
    searched = [w for w in ordered if not w[0].isupper()] or ordered  # a name may be written apart from the thing
    pattern = r"\s+".join(re.escape(w.lower()) for w in searched)
    quoted = ", ".join(repr(w) for w in ordered)
    return (f"FINAL refused: your answer gives a figure for {quoted}, but no output has shown {quoted} yet, so that "
            f"figure belongs to something else. Find it first, for example:\nfor h in grep(r\"{pattern}\", "
            "context_chars=150)[:5]:\n    print(h.document, h.page, h.snippet)")


def _misreading(digits: str, word: str, texts: list[str]) -> tuple[str, str, str] | None:
    """(the nearer figure, the word as printed, an excerpt) if the output ties ``word`` to another figure."""
    pattern = re.compile(r"\b" + re.escape(word) + r"\w*", re.IGNORECASE)
    rival: tuple[str, str, str] | None = None
    for text in texts:
        figures = _figures(text)
        for hit in pattern.finditer(text):
            span = (hit.start(), hit.end())
            near = _nearby(text, span, figures)
            if not near:
                continue
            if near[0][3] == digits:
                return None  # somewhere the word goes with the answer's figure: that reading is possible
            ours = [item for item in near if item[3] == digits]
            if ours and rival is None:
                _, s, e, _ = near[0]
                lo, hi = min(s, ours[0][1], span[0]), max(e, ours[0][2], span[1])
                rival = (text[s:e], hit.group(0), " ".join(text[max(0, lo - 20):hi + 20].split()))
    return rival


def _nearby(text: str, span: tuple[int, int], figures: list[tuple[int, int, str]]) -> list[tuple[int, int, int, str]]:
    """(gap, start, end, digits) of the figures within reach of ``span`` in its sentence, nearest first."""
    return sorted((_gap(span, (s, e)), s, e, d) for s, e, d in figures
                  if _gap(span, (s, e)) <= _NEAR and _one_sentence(text, span, (s, e)))


def _misplaced(digits: str, word: str, texts: list[str], others: set[str]) -> tuple[str, str, str] | None:
    """(the figure the output gives for ``word``, the word as printed, an excerpt) when the answer's figure
    stands nowhere near ``word`` in the output, the output always gives ``word`` one other figure, and the
    answer's figure stands beside another word of the question: "the minimum annual purchase, EUR 4,850,000"
    where the output gives the Minimum Annual Purchase EUR 6,000,000 and the Escrow Amount EUR 4,850,000."""
    pattern = re.compile(r"\b" + re.escape(word) + r"\w*", re.IGNORECASE)
    given: set[str] = set()
    first: tuple[str, str, str] | None = None
    for text in texts:
        figures = _figures(text)
        for hit in pattern.finditer(text):
            span = (hit.start(), hit.end())
            near = _nearby(text, span, figures)
            if not near:
                continue
            if any(item[3] == digits for item in near):
                return None
            given.add(near[0][3])
            if first is None:
                _, s, e, _ = near[0]
                lo, hi = min(s, span[0]), max(e, span[1])
                first = (text[s:e], hit.group(0), " ".join(text[max(0, lo - 20):hi + 20].split()))
    if first is None or len(given) != 1 or not others:
        return None
    beside = re.compile(r"\b(?:" + "|".join(re.escape(other) for other in sorted(others)) + r")\w*", re.IGNORECASE)
    for text in texts:
        figures = _figures(text)
        if any(item[3] == digits for hit in beside.finditer(text)
               for item in _nearby(text, (hit.start(), hit.end()), figures)):
            return first
    return None


_COMPARATIVE = re.compile(r"\b(?:is|are|was|were)\s+(?:much\s+|far\s+|slightly\s+|significantly\s+)?"
                          r"(?P<word>larger|greater|higher|bigger|more|smaller|less|lower|fewer)(?P<than>\s+than)\b"
                          r"|(?<!not )\b(?P<verb>exceeds|exceeded)\b", re.IGNORECASE)
_UP = frozenset("larger greater higher bigger more exceeds exceeded".split())
_AMOUNT = re.compile(r"(?P<currency>\b[A-Z]{3}\b|[$\u20ac\u00a3])?\s*(?P<number>\d[\d,.']*\d|\d)"
                     r"(?:\s*(?P<scale>million|billion|thousand|bn|m|k)\b)?", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
_SENTENCE_END = re.compile(r"[.!?;](?:\s|$)(?!\d)")


@dataclass(frozen=True)
class WrongComparison:
    """``first`` is said to be ``word`` than ``second``, and the figures say otherwise."""

    first: str
    word: str
    second: str


def wrong_comparisons(answer: str) -> list[WrongComparison]:
    """Comparisons of two written figures ("EUR 4,850,000 ... is larger than ... EUR 6,000,000") that are false.

    Only figures of one sentence in the same currency (or none) are compared; a figure of fewer
    than four digits (a clause, a page) is not taken as an amount.
    """
    clean = without_source_notes(answer)
    wrong: list[WrongComparison] = []
    for match in _COMPARATIVE.finditer(clean):
        word = (match.group("word") or match.group("verb")).lower()
        start = max([m.end() for m in _SENTENCE_END.finditer(clean, 0, match.start())], default=0)
        end_match = _SENTENCE_END.search(clean, match.end())
        end = end_match.start() if end_match else len(clean)
        before = [_amount(m) for m in _AMOUNT.finditer(clean, start, match.start())]
        after = [_amount(m) for m in _AMOUNT.finditer(clean, match.end(), end)]
        before, after = [a for a in before if a], [a for a in after if a]
        if not before or not after:
            continue
        (text_a, cur_a, a), (text_b, cur_b, b) = before[-1], after[0]
        if cur_a and cur_b and cur_a != cur_b:
            continue
        says_up = word in _UP
        if a != b and (a > b) != says_up or a == b:
            wrong.append(WrongComparison(text_a, f"{word} than" if match.group("than") else word, text_b))
    return wrong


def _amount(match: re.Match[str]) -> tuple[str, str, float] | None:
    digits = _digits(match.group("number"))
    scale = (match.group("scale") or "").lower()
    if len(digits) < _MIN_DIGITS and not scale:
        return None
    if not scale and not match.group("currency") and re.fullmatch(r"(19|20)\d\d", match.group("number")):
        return None  # a year
    try:
        number = float(match.group("number").replace(",", "").replace("'", ""))
    except ValueError:
        return None
    currency = (match.group("currency") or "").upper().replace("\u20ac", "EUR").replace("\u00a3", "GBP")
    return match.group(0).strip(), currency.replace("$", "USD"), number * _SCALES.get(scale, 1.0)


def comparison_note(wrong: list[WrongComparison]) -> str:
    """What the root is told when its answer compares two figures the wrong way round."""
    first = wrong[0]
    return (f"Check the comparison: your answer says {first.first} is {first.word} {first.second}, which is "
            "false. Compare the two figures digit by digit (or in code) and answer the whole question again "
            "with FINAL(...).")


_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d\d(?![\d,.]\d)")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?](?=\s|$)|\n|$)")
_PLAIN = frozenset("""
this that with from have were which their there about would could should these those into than then them
they what when where will also been being page document answer does each based only roughly some more less
""".split())


@dataclass(frozen=True)
class PeriodMismatch:
    """The question asks about ``asked`` years; the passage the answer rests on speaks of ``spoken``."""

    asked: tuple[str, ...]
    spoken: tuple[str, ...]
    passage: str


def period_mismatch(answer: str, outputs: Iterable[str], question: str) -> PeriodMismatch | None:
    """The answer's passage is about another year than the one the question asks about.

    "What share of 2024 revenue ..." answered with "roughly a quarter" from "Based on the accounts
    for 2023, Kestrel represents roughly a quarter of revenue": the sentence of the output that
    shares most of the answer's own words (those the question lacks) names 2023 and not 2024.
    """
    asked = set(_YEAR.findall(question))
    clean = without_source_notes(answer)
    if not asked or asked & set(_YEAR.findall(clean)):
        return None
    question_words = {w.lower() for w in _WORD.findall(question)}
    own = {w.lower() for w in _WORD.findall(clean) if len(w) > 3} - question_words - _PLAIN - _COMMON
    best: tuple[int, str] = (0, "")
    for text in outputs:
        for sentence in _SENTENCE.findall(text):
            words = {w.lower() for w in _WORD.findall(sentence)}
            shared = len(own & words)
            if shared > best[0]:
                best = (shared, sentence.strip())
    shared, passage = best
    spoken = set(_YEAR.findall(passage))
    if shared < 2 or not spoken or spoken & asked:
        return None
    if any(digits not in _digits(passage) for *_, digits in _figures(clean)):
        return None  # the answer quotes a figure that sentence does not hold: it comes from elsewhere
    return PeriodMismatch(tuple(sorted(asked)), tuple(sorted(spoken)), passage)


def period_note(mismatch: PeriodMismatch) -> str:
    """What the root is told when its answer rests on a passage about another year."""
    asked, spoken = " and ".join(mismatch.asked), " and ".join(mismatch.spoken)
    return (f"FINAL refused: the question asks about {asked}, but your answer rests on a passage about {spoken}: "
            f"\"{mismatch.passage[:300]}\". Find what the documents give for {asked}, for example:\n"
            f"for h in grep(r\"{mismatch.asked[0]}\", context_chars=200)[:8]:\n    print(h.document, h.page, h.snippet)")


_BREAK = re.compile(r"[.;!?]\s+[A-Z(\d]|\n")


def _one_sentence(text: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    """No sentence or line break between two spans of ``text``."""
    lo, hi = (a[1], b[0]) if a[1] <= b[0] else (b[1], a[0])
    return _BREAK.search(text, lo, max(lo, hi)) is None


def adds_in_writing(answer: str) -> bool:
    """True when the answer writes out a sum of three or more figures instead of computing it (a sum written
    with its right result is computed: :mod:`~rlm_desktop.engine.arithmetic` checked it)."""
    right = [(eq.start, eq.end) for eq in written_equations(answer) if eq.right]
    return any(not any(lo <= match.start() < hi for lo, hi in right) for match in _SUM_IN_WRITING.finditer(answer))


def misreading_note(misreadings: list[Misreading]) -> str:
    """What the root is told when its answer took the wrong figure of a passage: each misreading with its
    excerpt, then the figures the output gives as a list to answer from (the 1.5B, told only where each figure
    stands, wrote the same wrong pairing again)."""
    parts = [f"the output puts {m.word!r} next to {m.shown}, not {m.said} (\"...{m.excerpt}...\")"
             for m in misreadings[:2]]
    listed = "\n".join(f"- {m.word}: {m.shown}" for m in misreadings[:2])
    return ("Read the output carefully: " + "; ".join(parts) + ". A figure belongs to the words right beside "
            f"it. The output gives:\n{listed}\nAnswer the whole question again with FINAL(...), taking for each "
            "thing it asks about the figure the passage gives for that thing.")


def arithmetic_note() -> str:
    """What the root is told when its answer does arithmetic in writing."""
    return ("FINAL refused: your answer adds figures up in writing. Compute it in code: collect the amounts "
            "from the passages (for example int(re.sub(r'[^0-9]', '', m)) for each m in "
            "re.findall(r'[0-9][0-9,]*', h.snippet)), keep the ones the question asks for, add them with sum() and "
            "print the total; then answer with the printed total.")


def unresolved_notes(answer: str, outputs: Iterable[str], question: str) -> list[str]:
    """What the reading checks still find in an answer taken after its refusals, told to the user."""
    texts = [text for text in outputs if text.strip()]
    notes = [f"[Unchecked: the text the model read puts {m.word!r} next to {m.shown}, not {m.said}.]"
             for m in misread_figures(answer, texts, question)[:2]]
    notes += [f"[Unchecked: {w.first} is not {w.word} {w.second}.]" for w in wrong_comparisons(answer)[:1]]
    mismatch = period_mismatch(answer, texts, question)
    if mismatch is not None:
        notes.append(f"[Unchecked: the question asks about {' and '.join(mismatch.asked)}; this answer rests on "
                     f"a passage about {' and '.join(mismatch.spoken)}: \"{mismatch.passage[:200]}\"]")
    return notes

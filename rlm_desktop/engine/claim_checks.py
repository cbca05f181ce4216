"""Is a verdict on whether a document states something correctly checked against another source?

"Does the memo state the Kestrel revenue share correctly?" cannot be answered from the memo
alone: what it says has to be compared with what some other document (a schedule, a table,
an agreement) gives. A small root model reads the memo, finds the sentence, and answers "Yes".
When a yes/no question asks whether something is correct, accurate or consistent, the answer
is a verdict, and every passage the run printed came from one document while the context has
others, the FINAL is refused with a search of the other documents to run (see engine/loop.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rlm_desktop.documents import Context
from rlm_desktop.engine.grounding import without_source_notes
from rlm_desktop.engine.named_documents import key_words, named_documents
from rlm_desktop.sandbox.categories import QUOTED_NAME
from rlm_desktop.sandbox.relevance import question_only

_CHECK_QUESTION = re.compile(
    r"^\W*(?:does|do|did|is|are|was|were|has|have)\b.*\b(?:correct(?:ly)?|accurate(?:ly)?|right(?:ly)?|true|"
    r"consistent|match(?:es)?|agrees?|wrong(?:ly)?|incorrect(?:ly)?|misstate[sd]?)\b", re.IGNORECASE)
_VERDICT = re.compile(r"^\W*(?:yes|no|correct|incorrect|true|false|it does|it is)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_NOT_KEY = frozenset("""
does do did is are was were has have the a an of in on to for by with and or its it this that what which
correct correctly accurate accurately right rightly true consistent match matches agree agrees wrong wrongly
incorrect incorrectly misstate misstates misstated state states stated say says said give gives given
report reports reported describe describes described mention mentions mentioned figure figures
""".split())


def is_check_question(question: str) -> bool:
    """True for a yes/no question on whether something is correct, accurate or consistent."""
    return _CHECK_QUESTION.match(question) is not None


def documents_read(hits: Iterable[dict], outputs: Sequence[str]) -> set[str]:
    """The documents the run read: tables read with table(), and the hit documents some output names
    (all hit documents when no output names one)."""
    hits = [hit for hit in hits if hit.get("document")]
    named = {str(hit["document"]) for hit in hits}
    text = "\n".join(outputs)
    printed = {name for name in named if name in text}
    tables = {str(hit["document"]) for hit in hits if hit.get("source") == "table"}
    return (printed | tables) or named


def one_source_verdict(answer: str, question: str, read: set[str], document_count: int) -> str | None:
    """The one document a verdict on a "is it stated correctly?" question rests on, when no other was read."""
    if document_count < 2 or len(read) != 1 or not _CHECK_QUESTION.match(question):
        return None
    if not _VERDICT.match(without_source_notes(answer)):
        return None
    return next(iter(read))


def one_source_note(document: str, question: str) -> str:
    """What the root is told: compare with another document, and a search that excludes this one."""
    name_words = {w.lower() for w in re.findall(r"[A-Za-z]+", document)}
    keys = [w for w in _WORD.findall(question) if w.lower() not in _NOT_KEY and w.lower() not in name_words]
    query = " ".join(dict.fromkeys(keys)) or "the fact in question"
    return (f"FINAL refused: you have read only {document}. Whether what it says is correct can only be judged "
            "against another source: find the same fact in the other documents, print it, and compare. "
            f"For example:\nfor h in search(\"{query}\", k=10):\n    if h.document != \"{document}\":\n"
            "        print(h.document, h.page, h.snippet)")


_AGREES = re.compile(r"^\W*(?:yes|correct|true|it does|it is)\b", re.IGNORECASE)
_ANSWER_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class UnsaidFigures:
    """A "yes, it is correct" verdict on a named document, with figures the document does not give."""

    document: str
    figures: list[str]
    sentences: list[str]  # what the document says of the question's key words


_DISAGREES = re.compile(r"\b(?:do|does|did)\s+not\s+(?:agree|match|correspond)|\bdisagree|\bdiffer|\binconsistent\b|"
                        r"\bnot\s+(?:correct|accurate|consistent|the\s+same)\b|\bincorrect|\bmismatch", re.IGNORECASE)


def contradicted_verdict(answer: str, question: str) -> bool:
    """True when a check question's answer says "Yes" (it is correct) and, in the same answer, that the two
    sources do not agree: "Yes, the memo states it correctly. The memo says a quarter, the table 31.6%. The two
    do not agree." (the 1.5B, three times in one run)."""
    plain = without_source_notes(answer)
    return is_check_question(question) and bool(_AGREES.match(plain)) and bool(_DISAGREES.search(plain))


def contradicted_verdict_note() -> str:
    """What the root is told when its "Yes" answer says the sources disagree."""
    return ("FINAL refused: your answer begins with Yes (it is correct) but also says the two do not agree. When what "
            "the document says differs from the other source, the answer is No. Write the answer again, giving both.")


def unsaid_agreement(answer: str, question: str, context: Context | None) -> UnsaidFigures | None:
    """A verdict that the document a check question names is right, resting on figures that document never
    gives: "Yes, the memo states the Kestrel share correctly (31.6%)" where the memo says "roughly a quarter".
    The figure came from the other source; whether the document agrees with it is still to be judged."""
    if context is None or not is_check_question(question):
        return None
    plain = without_source_notes(answer)
    if not _AGREES.match(plain):
        return None
    named = named_documents(question, context)
    if len(named) != 1:
        return None
    document = named[0][1]
    figures = [figure for figure in dict.fromkeys(_ANSWER_FIGURE.findall(plain)) if figure not in document.text]
    if not figures:
        return None
    keys = [word.lower() for word in key_words(question, document)]
    sentences = [sentence.strip() for sentence in re.split(r"(?<=[.!?])\s+|\n", document.text) if sentence.strip()]
    ranked = sorted((s for s in sentences if any(key in s.lower() for key in keys)),
                    key=lambda s: -sum(key in s.lower() for key in keys))
    return UnsaidFigures(document.name, figures, ranked[:2])


def unsaid_agreement_note(unsaid: UnsaidFigures) -> str:
    """What the root is told: the document does not give the answer's figure; what it does say."""
    figures = ", ".join(unsaid.figures)
    said = " ".join(f'"{sentence}"' for sentence in unsaid.sentences) or "nothing of it"
    return (f"FINAL refused: you answered that {unsaid.document} is correct, but {unsaid.document} does not give "
            f"{figures}. What it says is: {said}. Compare what it says with {figures} and answer again: Yes only "
            "if they agree, else No, giving both.")


_ONE_OF = re.compile(r"\banswer (?:only )?with (?:exactly )?one of\s*:?\s*([^.?!\n]+)", re.IGNORECASE)


def asked_options(question: str) -> list[str]:
    """The answers a question allows when it lists them ("Answer with exactly one of: more common, less common,
    same frequency."), else []."""
    match = _ONE_OF.search(question)
    if not match:
        return []
    options = [o.strip(" '\"") for o in re.split(r",|\bor\b", match.group(1)) if o.strip(" '\"")]
    return options if 2 <= len(options) <= 8 else []


def off_form_answer(answer: str, question: str) -> tuple[list[str], str | None] | None:
    """(the options, the one the answer holds or None) when the question lists the answers it allows and the
    answer is not one of them as written: "entity is more common than location." for "more common"."""
    options = asked_options(question)
    plain = without_source_notes(answer).strip().strip(".").strip()
    if not options or plain.casefold() in {o.casefold() for o in options}:
        return None
    held = [o for o in options if re.search(r"\b" + re.escape(o) + r"\b", plain, re.IGNORECASE)]
    return options, (held[0] if len(held) == 1 else None)


def off_form_note(options: list[str], held: str | None) -> str:
    """What the root is told when its answer is not one of the answers the question allows."""
    listed = ", ".join(options)
    hint = f" Your answer says {held!r}: if that is what you mean, answer FINAL({held})." if held else ""
    return f"FINAL refused: the question asks for exactly one of: {listed}.{hint}"


_AGGREGATE_QUESTION = re.compile(r"\b(?:how many|how often|number of|most (?:frequent|common)|"
                                 r"least (?:frequent|common)|more common|less common)\b", re.IGNORECASE)
_FIRST_FIGURE = re.compile(r"\d[\d,]*")
_NONZERO_AFTER = re.compile(r"""['"]?\s*[:=,]?\s*\(?\s*0*[1-9]""")


def read_not_computed(answer: str, question: str, outputs: Sequence[str], texts: Sequence[str]) -> bool:
    """True when a count or ranking over the data is answered from the documents' own text.

    For "how many ... / which is the most frequent ..." the answer's figure (or, without one, its
    words) must stand somewhere in the output that the code computed, not only inside text printed
    from the documents: the header "Each question belongs to one of these categories: ..." names a
    category, it does not count one.
    """
    if not _AGGREGATE_QUESTION.search(question):
        return False
    plain = without_source_notes(answer).strip().rstrip(".")
    figure = _FIRST_FIGURE.search(plain)
    if not figure and _COMPARISON.search(plain):
        return False  # "less common": a comparison drawn from counts, not a count or a category read
    if figure:
        digits = figure.group(0).replace(",", "")
        pattern = re.compile(r"(?<![\d.,])" + ",?".join(digits) + r"(?![\d]|[.,]\d)")
    elif plain:
        pattern = re.compile(re.escape(plain), re.IGNORECASE)
    else:
        return False
    spots = [(output, match) for output in outputs for match in pattern.finditer(output)]
    if not figure:  # a category answered: it must come with a count above zero ("'entity': 402", not "'entity': 0")
        spots = [(output, match) for output, match in spots if _NONZERO_AFTER.match(output, match.end())]
    return all(_from_documents(output, match, texts) for output, match in spots)


_COMPARISON = re.compile(r"\b(more|less|fewer|same|equal|equally)\b", re.IGNORECASE)
_AROUND = 15  # characters on one side of an answer's spot that, with it, must be document text to count as read


def _from_documents(output: str, match: re.Match[str], texts: Sequence[str]) -> bool:
    """Whether the answer's spot in an output lies inside text printed from the documents."""
    line_start = output.rfind("\n", 0, match.start()) + 1
    line_end = output.find("\n", match.end())
    line_end = len(output) if line_end < 0 else line_end
    before = output[max(line_start, match.start() - _AROUND):match.end()].lstrip()
    after = output[match.start():min(line_end, match.end() + _AROUND)].rstrip()
    spans = [span for span in (before, after) if len(span) >= len(match.group(0)) + 6]
    return any(span in text for span in spans for text in texts)


def computed_answer_note() -> str:
    """What the root is told when it answers a count or ranking from the documents' own text."""
    return ("FINAL refused: the question asks for a count or a ranking over the data, and your answer is read "
            "from the documents' own text, not computed. Compute it in code and print the result: collect the "
            "items, and where what is counted is not written in them, classify() them with one example per "
            "label and count the labels with collections.Counter. Then answer from the printed counts.")


def not_computed_warning() -> str:
    """Appended to a count or ranking taken after its refusals that is still read, not computed."""
    return ("[Unchecked: this count or ranking is read from the documents' own text; no computed output "
            "gives it.]")


# "Is the category 'A' more common, less common, or of the same frequency as the category 'B'?"
_TWO_COMPARED = re.compile(QUOTED_NAME + r"[^'?]*\b(?:more|less|fewer|same|as)\b[^'?]*" + QUOTED_NAME,
                           re.IGNORECASE)
_RELATION = (("same", re.compile(r"\b(same|equal(?:ly)?)\b", re.IGNORECASE)),
             ("less", re.compile(r"\b(less|fewer|rarer)\b", re.IGNORECASE)),
             ("more", re.compile(r"\b(more|commoner)\b", re.IGNORECASE)))


def _count_in(output: str, name: str) -> int | None:
    """The count an output prints beside a category name: ('entity', 402), 'entity': 402, entity: 402."""
    found = re.findall(re.escape(name) + r"""['"]?\s*[,:=]\s*(\d[\d,]*)""", output, re.IGNORECASE)
    return int(found[-1].replace(",", "")) if found else None


def compared_counts(answer: str, question: str, outputs: Sequence[str]) -> tuple[str, int, str, int] | None:
    """(A, its count, B, its count) when ``answer`` compares two quoted categories the way round that the last
    output printing both counts contradicts ("same frequency" for 446 against 176); None otherwise."""
    pair = None
    for match in _TWO_COMPARED.finditer(question):
        pair = match.group(1), match.group(2)
    if pair is None:
        return None
    said = next((relation for relation, pattern in _RELATION if pattern.search(answer)), None)
    if said is None:
        return None
    for output in reversed(outputs):
        first, second = _count_in(output, pair[0]), _count_in(output, pair[1])
        if first is None or second is None:
            continue
        actual = "more" if first > second else "less" if first < second else "same"
        return None if actual == said else (pair[0], first, pair[1], second)
    return None


_RANK_ASKED = re.compile(r"\bwhich\b[^?]*\b(most|least)\s+(?:frequent|common|often)\b", re.IGNORECASE)
_COUNTED = re.compile(r"""\(\s*['"]([^'"\n]{1,60})['"]\s*,\s*(\d[\d,]*)\s*\)|['"]([^'"\n]{1,60})['"]\s*:\s*(\d[\d,]*)""")


def misranked(answer: str, question: str, outputs: Sequence[str]) -> tuple[str, str, dict[str, int], str] | None:
    """(the category named, the one the counts put first, the counts, "most" or "least") when ``answer`` to a "which is the most /
    least frequent" question names a category that the last output printing counts of three or more ranks
    otherwise (the 1.5B answered "location" at 244 where 'entity' was printed at 138 for the least); None
    otherwise, or where a tie or a category the question quotes but the counts leave out (none of it: 0) makes
    the ranking unsure."""
    asked = _RANK_ASKED.search(question_only(question) or question)
    if asked is None:
        return None
    for output in reversed(outputs):
        counts: dict[str, int] = {}
        for match in _COUNTED.finditer(output):
            name, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            counts[name] = int(value.replace(",", ""))
        if len(counts) < 3:
            continue
        said = [name for name in counts if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", answer, re.IGNORECASE)]
        if len(said) != 1:
            return None
        extreme = asked.group(1).lower()
        quoted = {name.casefold() for name in re.findall(QUOTED_NAME, question)}
        if extreme == "least" and quoted - {name.casefold() for name in counts}:
            return None
        best = (max if extreme == "most" else min)(counts.values())
        top = [name for name, value in counts.items() if value == best]
        return None if len(top) > 1 or top[0] == said[0] else (said[0], top[0], counts, extreme)
    return None


def misranked_note(found: tuple[str, str, dict[str, int], str]) -> str:
    """What the root is told when its "most / least frequent" answer is not the one its printed counts rank first."""
    said, top, counts, extreme = found
    return (f"Read the counts again: the output gives {said!r} {counts[said]:,}, but {top!r} {counts[top]:,}, so the "
            f"{extreme} frequent is {top!r}. Answer again with FINAL(...).")


def compared_counts_note(counts: tuple[str, int, str, int]) -> str:
    """What the root is told when its comparison contradicts the counts it printed."""
    first, a, second, b = counts
    relation = "more common than" if a > b else "less common than" if a < b else "as common as"
    return (f"Read the counts again: the output gives {first!r} {a:,} and {second!r} {b:,}, so {first!r} is "
            f"{relation} {second!r}. Answer again with FINAL(...).")

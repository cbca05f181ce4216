"""Questions over real documents that nobody on this project wrote: licence texts and Debian copyright files.

The documents and questions live in ``resources/eval/realdocs`` (``SOURCES.md`` says where each file comes
from and under which licence it is redistributed). The questions were written before any run, in the
wording a lawyer or analyst would use, each with the lines that prove its answer. Half of them are held
out: ``realdocs`` is the half used while working on the method, ``realdocs-heldout`` the half that is only
ever reported. A seed is a question's number within its half; the length is ignored (the corpus is fixed).

Scoring is mechanical: an answer must name one alternative of every expected group (a list scores the share
of its items named), must not name a tempting wrong term, must give the expected number for a count, and
must say that the documents do not state it where they do not.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from rlm_desktop.documents import Document
from rlm_desktop.eval.tasks.base import CHARS_PER_TOKEN, Instance, TaskSpec

ROOT = Path(__file__).resolve().parents[3] / "resources" / "eval" / "realdocs"
_NUMBER_WORDS = {word: number for number, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NOT_STATED = re.compile(r"\b(?:not (?:stated|mentioned|specified|given|found|addressed|answered|say)|"
                         r"(?:do|does|did) not (?:say|state|mention|specify|contain|address)|no (?:mention|statement)|"
                         r"nothing in the documents)", re.IGNORECASE)
_SOURCE_NOTE = re.compile(r"\([^()]*\)|\b[\w.-]+\.copyright\b|\bpages?\s*\d+", re.IGNORECASE)


@lru_cache(maxsize=1)
def documents() -> tuple[Document, ...]:
    """The corpus, one document per file, in name order."""
    folder = ROOT / "documents"
    if not folder.is_dir():
        raise FileNotFoundError(f"the real-document corpus is missing: {folder}")
    return tuple(Document(path.name, path.read_text(encoding="utf-8", errors="replace"))
                 for path in sorted(folder.iterdir()) if path.is_file())


@lru_cache(maxsize=1)
def _questions() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((ROOT / "questions.json").read_text(encoding="utf-8")))


def questions(held_out: bool) -> list[dict[str, Any]]:
    """The questions of one half, in file order."""
    return [q for q in _questions() if bool(q.get("held_out")) == held_out]


def _generate(held_out: bool, task: str):
    def generate(length: int, seed: int) -> Instance:
        half = questions(held_out)
        if not 0 <= seed < len(half):
            raise ValueError(f"{task} has {len(half)} questions: seeds 0 to {len(half) - 1}")
        question = half[seed]
        corpus = list(documents())
        chars = sum(len(d.text) for d in corpus)
        return Instance(task=task, length=length, seed=seed, question=question["question"], context=corpus,
                        answer=json.dumps(question["expect"], sort_keys=True), kind="realdocs",
                        meta={"question_kind": question["kind"], "id": question["id"],
                              "evidence": question.get("evidence", []), "expect": question["expect"],
                              "corpus_tokens": chars // CHARS_PER_TOKEN, "documents": len(corpus)})
    return generate


def says_not_stated(answer: str) -> bool:
    """Whether an answer says the documents do not answer the question."""
    return _NOT_STATED.search(answer) is not None


def numbers_in(answer: str) -> set[int]:
    """The whole numbers an answer gives, in digits or words, leaving out file names and page notes."""
    text = _SOURCE_NOTE.sub(" ", answer)
    text = re.sub(r"\b[A-Za-z]+-\d+(?:\.\d+)*\+?", " ", text)  # licence names: GPL-3, LGPL-2.1
    found = {int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return found


def _flat(text: str) -> str:
    """``text`` as the scorer compares it: case, spacing and a comma or colon between words aside
    ("June, 1991" writes "June 1991")."""
    return " ".join(re.sub(r"[,;:](?=\s)", " ", text.casefold()).split())


def score_answer(expect: dict[str, Any], answer: str) -> float:
    """1.0 for a right answer, 0.0 for a wrong one; a list scores the share of its items named."""
    said = _flat(answer)
    if expect.get("not_stated"):
        return 1.0 if says_not_stated(answer) else 0.0
    if says_not_stated(answer[:80]):  # an answer that opens by saying the documents do not answer is no answer
        return 0.0
    if any(term.casefold() in said for term in expect.get("none", [])):
        return 0.0
    if "number" in expect:
        return 1.0 if int(expect["number"]) in numbers_in(answer) else 0.0
    groups = expect.get("all", [])
    if not groups:
        return 0.0
    named = sum(1 for group in groups if any(_flat(alt) in said for alt in group))
    if expect.get("partial", len(groups) > 2):
        return named / len(groups)
    return 1.0 if named == len(groups) else 0.0


def score(instance: Instance, prediction: str) -> float:
    return score_answer(instance.meta["expect"], prediction)


def citation_precision(instance: Instance, citations: list[dict[str, Any]]) -> float | None:
    """The share of an answer's citations whose page holds a line of the question's evidence; None when the
    question has no evidence lines (a question the documents do not answer) or the answer cites nothing."""
    lines = [e for e in instance.meta.get("evidence", []) if e.get("line")]
    if not lines or not citations:
        return None
    by_name = {d.name: d for d in instance.context}
    good = 0
    for citation in citations:
        document = by_name.get(str(citation.get("document")))
        if document is None:
            continue
        number = int(citation.get("page") or 1)
        if not 1 <= number <= document.page_count:
            continue
        page = document.page_text(number)
        flat = " ".join(page.split()).casefold()
        if any(e["file"] == document.name and " ".join(str(e.get("text", "")).split()).casefold() in flat
               for e in lines):
            good += 1
    return good / len(citations)


TASK = TaskSpec(name="realdocs", description="Lawyers' questions over real licence and copyright files (tuning half)",
                generate=_generate(False, "realdocs"), score=score, sized=False,
                citation_precision=citation_precision)
HELD_OUT_TASK = TaskSpec(name="realdocs-heldout",
                         description="Lawyers' questions over real licence and copyright files (held-out half)",
                         generate=_generate(True, "realdocs-heldout"), score=score, sized=False,
                         citation_precision=citation_precision)

"""Every check a written answer goes through before the loop takes it, in order.

Each check judges the answer against what the run's output showed (figures, names, comparisons, the
passages it read), never against how the question is worded. The first check that objects refuses the
FINAL: its note tells the root why, and says what the next turn must be ("code": search or compute
first; "again": answer the same output again, the refused answer taken back; "read": the same, after
the engine has printed what the note points to). The loop caps how many
refusals a run gets (engine/loop.py); an answer taken after that carries one plain sentence for the
user (:data:`UNCONFIRMED_SENTENCE`), and the details go to the trajectory (:func:`unchecked_details`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rlm_desktop.documents import Context
from rlm_desktop.engine.grounding import (echo_answer_note, new_names, repeats_question, unchecked_answer_note,
                                          ungrounded_final_note, unsupported_figures, unsupported_names)
from rlm_desktop.engine.arithmetic import wrong_sum_note
from rlm_desktop.engine.denied_mentions import (denied_but_shown, denied_mention_note, denied_results_note,
                                                denies_printed_results, read_more_code)
from rlm_desktop.engine.reading_checks import (adds_in_writing, arithmetic_note, comparison_note, misread_figures,
                                               misreading_note, period_mismatch, period_note, unresolved_notes,
                                               unseen_subject_note, unseen_subjects, unshown_name_note,
                                               unshown_question_names, wrong_comparisons)

UNCONFIRMED_SENTENCE = ("The checks could not confirm every part of this answer against the documents; "
                        "read the cited pages before relying on it.")
_SEARCHING = ("grep", "search", "ask_pages", "ask", "extract", "filter", "table")
_NOT_STATED = re.compile(r"\b(?:not (?:stated|mentioned|specified|given|found|addressed|answered)|"
                         r"(?:do|does) not (?:say|state|mention|specify)|no (?:document|passage|mention)|"
                         r"nicht (?:angegeben|genannt|erw[aä]hnt)|non (?:indiqu|mentionn|pr[ée]cis))", re.IGNORECASE)


@dataclass(frozen=True)
class Seen:
    """What a run has seen, as the checks need it."""

    cells: Sequence[tuple[str, str]]   # (code, output) of every cell run
    outputs: Sequence[str]             # the non-empty outputs
    hits: Sequence[dict[str, Any]]     # grep/search/operator hits, with their documents
    texts: Sequence[str]               # the documents' texts
    context: Context | None            # the documents
    searched_empty: bool               # the last cell searched and found nothing


@dataclass(frozen=True)
class Objection:
    """Why a written answer is refused and what the next turn must be."""

    note: str
    next_turn: str                     # "code", "again", or "read": run ``code`` for the root, then "again"
    code: str = ""                     # for "read": what the engine runs and shows before the answer is redone


def says_not_stated(answer: str) -> bool:
    """Whether an answer says the documents do not answer the question ("Not stated in the documents")."""
    return _NOT_STATED.search(answer[:300]) is not None


def objection(answer: str, question: str, seen: Seen) -> Objection | None:
    """The first objection of the checks to ``answer``, or None when every check accepts it."""
    if says_not_stated(answer):
        return _unsearched(seen) or _denies_output(answer, seen)
    wrong_sum = wrong_sum_note(answer)
    if wrong_sum:  # an answer's own working is wrong: it needs its sum redone before anything else
        return Objection(wrong_sum, "again")
    names = unsupported_names(answer, seen.cells, question)
    unseen = unsupported_figures(answer, seen.cells, question) + names
    echoes = repeats_question(answer, question)
    found_any = any(hit.get("source") in _SEARCHING for hit in seen.hits)
    nothing_found = seen.searched_empty and not found_any
    if not seen.outputs or unseen or nothing_found or echoes:
        leads = new_names(list(seen.outputs)[-2:], question) if names or echoes else []  # a wrong figure needs no name
        note = ungrounded_final_note(unseen, len(seen.outputs), nothing_found=nothing_found, echoes_question=echoes,
                                     leads=leads)
        return Objection(note, "code")
    unshown = unshown_question_names(question, seen.outputs)
    if unshown:
        return Objection(unshown_name_note(unshown), "code")
    if adds_in_writing(answer):
        return Objection(arithmetic_note(), "code")
    unseen_words = unseen_subjects(answer, seen.outputs, question)
    if unseen_words:
        return Objection(unseen_subject_note(unseen_words, question), "code")
    misread = misread_figures(answer, seen.outputs, question)
    if misread:  # the passage is already on screen: the answer needs rereading, not more code
        return Objection(misreading_note(misread), "again")
    mismatch = period_mismatch(answer, seen.outputs, question)
    if mismatch is not None:
        return Objection(period_note(mismatch), "code")
    wrong = wrong_comparisons(answer)
    if wrong:
        return Objection(comparison_note(wrong), "again")
    return None


def _unsearched(seen: Seen) -> Objection | None:
    """A "not stated" answer stands once the run has looked and read: some search or map of the documents
    returned passages. Searches that failed or found nothing prove nothing about the documents: a small
    root answers "not stated" right after a regex of two exact words ("size limit") that the text words
    otherwise, or after its own call raised a TypeError."""
    if any(hit.get("source") in _SEARCHING for hit in seen.hits):
        return None
    searched = any(re.search(rf"(?<![\w.])(?:{'|'.join(_SEARCHING)})\s*\(", code) for code, _ in seen.cells)
    if not searched:
        return Objection("FINAL refused: you have not searched the documents yet, so you cannot know that they "
                         "do not say. Search for the key words of the question first (grep, search or extract).",
                         "code")
    return Objection("FINAL refused: no search so far has returned a passage (each one failed or found nothing), "
                     "so you cannot know that the documents do not say. Rank passages by the question's key "
                     "words and read them, e.g.\nfor h in search(\"two or three key words\", k=5):\n"
                     "    print(h.document, h.page, h.snippet)", "code")


def _denies_output(answer: str, seen: Seen) -> Objection | None:
    """A "not stated" answer that says a search found nothing, or that the documents do not mention a term,
    when the output printed passages or that term."""
    shown = denies_printed_results(answer, seen.hits, seen.outputs[-1]) if seen.outputs else []
    if shown:  # the passages are on screen: the answer needs rereading, not more code
        return Objection(denied_results_note(shown), "again")
    denied = denied_but_shown(answer, seen.hits, seen.outputs)
    if denied is None:
        return None
    # The engine prints more of that page itself: told to, the root printed it and wrote its refused answer
    # again beside it, turn after turn.
    return Objection(denied_mention_note(denied), "read", read_more_code(denied))


def contradiction(answer: str, question: str) -> Objection | None:
    """An answer at odds with itself: a comparison its own figures deny ("EUR 4,850,000 is larger than EUR
    6,000,000"). Unlike the other checks, this cannot be wrong about the answer, so the loop refuses it once
    more after its cap."""
    wrong = wrong_comparisons(answer)
    return Objection(comparison_note(wrong), "again") if wrong else None


def unchecked_details(answer: str, question: str, seen: Seen) -> list[str]:
    """What the checks still find in an answer taken after its refusals: the details for the trajectory."""
    if says_not_stated(answer):
        return []
    unseen = unsupported_figures(answer, seen.cells, question) + unsupported_names(answer, seen.cells, question)
    notes = ([unchecked_answer_note(unseen)] if unseen else []) + unresolved_notes(answer, seen.outputs, question)
    if repeats_question(answer, question):
        notes.append(echo_answer_note())
    notes += [f"[Unchecked: nothing the model read mentions {name}.]"
              for name in unshown_question_names(question, seen.outputs)]
    return notes

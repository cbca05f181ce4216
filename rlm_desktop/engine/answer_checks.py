"""Every check a written answer goes through before the loop takes it, in order.

The first check that objects refuses the FINAL: its note tells the root why, and says what the next
turn must be ("code": search or compute first; "again": answer the same output again, the refused
answer taken back). The checks themselves live in ``grounding``, ``reading_checks`` and
``claim_checks``; this module only orders them and gathers what the run has seen. The loop caps
how many refusals a run gets (engine/loop.py); an answer taken after that carries the warnings of
:func:`unchecked_notes`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rlm_desktop.documents import Context
from rlm_desktop.engine import prompts
from rlm_desktop.engine.claim_checks import (compared_counts, compared_counts_note, computed_answer_note,
                                             contradicted_verdict, contradicted_verdict_note, documents_read,
                                             misranked, misranked_note, not_computed_warning, off_form_answer,
                                             off_form_note, one_source_note, one_source_verdict, read_not_computed,
                                             unsaid_agreement, unsaid_agreement_note)
from rlm_desktop.engine.grounding import (echo_answer_note, figure_only, figure_only_note, new_names,
                                          repeats_question, unchecked_answer_note, ungrounded_final_note,
                                          unsupported_figures, unsupported_names)
from rlm_desktop.engine.reading_checks import (adds_in_writing, arithmetic_note, comparison_note, misread_figures,
                                               misreading_note, period_mismatch, period_note, unresolved_notes,
                                               unseen_subject_note, unseen_subjects, unshown_name_note,
                                               unshown_question_names, wrong_comparisons)
from rlm_desktop.sandbox.parties import party_request
from rlm_desktop.sandbox.relevance import question_only


@dataclass(frozen=True)
class Seen:
    """What a run has seen, as the checks need it."""

    cells: Sequence[tuple[str, str]]   # (code, output) of every cell run
    outputs: Sequence[str]             # the non-empty outputs
    hits: Sequence[dict[str, Any]]     # grep/search/table hits, with their documents
    texts: Sequence[str]               # the documents' texts
    context: Context | None            # the documents
    searched_empty: bool               # the last cell searched and found nothing


@dataclass(frozen=True)
class Objection:
    """Why a written answer is refused, what the next turn must be, and a call the loop runs with the refusal."""

    note: str
    next_turn: str                     # "code" or "again"
    pending_call: str | None = None    # a share_of() call for a percentage never computed (prompts.share_call)


def objection(answer: str, question: str, seen: Seen) -> Objection | None:
    """The first objection of the checks to ``answer``, or None when every check accepts it."""
    names = unsupported_names(answer, seen.cells, question)
    unseen = unsupported_figures(answer, seen.cells, question) + names
    echoes = repeats_question(answer, question)
    found_any = any(hit.get("source") in ("grep", "search", "ask_pages", "total_of", "party_of") for hit in seen.hits)
    nothing_found = seen.searched_empty and not found_any
    if not seen.outputs or unseen or nothing_found or echoes:
        leads = new_names(list(seen.outputs)[-2:], question) if names or echoes else []  # a wrong figure needs no name
        note = ungrounded_final_note(unseen, len(seen.outputs), nothing_found=nothing_found, echoes_question=echoes,
                                     leads=leads)
        return Objection(note, "code", prompts.share_call(answer, unseen, seen.context) or given_call(question, seen))
    unshown = unshown_question_names(question, seen.outputs)
    if unshown:
        return Objection(unshown_name_note(unshown), "code")
    parties = party_objection(answer, question, seen)
    if parties is not None:
        return parties
    if figure_only(answer, question):
        return Objection(figure_only_note(question), "again")
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
    form = off_form_answer(answer, question)
    if form is not None:
        return Objection(off_form_note(*form), "again")
    counts = compared_counts(answer, question, seen.outputs)
    if counts is not None:
        return Objection(compared_counts_note(counts), "again")
    ranked = misranked(answer, question, seen.outputs)
    if ranked is not None:
        return Objection(misranked_note(ranked), "again")
    wrong = wrong_comparisons(answer)
    if wrong:
        return Objection(comparison_note(wrong), "again")
    single = one_source_verdict(answer, question, documents_read(seen.hits, seen.outputs), len(seen.texts))
    if single is not None:
        return Objection(one_source_note(single, question), "code")
    if contradicted_verdict(answer, question):
        return Objection(contradicted_verdict_note(), "again")
    unsaid = unsaid_agreement(answer, question, seen.context)
    if unsaid is not None:  # what the document says is quoted in the note: the answer needs rereading
        return Objection(unsaid_agreement_note(unsaid), "again")
    if read_not_computed(answer, question, seen.outputs, seen.texts):
        return Objection(computed_answer_note(), "code")
    return None


def given_call(question: str, seen: Seen) -> str | None:
    """The total_of()/party_of() line the question's first message gave, when no cell has run such a call yet
    (the 1.5B answered a total with a guess, then searched by hand, without running it)."""
    if seen.context is None or any("total_of(" in code or "party_of(" in code for code, _ in seen.cells):
        return None
    given = prompts.total_program(question, seen.context) or prompts.party_program(question, seen.context)
    return given[-1].split("\n")[1] if given else None


def party_objection(answer: str, question: str, seen: Seen) -> Objection | None:
    """For a question asking which parties (``party_request``), the refusal of an answer that names none of the
    parties the last ``party_of()`` call printed (the 1.5B answered with the documents' names instead), or only
    some of them (it listed 2 of the 7 printed); None otherwise."""
    found = _printed_parties(question, seen)
    missing = [party for party in found if not _names(answer, party)]
    if not missing:
        return None
    if len(missing) == len(found):
        return Objection(unnamed_parties_note(found), "again")
    return Objection(left_out_parties_note(missing), "again")


def _printed_parties(question: str, seen: Seen) -> list[str]:
    """The parties the run's last party_of() call printed, for a question asking which parties; [] otherwise."""
    hits = [hit for hit in seen.hits if hit.get("party")]
    if not hits or party_request(question_only(question) or question, seen.texts) is None:
        return []
    last = hits[-1].get("party_call")
    return list(dict.fromkeys(str(hit["party"]) for hit in hits if hit.get("party_call") == last))


_LEGAL_FORM = re.compile(r"[\s,]+(?:plc|gmbh|inc|ltd|llc|llp|ag|se|ab|oy|as|a/s|s\.?a|b\.?v|n\.?v|s\.?p\.?a|s\.?a\.?s|"
                         r"s\.?r\.?l|limited|corp(?:oration)?|co)\.?$", re.IGNORECASE)


def _names(answer: str, party: str) -> bool:
    """Whether ``answer`` names ``party``, with or without its legal form ("Harrow Chemicals" for "Harrow
    Chemicals plc"), case and spacing aside."""
    said = " ".join(answer.casefold().split())
    core = _LEGAL_FORM.sub("", " ".join(party.split())).casefold()
    return bool(core) and core in said


def unnamed_parties_note(parties: list[str]) -> str:
    """What the root is told when its answer to "which parties" names none of the parties party_of() printed."""
    listed = "; ".join(parties[:12])
    return (f"Answer with the parties' names, not the documents': party_of() printed {listed}. Write them in "
            "FINAL(...), each with its document.")


def left_out_parties_note(parties: list[str]) -> str:
    """What the root is told when its answer to "which parties" names only some of the parties party_of() printed."""
    listed = "; ".join(parties[:12])
    return (f"Your answer leaves out parties that party_of() printed: {listed}. Answer with every name it printed, "
            "each with its document, in FINAL(...).")


def contradiction(answer: str, question: str) -> Objection | None:
    """An answer at odds with itself: a comparison its own figures deny ("EUR 4,850,000 is larger than EUR
    6,000,000"), or a "Yes, it is correct" that says the two sources do not agree. Unlike the other checks,
    these cannot be wrong about the answer, so the loop refuses them once more after its cap."""
    wrong = wrong_comparisons(answer)
    if wrong:
        return Objection(comparison_note(wrong), "again")
    if contradicted_verdict(answer, question):
        return Objection(contradicted_verdict_note(), "again")
    return None


def unchecked_notes(answer: str, question: str, seen: Seen) -> str:
    """Warnings for the user about an answer taken after its refusals that the checks still object to."""
    unseen = unsupported_figures(answer, seen.cells, question) + unsupported_names(answer, seen.cells, question)
    notes = ([unchecked_answer_note(unseen)] if unseen else []) + unresolved_notes(answer, seen.outputs, question)
    if repeats_question(answer, question):
        notes.append(echo_answer_note())
    if read_not_computed(answer, question, seen.outputs, seen.texts):
        notes.append(not_computed_warning())
    notes += [f"[Unchecked: nothing the model read mentions {name}.]"
              for name in unshown_question_names(question, seen.outputs)]
    return "".join(f"\n\n{note}" for note in notes)

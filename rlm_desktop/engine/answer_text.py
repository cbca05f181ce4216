"""The answer as the user reads it: plain prose, without the app's own notes to the model.

A small root sometimes copies a sentence of the feedback it was given ("That is not proof of absence: try
one distinctive word ...") into its FINAL. Such a sentence is an instruction to the model, not a finding
about the documents, so it is dropped; a sentence that is also in the documents' printed text stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rlm_desktop.backends.base import Message

# A sentence ends at . ! or ? before a space or the end, or at a line break: "MPL 1.1" and "e.g." do not
# end one (splitting them left "MPL 1. 1" and a stray "g." in the answer once a copied note was dropped).
_SENTENCE = re.compile(r"(?:\b(?:e\.g|i\.e)\.|[^.!?\n]|[.!?](?!\s|$))+(?:[.!?]+(?=\s|$))?")
_OUTPUT_BLOCK = re.compile(r"```text\n.*?```", re.DOTALL)
_MIN_WORDS = 5  # a short phrase ("found nothing.") is as likely the model's own words


def _flat(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def app_notes(messages: Sequence[Message]) -> list[str]:
    """The text the app itself wrote to the root after its question: user turns without their output blocks."""
    starts = [i for i, m in enumerate(messages) if m.get("role") == "user" and "New question:" in str(m.get("content"))]
    after = messages[starts[-1] + 1:] if starts else []
    return [_OUTPUT_BLOCK.sub(" ", str(m.get("content", ""))) for m in after if m.get("role") == "user"]


def without_copied_notes(answer: str, notes: Iterable[str], printed: Iterable[str]) -> str:
    """``answer`` less the sentences of at least five words copied from ``notes`` and found in no ``printed``
    output; the answer unchanged when nothing would be left."""
    notes_flat = " ".join(_flat(n) for n in notes)
    printed_flat = " ".join(_flat(p) for p in printed)
    kept, dropped = [], False
    for sentence in _SENTENCE.findall(answer):
        words = _flat(sentence)
        if len(words.split()) >= _MIN_WORDS and words in notes_flat and words not in printed_flat:
            dropped = True
            continue
        kept.append(sentence)
    if not dropped:
        return answer
    cleaned = re.sub(r"\s+([.,;:])", r"\1", " ".join(s.strip() for s in kept)).strip()
    return cleaned or answer

"""The documents a question names by their file names ("the diligence memo" is 05_diligence_memo.md).

A question such as "Does the diligence memo state the Kestrel revenue share correctly?" is about
what one document says. The 1.5B root computed the share from the revenue table and answered
without ever printing a line of the memo; given a block that greps the memo and computes the share,
it reads both (engine/prompts.check_program). (Telling the root which document any question names,
with a grep of it alone, was tried and not kept: the escrow comparison, whose second amount is in
another document, then searched only the named one.)
"""

from __future__ import annotations

import re

from rlm_desktop.documents import Context, Document
from rlm_desktop.sandbox.words import singular_word

_LETTERS = re.compile(r"[a-z]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
# words of file names that name a kind of document, not one document
_GENERIC = frozenset("""
agreement agreements contract contracts document documents report reports file files data final draft copy signed
scan scanned notes version the and for with of by to in on txt md csv pdf docx xlsx
""".split())
_NOT_KEY = frozenset("""
does did what which when where whose that this there their than more less state states stated correct correctly
accurate accurately right rightly true consistent match matches agree agrees wrong wrongly incorrect incorrectly
with from into about have been being were they them
""".split())
MAX_NAMED = 2       # a question that seems to name more is naming kinds of documents, not documents
MAX_KEYS = 4


def name_words(name: str) -> list[str]:
    """The words of a document's file name, lower case, in order, without its extension and numbers."""
    stem = name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return [singular_word(word) for word in _LETTERS.findall(stem.lower())]


def _names(question_words: list[str], words: list[str]) -> bool:
    """True when two or more consecutive words of the file name stand together in the question, one of
    them not a generic word ("share purchase agreement", "diligence memo"; not "agreement" alone)."""
    for size in range(len(words), 1, -1):
        for start in range(len(words) - size + 1):
            run = words[start:start + size]
            if all(word in _GENERIC for word in run):
                continue
            for at in range(len(question_words) - size + 1):
                if question_words[at:at + size] == run:
                    return True
    return False


def named_documents(question: str, context: Context) -> list[tuple[int, Document]]:
    """(index in ``context``, document) of each document the question names by its file name."""
    if isinstance(context, str):
        return []
    question_words = [singular_word(word) for word in _LETTERS.findall(question.lower())]
    named = [(index, item) for index, item in enumerate(context)
             if isinstance(item, Document) and _names(question_words, name_words(item.name))]
    return named if len(named) <= MAX_NAMED else []


def key_words(question: str, document: Document) -> list[str]:
    """Words of the question, not of the document's name, that the document's text contains (names first)."""
    own = set(name_words(document.name))
    text = document.text.lower()
    words: list[str] = []
    for word in _WORD.findall(question):
        lowered = word.lower().strip("'-")
        if lowered.endswith("'s"):
            lowered, word = lowered[:-2], word[:-2]
        if len(lowered) < 4 or lowered in _NOT_KEY or singular_word(lowered) in own or word in words:
            continue
        if lowered in text:
            words.append(word)
    return sorted(words, key=lambda w: not w[0].isupper())[:MAX_KEYS]


def reading_lines(question: str, context: Context) -> list[tuple[Document, str]]:
    """For each document the question names that holds some of its key words: (document, the grep loop that
    prints what it says of them)."""
    lines = []
    for index, document in named_documents(question, context):
        keys = key_words(question, document)
        if keys:
            pattern = "|".join(re.escape(word) for word in keys)
            loop = f"for h in grep(r\"{pattern}\", context[{index}]):\n    print(h.document, h.page, h.snippet)"
            lines.append((document, loop))
    return lines


def other_sources_lines(question: str, document: Document) -> str:
    """The search of the other documents for the question's key words (the second source of a check)."""
    own = set(name_words(document.name))
    words = [word for word in _WORD.findall(question) if len(word) >= 4 and word.lower() not in _NOT_KEY
             and singular_word(word.lower()) not in own]
    query = " ".join(dict.fromkeys(word.removesuffix("'s") for word in words))
    return (f"for h in search({query!r}, k=6):\n    if h.document != {document.name!r}:\n"
            "        print(h.document, h.page, h.snippet)")


"""Deterministic filler prose: plausible, unrelated text with no digits in it.

Used as the haystack of S-NIAH and the padding of multi-hop documents. The text
has no numbers, so a needle's number is the only one in the haystack.
"""

from __future__ import annotations

import random

_SUBJECTS = (
    "The old lighthouse keeper", "A quiet river", "The village council", "Every autumn the orchard",
    "The travelling musician", "A small bakery", "The northern railway", "Our neighbour's garden",
    "The weather on the coast", "An unfinished painting", "The morning market", "A letter from abroad",
    "The school library", "The mountain path", "A forgotten song", "The harbour master",
    "The evening tide", "A curious fox", "The stone bridge", "The clockmaker's apprentice",
)
_VERBS = (
    "remembers", "follows", "changes", "welcomes", "ignores", "describes", "outlasts", "gathers",
    "reflects", "shelters", "carries", "announces", "resembles", "answers", "collects", "crosses",
)
_OBJECTS = (
    "the long shadows of the hills", "a handful of wild berries", "the sound of distant bells",
    "stories that nobody writes down", "the colour of the late sky", "every visitor who asks politely",
    "the patience of slow seasons", "a map drawn in faded ink", "the smell of fresh bread",
    "the rhythm of the waves", "old promises and new plans", "the first frost of winter",
    "a basket of woollen scarves", "the warmth of the kitchen stove", "the quiet of empty streets",
    "the gulls above the pier", "the patterns in the sand", "a lantern left by the door",
)
_TAILS = (
    "", "", "", " without any hurry", " as it always has", " for reasons few can explain",
    " long after the others leave", " in its own careful way", " whenever the wind turns",
    " while the town sleeps", " before anyone notices",
)


def filler_sentence(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}{rng.choice(_TAILS)}."


def filler_text(rng: random.Random, chars: int, paragraph_sentences: int = 6) -> str:
    """About ``chars`` characters (never more) of digit-free prose in paragraphs."""
    parts: list[str] = []
    size = 0
    sentence_in_paragraph = 0
    while True:
        sentence = filler_sentence(rng)
        sep = "" if not parts else ("\n\n" if sentence_in_paragraph == 0 else " ")
        if size + len(sep) + len(sentence) > chars:
            break
        parts.append(sep + sentence)
        size += len(sep) + len(sentence)
        sentence_in_paragraph = (sentence_in_paragraph + 1) % paragraph_sentences
    return "".join(parts)

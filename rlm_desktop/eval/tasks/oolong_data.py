"""OOLONG-style data: dated questions from users, each with a hidden semantic label.

Like OOLONG's trec_coarse split, every entry is a general-knowledge question whose
category (location, human being, numeric value, ...) is never written in the data:
it must be inferred from the question's wording. Shared by ``oolong`` and
``oolong_pairs``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

LABELS = ("abbreviation", "entity", "description and abstract concept", "human being",
          "location", "numeric value")

_PLACES = ("Lisbon", "the Andes", "Kyoto", "Lake Tahoe", "Patagonia", "Nairobi", "the Sahara",
           "Reykjavik", "Tasmania", "the Danube", "Quebec", "Marrakesh", "Bavaria", "Cornwall")
_THINGS = ("the telescope", "the printing press", "the bicycle", "the sewing machine", "penicillin",
           "the zipper", "radar", "the barometer", "the steam engine", "the microwave oven")
_BOOKS = ("The Silent Orchard", "A Winter in Oslo", "The Glass Harbour", "Rivers of Salt",
          "The Clockmaker's Daughter", "Northern Lights", "The Last Lantern")
_ANIMALS = ("owls", "dolphins", "bees", "wolves", "penguins", "octopuses", "camels", "ants")
_CONCEPTS = ("inflation", "photosynthesis", "democracy", "entropy", "irony", "erosion",
             "metabolism", "nostalgia", "gravity", "tariffs")
_ACRONYMS = ("NATO", "UNESCO", "RADAR", "LASER", "NASA", "OPEC", "SCUBA", "HTML", "DNA", "FIFA")
_LONG_NAMES = ("the World Health Organization", "the International Monetary Fund",
               "the European Space Agency", "Greenwich Mean Time", "the Federal Reserve")

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "abbreviation": ("What does {acronym} stand for?", "What is the full form of {acronym}?",
                     "How is {long_name} usually abbreviated?", "What is {long_name} usually shortened to?"),
    "entity": ("What kind of animal is most feared by {animals}?", "What language is spoken in {place}?",
               "What colour is the flag of {place}?", "Which musical instrument did the author of {book} play?",
               "What breed of dog is most popular in {place}?", "What food are {animals} known to eat?"),
    "description and abstract concept": ("What does {concept} mean?", "Why do {animals} migrate?",
                                         "How does {concept} work?", "What is the difference between {concept} and {concept2}?",
                                         "Why is {concept} important?"),
    "human being": ("Who invented {thing}?", "Who wrote {book}?", "Who was the first mayor of {place}?",
                    "Which explorer first reached {place}?", "Who painted the famous view of {place}?"),
    "location": ("Where is {place} located?", "In which country was {thing} first built?",
                 "Where do most {animals} live?", "Which city is closest to {place}?",
                 "Where was {book} written?"),
    "numeric value": ("How many {animals} live in {place}?", "In what year was {thing} invented?",
                      "How far is {place} from the sea?", "How much did the first copy of {book} cost?",
                      "How tall is the highest peak in {place}?", "How many pages does {book} have?"),
}


@dataclass(frozen=True)
class Entry:
    date: dt.date
    user: str
    text: str
    label: str

    def render(self) -> str:
        return f"Date: {self.date:%b %d, %Y} || User: {self.user} || Instance: {self.text}"


def header(count: int) -> str:
    return (f"The following lines contain {count} general-knowledge questions, one per line, each with "
            f"a date and the id of the user who asked it. Each question belongs to exactly one of these "
            f"{len(LABELS)} categories: {', '.join(repr(l) for l in LABELS)}. The category is not written "
            "in the data; it must be inferred from the question itself.")


def task_preamble() -> str:
    """The label definitions every question repeats, so the question stands alone."""
    return ("The context lists dated questions asked by users. Each question belongs to exactly one "
            f"category: {', '.join(repr(l) for l in LABELS)}; the category is not written in the data and "
            "must be inferred from the question's wording.")


def _fill(template: str, rng: random.Random) -> str:
    concept, concept2 = rng.sample(_CONCEPTS, 2)
    return template.format(place=rng.choice(_PLACES), thing=rng.choice(_THINGS), book=rng.choice(_BOOKS),
                           animals=rng.choice(_ANIMALS), concept=concept, concept2=concept2,
                           acronym=rng.choice(_ACRONYMS), long_name=rng.choice(_LONG_NAMES))


def make_entries(rng: random.Random, budget_chars: int, users: int | None = None) -> list[Entry]:
    """Entries until ``budget_chars`` (with the header) is used; labels follow a seeded skewed mix."""
    weights = [rng.uniform(0.4, 1.6) for _ in LABELS]
    estimated = max(8, budget_chars // 95)
    user_count = users or max(6, min(100, estimated // 5))
    user_ids = [str(rng.randint(10_000, 99_999)) for _ in range(user_count)]
    start = dt.date(2022, 1, 1)
    entries: list[Entry] = []
    used = len(header(estimated)) + 1
    while True:
        label = rng.choices(LABELS, weights)[0]
        entry = Entry(date=start + dt.timedelta(days=rng.randint(0, 3 * 365)), user=rng.choice(user_ids),
                      text=_fill(rng.choice(_TEMPLATES[label]), rng), label=label)
        size = len(entry.render()) + 1
        if used + size > budget_chars and len(entries) >= 4:
            break
        entries.append(entry)
        used += size
    return entries


def render(entries: list[Entry]) -> str:
    return header(len(entries)) + "\n" + "\n".join(e.render() for e in entries)


def label_counts(entries: list[Entry]) -> Counter[str]:
    counts: Counter[str] = Counter({label: 0 for label in LABELS})
    counts.update(e.label for e in entries)
    return counts

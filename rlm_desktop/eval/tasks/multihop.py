"""Multi-document multi-hop QA (BrowseComp-Plus-like) over hundreds of generated documents.

The answer needs facts from two or three documents (acquired-by, founded-by,
born-in), surrounded by hard negatives: near-namesake companies and people with
their own full chains, failed acquisition talks, partnerships, a founder's later
home town, and many unrelated chains of the same shape. Scored by exact match.
"""

from __future__ import annotations

import random

from rlm_desktop.documents import Document
from rlm_desktop.eval.scoring import exact_match
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars
from rlm_desktop.eval.tasks.filler import filler_text

NAME = "multihop"
DOC_CHARS = 1200  # about 300 tokens a document: 8K tokens ~ 27 documents, 128K ~ 430

_SYLLABLES = ("vel", "trix", "nor", "den", "kas", "mira", "lun", "dor", "quen", "sal", "bri", "tam",
              "ost", "var", "eli", "rho", "zan", "pel", "cor", "fen", "gal", "ith", "mor", "sev")
_SUFFIXES = ("Labs", "Systems", "Holdings", "Group", "Dynamics", "Works", "Partners", "Industries")
_FIRST = ("Mira", "Tomas", "Ilse", "Ravi", "Aiko", "Bram", "Lucia", "Oren", "Nadia", "Felix", "Greta",
          "Idris", "Sana", "Jonas", "Petra", "Hugo", "Zora", "Emil", "Leila", "Victor")


class _Names:
    """Unique invented names for companies, people and towns."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _word(self, parts: int) -> str:
        if len(self.used) > 2000:  # two-syllable words run short in very long contexts
            parts += 1
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()

    def _unique(self, make) -> str:
        for _ in range(50):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of invented names")  # not reached below ~100K documents

    def company(self) -> str:
        return self._unique(lambda: f"{self._word(2)} {self.rng.choice(_SUFFIXES)}")

    def person(self) -> str:
        return self._unique(lambda: f"{self.rng.choice(_FIRST)} {self._word(2)}")

    def town(self) -> str:
        return self._unique(lambda: self._word(2) + self.rng.choice(("by", "ford", "holm", "stad", "ton")))

    def namesake_company(self, company: str) -> str:
        stem = company.split(" ")[0]
        return self._unique(lambda: f"{stem} {self.rng.choice(_SUFFIXES)}")

    def namesake_person(self, person: str) -> str:
        first, last = person.split(" ", 1)
        return self._unique(lambda: f"{first} {last}{self.rng.choice(('a', 'en', 'son', 'i'))}")


def _acquired(rng, buyer, target, year) -> str:
    return rng.choice((f"{buyer} acquired {target} in {year}.", f"In {year}, {target} was bought by {buyer}.",
                       f"{target} became part of {buyer} after an acquisition in {year}."))


def _founded(rng, person, company, year) -> str:
    return rng.choice((f"{company} was founded by {person} in {year}.", f"{person} founded {company} in {year}.",
                       f"{person} started {company} in {year} with a small team."))


def _born(rng, person, town) -> str:
    return rng.choice((f"{person} was born in {town}.", f"Born in {town}, {person} grew up near the river there."))


def _chain(rng, names: _Names, target: str | None = None) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Three documents: target acquired by buyer; buyer founded by person; person born in town."""
    target = target or names.company()
    buyer, founder, town = names.company(), names.person(), names.town()
    docs = [(target, _acquired(rng, buyer, target, rng.randint(1990, 2023))),
            (buyer, _founded(rng, founder, buyer, rng.randint(1950, 1989))),
            (founder, _born(rng, founder, town))]
    return docs, {"target": target, "buyer": buyer, "founder": founder, "town": town}


def generate(length: int, seed: int) -> Instance:
    """Documents totalling about ``length`` approximate tokens and one multi-hop question."""
    rng = random.Random(f"{NAME}:{length}:{seed}")
    names = _Names(rng)
    gold_docs, gold = _chain(rng, names)
    facts: list[tuple[str, str]] = list(gold_docs)
    # Hard negatives: a namesake company and a namesake founder with chains of their own,
    # failed talks and a partnership naming the target, and the founder's later home.
    near_docs, near = _chain(rng, names, target=names.namesake_company(gold["target"]))
    facts += near_docs
    twin = names.namesake_person(gold["founder"])
    facts += [(twin, _founded(rng, twin, names.company(), rng.randint(1950, 1989))),
              (twin, _born(rng, twin, names.town())),
              (gold["target"], f"{names.company()} held talks to acquire {gold['target']}, but the deal collapsed."),
              (gold["target"], f"{gold['target']} signed a distribution partnership with {names.company()}.")]
    facts[2] = (gold["founder"], facts[2][1] + f" {gold['founder']} later moved to {names.town()}.")
    doc_count = max(len(facts) + 3, target_chars(length) // DOC_CHARS)
    while len(facts) < doc_count:
        facts += _chain(rng, names)[0]
    facts = facts[:max(doc_count, 11)]
    rng.shuffle(facts)
    budget = target_chars(length) // len(facts)
    documents = [_document(rng, i, subject, fact, budget) for i, (subject, fact) in enumerate(facts, start=1)]
    if seed % 2 == 0:
        question = (f"In which town was the founder of the company that acquired {gold['target']} born? "
                    "Answer with the town's name only.")
        answer = gold["town"]
    else:
        question = (f"Which company was acquired by the company whose founder was born in {gold['town']}? "
                    "Answer with the company's name only.")
        answer = gold["target"]
    return Instance(task=NAME, length=length, seed=seed, question=question, context=documents,
                    answer=answer, kind="exact",
                    meta={"documents": len(documents), "chain": gold, "namesake_chain": near})


def _document(rng: random.Random, index: int, subject: str, fact: str, budget: int) -> Document:
    """A profile of ``subject`` with its fact placed among filler paragraphs."""
    title = f"Profile: {subject}\n\n"
    room = max(0, budget - len(title) - len(fact) - 4)
    before = filler_text(rng, int(room * rng.random()))
    after = filler_text(rng, room - len(before))
    body = "\n\n".join(part for part in (before, fact, after) if part)
    return Document(name=f"doc_{index:05d}.txt", text=title + body)


def score(instance: Instance, prediction: str) -> float:
    return exact_match(prediction, str(instance.answer))


TASK = TaskSpec(NAME, "Multi-hop QA over many generated documents with hard negatives (accuracy)", generate, score)

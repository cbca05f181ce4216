"""Paraphrase set: every template question of the generators, asked in five hand-written wordings.

``<task>-paraphrase`` returns exactly the context, gold answer, score kind and scorer of
``<task>`` for the same (length, seed); only the question is reworded. The slots of the
base question (key, names, labels, dates, files, options) are read back from the base
question with strict patterns (the generators are not changed), and wording number
:func:`wording_index` of that question kind is filled in with them. A base question
that no longer matches its pattern raises, so a changed template cannot pass silently.

Wording index: ``seed % 5`` for tasks whose question kind does not cycle with ``seed % 5``
(sniah, multihop, oolong_pairs). For oolong, dataroom and codeqa the kind *is*
``seed % 5``, so ``seed % 5`` would give each kind only one of its five wordings; there
the index is ``(seed + seed // 5) % 5``: seeds 0-4 still use all five wordings, and seeds
0-24 ask every kind in every wording.

Meta adds ``paraphrase_wording`` (the index), ``paraphrase_kind`` (the question kind
reworded) and ``original_question`` (the generator's wording).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

from rlm_desktop.eval.tasks import codeqa, dataroom, multihop, oolong, oolong_pairs, sniah
from rlm_desktop.eval.tasks.base import Instance, TaskSpec

SUFFIX = "-paraphrase"
WORDINGS = 5

# --------------------------------------------------------------------------- sniah

_SNIAH = (
    "I'm looking for the special magic number assigned to {key} somewhere in this text. Could you tell me "
    "what it is? Reply with just the digits.",
    "Please find the magic number the document gives for {key} and reply with that number alone, nothing else.",
    "For {key}, which special magic number does the text state? Only the number in your reply, please.",
    "Somewhere in here there's a magic number for {key}. What is it? Give me the bare number, no words.",
    "Can you pull out {key}'s special magic number from this document? Respond with the number and nothing more.",
)
_SNIAH_RE = re.compile(r"What is the special magic number for (?P<key>\S+) mentioned in the provided text\? "
                       r"Answer with the number only\.")

# --------------------------------------------------------------------------- multihop

_MULTIHOP = {
    "town": (
        "{target} was acquired by another company. Where was the founder of that acquirer born? Just give me "
        "the name of the town.",
        "Could you trace this for me: who acquired {target}, who founded that acquirer, and in what town was "
        "that founder born? Reply with only the town name.",
        "What's the birthplace (town) of the person who founded {target}'s acquirer? Town name only, please.",
        "Please identify the town where the founder of {target}'s buyer was born, and answer with just that town.",
        "Tell me the birth town of whoever founded the company that took over {target}. Nothing but the town's "
        "name in your answer.",
    ),
    "company": (
        "One company's founder was born in {town}. Which business did that company acquire? Just the company "
        "name, please.",
        "Could you tell me what company was bought by the firm founded by someone born in {town}? Reply with "
        "the company's name alone.",
        "Find the founder who was born in {town}, then the company that founder set up, then the company it "
        "acquired. Which company is that last one? Give only its name.",
        "Name the acquisition target of the company whose founder's birthplace is {town}. Answer with nothing "
        "but the company name.",
        "Which company ended up being acquired by a firm started by a founder born in {town}? Only the name of "
        "the company, please.",
    ),
}
_MULTIHOP_RE = {
    "town": re.compile(r"In which town was the founder of the company that acquired (?P<target>.+) born\? "
                       r"Answer with the town's name only\."),
    "company": re.compile(r"Which company was acquired by the company whose founder was born in (?P<town>.+)\? "
                          r"Answer with the company's name only\."),
}

# --------------------------------------------------------------------------- oolong (and its preamble)

_PREAMBLE = (
    "This data is a list of user questions, each with a date. Every question falls into exactly one of these "
    "categories: {labels}. The data doesn't state the category, so work it out from how each question is worded.",
    "Below are dated questions from users. Each one fits exactly one category out of {labels}; no category is "
    "written down, you have to infer it from the question text.",
    "You have a log of user questions with dates. The categories are {labels}, and each question has exactly "
    "one of them, though it is never labelled: judge it from the wording.",
    "The material lists user questions, each dated. None is tagged with its category, but every question "
    "sits in exactly one of {labels}, which you must infer from what it asks.",
    "Context: dated user questions. Categories (exactly one per question, not given in the data, to be "
    "inferred from the wording): {labels}.",
)
_PREAMBLE_RE = (r"The context lists dated questions asked by users\. Each question belongs to exactly one "
                r"category: (?P<labels>.+?); the category is not written in the data and must be inferred from "
                r"the question's wording\.")

_OOLONG = {
    "count": (
        "Please count how many of these questions are in the '{label}' category and give me the figure as a "
        "number.",
        "What is the number of '{label}' questions in this data? Just the number.",
        "How many of the questions would you classify as '{label}'? Give a single number.",
        "I need a count: questions whose category is '{label}'. Respond with the count as a number.",
        "Tally up the '{label}' questions across the whole data set and tell me the total as a number.",
    ),
    "count_after_date": (
        "Among the questions dated later than {date}, how many are in the '{label}' category? Give me a number.",
        "Count the '{label}' questions with a date after {date} and reply with just the number.",
        "Restricting to questions whose date falls after {date}: how many belong in '{label}'? Answer "
        "numerically.",
        "Please tell me how many '{label}' questions were asked after {date}. A number only.",
        "For the period after {date}, what's the count of questions in the category '{label}'? Respond with a "
        "number.",
    ),
    "most_frequent": (
        "Which category comes up most often across these questions? Reply with just the category's name.",
        "What is the most common category in this data? Give only its name.",
        "Across all the questions, which category has the largest number of questions? Name the category and "
        "nothing else.",
        "Please tell me the category that occurs more often than any other. Just the category name.",
        "Of the categories, which one do the most questions belong to? Answer with the name alone.",
    ),
    "least_frequent": (
        "Which category comes up least often across these questions? Reply with just the category's name.",
        "What is the rarest category in this data? Give only its name.",
        "Across all the questions, which category has the smallest number of questions? Name the category and "
        "nothing else.",
        "Please tell me the category that occurs less often than any other. Just the category name.",
        "Of the categories, which one do the fewest questions belong to? Answer with the name alone.",
    ),
    "compare": (
        "Compared with '{second}', is '{first}' more common, less common, or the same frequency in this data? "
        "Reply using one of these phrases only: more common / less common / same frequency.",
        "How does '{first}' stack up against '{second}' in how often it occurs? Say 'more common', 'less common' "
        "or 'same frequency' (for '{first}' relative to '{second}') and nothing else.",
        "Please compare how often questions fall in '{first}' versus '{second}'. Is '{first}' more common, less "
        "common, or of the same frequency? Your whole answer should be one of: more common, less common, same "
        "frequency.",
        "Relative to the '{second}' category, does '{first}' appear more often, less often, or equally often? "
        "Answer with just one of: more common, less common, same frequency.",
        "I want to know whether '{first}' questions are more common than, less common than, or as frequent as "
        "'{second}' questions. Respond with exactly 'more common', 'less common' or 'same frequency'.",
    ),
}
_OOLONG_RE = {
    "count": r"How many questions in the data belong to the category '(?P<label>[^']+)'\? Answer with a number\.",
    "count_after_date": (r"How many questions dated after (?P<date>[A-Z][a-z]{2} \d{2}, \d{4}) belong to the "
                         r"category '(?P<label>[^']+)'\? Answer with a number\."),
    "most_frequent": r"Which category is the most frequent in the data\? Answer with the category name only\.",
    "least_frequent": r"Which category is the least frequent in the data\? Answer with the category name only\.",
    "compare": (r"Is the category '(?P<first>[^']+)' more common, less common, or of the same frequency as the "
                r"category '(?P<second>[^']+)' in the data\? Answer with exactly one of: more common, less "
                r"common, same frequency\."),
}

# --------------------------------------------------------------------------- oolong_pairs

_PAIRS_FRAME = (
    "Find all pairs of users where {condition}. Give one pair per line as (lower id, higher id) and write "
    "nothing else.",
    "Which pairs of user ids satisfy this: {condition}? Put each pair on its own line in the form "
    "(lower id, higher id), with no other text.",
    "Please list all the user pairs for which {condition}. Format: one (lower id, higher id) per line, "
    "nothing besides the pairs.",
    "I need every pair of users such that {condition}. Output only the pairs, each on a separate line as "
    "(lower id, higher id).",
    "Go through the users and give me each pair of them where {condition}. One pair a line, written "
    "(lower id, higher id), and no commentary.",
)
_PAIRS_CONDITION = {
    "at_least_one": (
        "each of the two has asked one or more '{a}' questions",
        "both users have at least one question in '{a}'",
        "each user has asked a question categorised as '{a}' at least once",
        "the two users have each posed at least one '{a}' question",
        "both of them have one or more questions falling under '{a}'",
    ),
    "at_least_two": (
        "each of the two has asked two or more '{a}' questions",
        "both users have at least two questions in '{a}'",
        "each user has asked questions categorised as '{a}' at least twice",
        "the two users have each posed a minimum of two '{a}' questions",
        "both of them have two or more questions falling under '{a}'",
    ),
    "more_than": (
        "each of the two has asked more '{a}' questions than '{b}' questions",
        "for both users, their '{a}' questions outnumber their '{b}' questions",
        "each user has asked fewer questions in '{b}' than in '{a}'",
        "the two users each have a higher count of '{a}' questions than of '{b}' questions",
        "both of them asked '{a}' questions more often than '{b}' questions",
    ),
    "exclusive": (
        "one user has asked at least one '{a}' question and no '{b}' questions, while the other has asked at "
        "least one '{b}' question and no '{a}' questions",
        "one of them has questions in '{a}' but none in '{b}', and the other has questions in '{b}' but none "
        "in '{a}'",
        "one user asked one or more questions in '{a}' and zero in '{b}', and the other user asked one or more "
        "in '{b}' and zero in '{a}'",
        "the two users are opposites: one has at least one '{a}' question and no '{b}' question, the other at "
        "least one '{b}' question and no '{a}' question",
        "one of the pair asked at least one '{a}' question but never one in '{b}', and the other asked at least "
        "one '{b}' question but never one in '{a}'",
    ),
}
_PAIRS_CONDITION_RE = {
    "at_least_one": r"both users asked at least one question in the category '(?P<a>[^']+)'",
    "at_least_two": r"both users asked at least two questions in the category '(?P<a>[^']+)'",
    "more_than": (r"both users asked more questions in the category '(?P<a>[^']+)' than in the category "
                  r"'(?P<b>[^']+)'"),
    "exclusive": (r"one of the two users asked at least one question in the category '(?P<a>[^']+)' and none in "
                  r"'(?P<b>[^']+)', and the other asked at least one in '(?P=b)' and none in '(?P=a)'"),
}
_PAIRS_RE = re.compile(_PREAMBLE_RE + r" List every pair of user ids such that (?P<condition>.+)\. Write each "
                       r"pair as \(lower id, higher id\), one pair per line, and nothing else\.")

# --------------------------------------------------------------------------- dataroom

_DATAROOM = {
    "needle": (
        "How much did the buyer agree to pay into escrow?",
        "Could you find the escrow amount that was agreed with the purchaser?",
        "Under the deal with the buyer, what sum goes into escrow?",
        "Please tell me the amount of the escrow agreed with the buyer.",
        "What figure was set for the escrow in the arrangement with the buyer?",
    ),
    "date": (
        "When does our agreement with {counterparty} take effect? I need its effective date.",
        "Could you look up the {counterparty} contract's effective date?",
        "{counterparty}: what's the effective date on their agreement?",
        "Please give me the date the agreement with {counterparty} became effective.",
        "From which date is the contract with {counterparty} effective?",
    ),
    "count": (
        "How many agreements in the data room have {law} as their governing law?",
        "Count the contracts whose governing law is that of {law}, please.",
        "What number of our agreements are subject to the laws of {law}?",
        "Across all the agreements, how many choose the laws of {law} to govern them?",
        "Of all the contracts, how many are under the governing law of {law}?",
    ),
    "list": (
        "Which of our counterparties have a right to end their contract on a change of control of the company? "
        "Please name them all.",
        "List every counterparty that can terminate if the company goes through a change of control.",
        "If the company changed control, who among the counterparties could walk away from their agreement? "
        "Give me their names.",
        "Please identify, by name, all counterparties with a right to terminate on a change of control of the "
        "company.",
        "Who can terminate their agreement with us when the company is subject to a change of control? Name "
        "each counterparty.",
    ),
    "sum": (
        "How much do our {agreement_type}s add up to in annual fees, in EUR?",
        "Sum the annual fees across every {agreement_type} for me, please, in euros (EUR).",
        "What do all the {agreement_type}s cost per year combined? Give the total in EUR.",
        "Please add up the yearly fee of each {agreement_type} and tell me the combined figure in EUR.",
        "Across every {agreement_type} in the data room, what is the aggregate annual fee (EUR)?",
    ),
}
_DATAROOM_RE = {
    "needle": r"What is the escrow amount agreed with the buyer\?",
    "date": r"What is the effective date of the agreement with (?P<counterparty>.+)\?",
    "count": r"How many of the agreements are governed by the laws of (?P<law>.+)\?",
    "list": (r"Which counterparties may terminate their agreement if the company undergoes a change of control\? "
             r"List their names\."),
    "sum": r"What is the total annual fee payable under all (?P<agreement_type>.+)s, in EUR\?",
}

# --------------------------------------------------------------------------- codeqa

_CODEQA_INTRO = (
    "What follows is Python standard-library source: {files} files, from the packages {packages}.",
    "I've pasted {files} source files taken from the Python standard library (packages {packages}).",
    "These {files} files are real Python standard library code, drawn from: {packages}.",
    "Context: source of {files} Python stdlib files, covering the packages {packages}.",
    "You are looking at the code of {files} files shipped with Python, from the packages {packages}.",
)
_CODEQA_CLOSING = (
    "Reply with just the letter of the right option.",
    "Which option is correct? Give only its letter.",
    "Just the letter ({letters}), please.",
    "Respond with the correct option's letter and nothing else.",
    "Please answer with a single letter.",
)
_CODEQA_STEM = {
    "defining_file": (
        "In which of these files is `{name}`, a module-level function, defined?",
        "Where does the module-level function `{name}` get defined: which file?",
        "Please tell me the file that contains the top-level definition of the function `{name}`.",
        "`{name}` is a top-level function. Which file is it defined in?",
        "Which file holds the module-level definition of the function `{name}`?",
    ),
    "parameter_count": (
        "Count the parameters of `{function}` in `{file}`: include positional and keyword ones, but leave out "
        "`self`/`cls` as well as *args and **kwargs. What is the number?",
        "What is the parameter count of `{function}` (file `{file}`), ignoring `self` or `cls` and any *args or "
        "**kwargs, but including both positional and keyword parameters?",
        "Leaving aside `self`, `cls`, *args and **kwargs, how many positional and keyword parameters does "
        "`{function}` from `{file}` accept?",
        "In `{file}`, `{function}` takes how many parameters? Count positional and keyword parameters; skip "
        "`self`/`cls`, *args and **kwargs.",
        "Please tell me how many named parameters (positional or keyword) `{function}` in `{file}` has, not "
        "including `self`, `cls`, *args or **kwargs.",
    ),
    "default_value": (
        "If no argument is passed for `{param}`, what value does `{function}` in `{file}` use?",
        "What does the parameter `{param}` of `{function}` (in `{file}`) default to?",
        "In `{file}`, `{function}` has a parameter `{param}` with a default. Which value is it?",
        "Please tell me the default assigned to `{param}` in the signature of `{function}` from `{file}`.",
        "`{function}` in `{file}`: what's the default for its `{param}` parameter?",
    ),
    "base_class": (
        "What is the direct base class of `{cls}` in `{file}`?",
        "In `{file}`, `{cls}` subclasses which class directly?",
        "Which class is the immediate parent of `{cls}` (defined in `{file}`)?",
        "Please tell me the class that `{cls}` from `{file}` derives from directly.",
        "`{cls}` in `{file}`: which class does it extend directly?",
    ),
    "class_method": (
        "Which of the following methods is defined directly in the class `{cls}` in `{file}`?",
        "In `{file}`, the class `{cls}` has its own definition of which one of these methods?",
        "Please pick the method that `{cls}` (in `{file}`) defines in its own body, not by inheritance.",
        "Among these methods, which does `{cls}` from `{file}` itself define?",
        "`{cls}` in `{file}`: which of these methods appears in its own class body?",
    ),
}
_CODEQA_STEM_RE = {
    "defining_file": r"Which file defines the top-level function `(?P<name>[^`]+)`\?",
    "parameter_count": (r"How many parameters does `(?P<function>[^`]+)` in `(?P<file>[^`]+)` take, not counting "
                        r"`self` or `cls` \(positional and keyword, excluding \*args and \*\*kwargs\)\?"),
    "default_value": (r"What is the default value of the parameter `(?P<param>[^`]+)` of `(?P<function>[^`]+)` "
                      r"in `(?P<file>[^`]+)`\?"),
    "base_class": r"Which class does `(?P<cls>[^`]+)` in `(?P<file>[^`]+)` directly inherit from\?",
    "class_method": r"Which of these methods does the class `(?P<cls>[^`]+)` in `(?P<file>[^`]+)` define itself\?",
}
_CODEQA_RE = re.compile(r"The context is the source code of (?P<files>\d+) files from Python's standard library "
                        r"\(packages: (?P<packages>[^)]*)\)\. (?P<stem>[^\n]+)\n(?P<options>.*)\n"
                        r"Answer with the letter of the correct option only\.", re.DOTALL)


# --------------------------------------------------------------------------- the wrapping

class ParaphraseError(ValueError):
    """The base question does not match the template its paraphrases were written for."""


def _match(pattern: str | re.Pattern, text: str, what: str) -> dict[str, str]:
    found = re.fullmatch(pattern, text)
    if found is None:
        raise ParaphraseError(f"{what}: the base question no longer matches its template: {text!r}")
    return found.groupdict()


def wording_index(task: str, seed: int) -> int:
    """Which of the five wordings (seed, base task) asks; see the module docstring."""
    if task in (oolong.NAME, dataroom.NAME, codeqa.NAME):
        return (seed + seed // WORDINGS) % WORDINGS
    return seed % WORDINGS


def _sniah(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    slots = _match(_SNIAH_RE, instance.question, "sniah")
    return "magic_number", _SNIAH[i].format(**slots), slots


def _multihop(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    for kind, pattern in _MULTIHOP_RE.items():
        found = pattern.fullmatch(instance.question)
        if found:
            slots = found.groupdict()
            return kind, _MULTIHOP[kind][i].format(**slots), slots
    raise ParaphraseError(f"multihop: no known template matches {instance.question!r}")


def _oolong(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    kind = instance.meta["question_kind"]
    slots = _match(_PREAMBLE_RE + " " + _OOLONG_RE[kind], instance.question, f"oolong {kind}")
    return kind, f"{_PREAMBLE[i].format(**slots)} {_OOLONG[kind][i].format(**slots)}", slots


def _oolong_pairs(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    slots = _match(_PAIRS_RE, instance.question, "oolong_pairs")
    condition = slots.pop("condition")
    for kind, pattern in _PAIRS_CONDITION_RE.items():
        found = re.fullmatch(pattern, condition)
        if found:
            slots.update(found.groupdict())
            reworded = _PAIRS_CONDITION[kind][i].format(**slots)
            return kind, f"{_PREAMBLE[i].format(**slots)} {_PAIRS_FRAME[i].format(condition=reworded)}", slots
    raise ParaphraseError(f"oolong_pairs: no known condition matches {condition!r}")


def _dataroom(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    kind = instance.meta["kind"]
    slots = _match(_DATAROOM_RE[kind], instance.question, f"dataroom {kind}")
    return kind, _DATAROOM[kind][i].format(**slots), slots


def _codeqa(instance: Instance, i: int) -> tuple[str, str, dict[str, str]]:
    kind = instance.meta["question_kind"]
    slots = _match(_CODEQA_RE, instance.question, "codeqa")
    stem, options = slots.pop("stem"), slots.pop("options")
    choices = list(instance.meta["choices"])
    letters = codeqa.LETTERS[:len(choices)]
    if options != "\n".join(f"{letters[n]}) {choice}" for n, choice in enumerate(choices)):
        raise ParaphraseError(f"codeqa: the options are not the meta's choices: {options!r}")
    slots.update(_match(_CODEQA_STEM_RE[kind], stem, f"codeqa {kind}"))
    closing = _CODEQA_CLOSING[i].format(letters=", ".join(letters[:-1]) + f" or {letters[-1]}")
    question = (f"{_CODEQA_INTRO[i].format(**slots)} {_CODEQA_STEM[kind][i].format(**slots)}\n{options}\n"
                f"{closing}")
    return kind, question, slots


Rewrite = Callable[[Instance, int], tuple[str, str, dict[str, str]]]
REWRITERS: dict[str, Rewrite] = {sniah.NAME: _sniah, multihop.NAME: _multihop, oolong.NAME: _oolong,
                                 oolong_pairs.NAME: _oolong_pairs, dataroom.NAME: _dataroom, codeqa.NAME: _codeqa}
"""Base task name -> rewording of its instance (question kind, new question, the base question's slots)."""


def slots(instance: Instance) -> dict[str, str]:
    """The slot values (names, labels, dates, files) of a *base* instance's question."""
    return REWRITERS[instance.task](instance, 0)[2]


def paraphrase(instance: Instance) -> Instance:
    """``instance`` (of a base task) with its question in wording :func:`wording_index`; all else kept."""
    index = wording_index(instance.task, instance.seed)
    kind, question, _ = REWRITERS[instance.task](instance, index)
    meta = {**instance.meta, "paraphrase_wording": index, "paraphrase_kind": kind,
            "original_question": instance.question}
    return dataclasses.replace(instance, task=instance.task + SUFFIX, question=question, meta=meta)


def paraphrase_task(base: TaskSpec) -> TaskSpec:
    """``<base>-paraphrase``: base's generator with the question reworded, and base's scorer."""

    def generate(length: int, seed: int) -> Instance:
        return paraphrase(base.generate(length, seed))

    return TaskSpec(base.name + SUFFIX, f"{base.description}; question in one of five hand-written paraphrases",
                    generate, base.score)


TASKS: tuple[TaskSpec, ...] = tuple(paraphrase_task(t) for t in (sniah.TASK, oolong.TASK, oolong_pairs.TASK,
                                                                  multihop.TASK, codeqa.TASK, dataroom.TASK))
"""The paraphrase tasks, in the registry's order of their base tasks."""

"""Code QA (LongBench-v2-CodeQA-like): multiple choice over real standard-library source files.

The context is the source of whole files from packages that ship with Python
(json, email, http, logging, ...), chosen by seed until the length is reached (the
whole set when the length exceeds it). Questions are generated from the code's
actual facts, read with ``ast``: which file defines a function, how many parameters
a function takes, a parameter's default value, a class's base class, which method a
class defines. Answers depend on the installed Python version (recorded in meta).
"""

from __future__ import annotations

import ast
import importlib.util
import platform
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rlm_desktop.documents import Document
from rlm_desktop.eval.scoring import choice_score
from rlm_desktop.eval.tasks.base import Instance, TaskSpec, target_chars

NAME = "codeqa"
PACKAGES = ("json", "email", "http", "logging", "concurrent", "xml", "importlib", "multiprocessing",
            "asyncio", "unittest")
QUESTION_KINDS = ("defining_file", "parameter_count", "default_value", "base_class", "class_method")
LETTERS = "ABCD"


@dataclass(frozen=True)
class _Function:
    file: str
    qualname: str          # "func" or "Class.method"
    params: tuple[str, ...]  # without self/cls
    defaults: tuple[tuple[str, str], ...]  # (param, source of default)


@dataclass(frozen=True)
class _Class:
    file: str
    name: str
    bases: tuple[str, ...]
    methods: tuple[str, ...]


@lru_cache(maxsize=1)
def source_files() -> tuple[tuple[str, str], ...]:
    """(relative path, source) of every parseable .py file of :data:`PACKAGES`, tests excluded."""
    found: list[tuple[str, str]] = []
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root.parent).as_posix()
            if "/test" in relative or "__pycache__" in relative:
                continue
            try:
                source = path.read_text(encoding="utf-8")
                ast.parse(source)
            except (OSError, UnicodeDecodeError, SyntaxError):
                continue
            found.append((relative, source))
    return tuple(found)


def _select_files(rng: random.Random, budget: int) -> list[tuple[str, str]]:
    files = list(source_files())
    rng.shuffle(files)
    chosen, used = [], 0
    for name, source in files:
        if used + len(source) <= budget:
            chosen.append((name, source))
            used += len(source)
    if not chosen:  # budget below every file: the smallest one
        chosen = [min(files, key=lambda f: len(f[1]))]
    return sorted(chosen)


def _facts(files: list[tuple[str, str]]) -> tuple[list[_Function], list[_Class]]:
    functions: list[_Function] = []
    classes: list[_Class] = []
    for name, source in files:
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(_function(name, node.name, node))
            elif isinstance(node, ast.ClassDef):
                methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
                classes.append(_Class(name, node.name, tuple(ast.unparse(b) for b in node.bases),
                                      tuple(m.name for m in methods)))
                functions += [_function(name, f"{node.name}.{m.name}", m) for m in methods]
    return functions, classes


def _function(file: str, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> _Function:
    args = node.args
    positional = args.posonlyargs + args.args
    names = [a.arg for a in positional + args.kwonlyargs]
    if "." in qualname and names and names[0] in ("self", "cls"):
        names = names[1:]
    defaults = [(a.arg, ast.unparse(d)) for a, d in zip(positional[len(positional) - len(args.defaults):], args.defaults)]
    defaults += [(a.arg, ast.unparse(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return _Function(file, qualname, tuple(names), tuple(defaults))


def generate(length: int, seed: int) -> Instance:
    """Source files of about ``length`` approximate tokens and one four-option question about them."""
    rng = random.Random(f"{NAME}:{length}:{seed}")
    files = _select_files(rng, target_chars(length))
    functions, classes = _facts(files)
    for offset in range(len(QUESTION_KINDS)):
        kind = QUESTION_KINDS[(seed + offset) % len(QUESTION_KINDS)]
        built = _BUILDERS[kind](rng, functions, classes, files)
        if built is not None:
            break
    else:
        raise RuntimeError(f"No {NAME} question can be built from {len(files)} files")
    stem, correct, distractors = built
    options = [correct, *distractors[:3]]
    rng.shuffle(options)
    letter = LETTERS[options.index(correct)]
    packages = sorted({name.split("/")[0] for name, _ in files})
    question = (f"The context is the source code of {len(files)} files from Python's standard library "
                f"(packages: {', '.join(packages)}). {stem}\n"
                + "\n".join(f"{LETTERS[i]}) {option}" for i, option in enumerate(options))
                + "\nAnswer with the letter of the correct option only.")
    documents = [Document(name=name, text=source) for name, source in files]
    return Instance(task=NAME, length=length, seed=seed, question=question, context=documents, answer=letter,
                    kind="choice", meta={"choices": options, "question_kind": kind, "files": len(files),
                                         "python": platform.python_version()})


Built = tuple[str, str, list[str]] | None


def _defining_file(rng, functions, classes, files) -> Built:
    if len(files) < 4:
        return None
    owners: dict[str, set[str]] = {}
    for f in functions:
        if "." not in f.qualname and not f.qualname.startswith("_"):
            owners.setdefault(f.qualname, set()).add(f.file)
    unique = sorted(name for name, where in owners.items() if len(where) == 1)
    if not unique:
        return None
    name = rng.choice(unique)
    correct = next(iter(owners[name]))
    others = rng.sample(sorted(n for n, _ in files if n != correct), 3)
    return f"Which file defines the top-level function `{name}`?", correct, others


def _parameter_count(rng, functions, classes, files) -> Built:
    candidates = sorted((f for f in functions if not f.qualname.split(".")[-1].startswith("__")),
                        key=lambda f: (f.file, f.qualname))
    if not candidates:
        return None
    f = rng.choice(candidates)
    count = len(f.params)
    wrong = [str(n) for n in range(max(0, count - 3), count + 4) if n != count]
    return (f"How many parameters does `{f.qualname}` in `{f.file}` take, not counting `self` or `cls` "
            "(positional and keyword, excluding *args and **kwargs)?", str(count), rng.sample(wrong, 3))


def _default_value(rng, functions, classes, files) -> Built:
    every_default = sorted({d for f in functions for _, d in f.defaults})
    candidates = sorted((f for f in functions if f.defaults), key=lambda f: (f.file, f.qualname))
    rng.shuffle(candidates)
    for f in candidates:
        param, value = rng.choice(f.defaults)
        others = [d for d in every_default if d != value and len(d) < 40]
        if len(others) >= 3:
            return (f"What is the default value of the parameter `{param}` of `{f.qualname}` in `{f.file}`?",
                    value, rng.sample(others, 3))
    return None


def _base_class(rng, functions, classes, files) -> Built:
    candidates = sorted((c for c in classes if len(c.bases) == 1), key=lambda c: (c.file, c.name))
    every_base = sorted({b for c in classes for b in c.bases} | {c.name for c in classes} | {"object", "Exception"})
    rng.shuffle(candidates)
    for c in candidates:
        others = [b for b in every_base if b != c.bases[0] and b != c.name]
        if len(others) >= 3:
            return (f"Which class does `{c.name}` in `{c.file}` directly inherit from?", c.bases[0],
                    rng.sample(others, 3))
    return None


def _class_method(rng, functions, classes, files) -> Built:
    candidates = sorted((c for c in classes if any(not m.startswith("__") for m in c.methods)),
                        key=lambda c: (c.file, c.name))
    rng.shuffle(candidates)
    every_method = sorted({m for c in classes for m in c.methods if not m.startswith("__")})
    for c in candidates:
        own = [m for m in c.methods if not m.startswith("__")]
        inherited = {m for other in classes if other.name in c.bases for m in other.methods}
        others = [m for m in every_method if m not in c.methods and m not in inherited]
        if len(others) >= 3:
            return (f"Which of these methods does the class `{c.name}` in `{c.file}` define itself?",
                    rng.choice(own), rng.sample(others, 3))
    return None


_BUILDERS = {"defining_file": _defining_file, "parameter_count": _parameter_count,
             "default_value": _default_value, "base_class": _base_class, "class_method": _class_method}


def score(instance: Instance, prediction: str) -> float:
    return choice_score(prediction, str(instance.answer), list(instance.meta["choices"]))


TASK = TaskSpec(NAME, "Code QA: multiple choice over real standard-library source (accuracy)", generate, score)

"""Every refused operation gets a clear message naming what was refused and why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rlm_desktop.sandbox import SandboxSession


@pytest.fixture(scope="module")
def repl() -> Iterator[SandboxSession]:
    with SandboxSession("The rent is 500 EUR.") as session:
        yield session


REFUSED = [
    ("import os", ["import of 'os' is not allowed", "allowed modules: re, json"]),
    ("from subprocess import run", ["import of 'subprocess' is not allowed"]),
    ("import json.decoder", ["import of 'json.decoder' is not allowed"]),
    ("x = ().__class__", ["attribute '__class__' is not allowed", "starting with '_'"]),
    ("type(1).__subclasses__()", ["attribute '__subclasses__' is not allowed"]),
    ("__import__('os')", ["name '__import__' is not allowed"]),
    ("exec('x = 1')", ["exec() is not allowed"]),
    ("eval('1 + 1')", ["eval() is not allowed"]),
    ("compile('1', 'f', 'eval')", ["compile() is not allowed"]),
    ("open('/etc/passwd').read()", ["open() is not allowed", "no file"]),
    ("getattr(context, '__class__')", ["attribute '__class__' is not allowed"]),
    ("getattr(type(1), '__subclasses__')()", ["attribute '__subclasses__' is not allowed"]),
    ("setattr(FINAL, '__name__', 'x')", ["attribute '__name__' is not allowed"]),
    ("'{0.__class__}'.format(1)", ["format field '{0.__class__}'", "not allowed"]),
    ("str.format('{0.__globals__}', FINAL)", ["format field '{0.__globals__}'", "not allowed"]),
    ("'{x.__class__}'.format_map({'x': 1})", ["format field '{x.__class__}'", "not allowed"]),
    ("import string\nstring.Formatter().format('{0}', 1)", ["string.Formatter is not allowed"]),
    ("import json\njson.codecs.open('/etc/passwd')", ["json.codecs is not allowed", "module 'codecs'"]),
    ("import statistics\nstatistics.sys.modules", ["statistics.sys is not allowed"]),
    ("import functools\nfunctools.update_wrapper", ["functools.update_wrapper is not allowed"]),
    ("g = (i for i in [1])\ng.gi_frame", ["attribute 'gi_frame' is not allowed"]),
    ("globals()", ["globals() is not allowed"]),
    ("type('X', (), {})", ["type(name, bases, dict) is not allowed"]),
    ("print('x', file=None)\nprint('y', file=context)", ["print(file=...) is not allowed"]),
    ("h = grep('rent')[0]\nh.page = 9", ["changing a Hit object in place is not allowed"]),
    ("setattr(FINAL, '__doc__', 'x')", ["setting attribute '__doc__' is not allowed"]),
    ("import time", ["import of 'time' is not allowed"]),
]


@pytest.mark.parametrize("code,expected", REFUSED, ids=[code.split("\n")[-1][:40] for code, _ in REFUSED])
def test_refused_operation_names_what_and_why(repl: SandboxSession, code: str, expected: list[str]) -> None:
    result = repl.run(code)
    assert result.error is not None, f"{code!r} was not refused"
    for fragment in expected:
        assert fragment in result.error
    assert result.limit is None and not result.restarted


def test_compile_refusals_name_the_line(repl: SandboxSession) -> None:
    result = repl.run("x = 1\ny = 2\nimport os")
    assert result.error.startswith("Refused by the sandbox:")
    assert "Line 3: import of 'os' is not allowed" in result.error


def test_syntax_errors_are_reported_as_such(repl: SandboxSession) -> None:
    result = repl.run("x = (1,\nprint(x)")
    assert result.error.startswith("SyntaxError")


def test_allowed_analysis_code_runs(repl: SandboxSession) -> None:
    code = (
        "import re, json, math, statistics, collections, itertools, functools, string, textwrap, datetime\n"
        "from collections import Counter, defaultdict\n"
        "counts = Counter()\n"
        "for word in re.findall(r'\\w+', context.lower()):\n"
        "    counts[word] += 1\n"
        "groups = defaultdict(list)\n"
        "groups['a'].append(1)\n"
        "class Box:\n"
        "    def __init__(self, v):\n"
        "        self.v = v\n"
        "b = Box(2)\n"
        "b.v += 3\n"
        "first, *rest = sorted(counts)\n"
        "total = functools.reduce(lambda a, c: a + c, [1, 2, 3])\n"
        "'{:>6.1f}|{}|{}|{}'.format(math.pi, json.dumps(dict(groups)), b.v, total)\n"
    )
    result = repl.run(code)
    assert result.error is None
    assert result.output.strip() == "'   3.1|{\"a\": [1]}|5|6'"



def test_idioms_restricted_python_refuses_by_default_are_supported(repl: SandboxSession) -> None:
    code = (
        "import datetime\n"
        "total: int = 0\n"
        "seen: dict = {}\n"
        "seen['a'] = 1\n"
        "seen['a'] += 1\n"
        "day = datetime.datetime.strptime('2024-02-03', '%Y-%m-%d')\n"
        "type(seen).__name__, seen, day.strftime('%d %B %Y')\n"
    )
    result = repl.run(code)
    assert result.error is None, result.error
    assert result.output.strip() == "('dict', {'a': 2}, '03 February 2024')"


def test_the_allowed_modules_come_imported_and_are_not_listed_as_variables():
    with SandboxSession(["customer,revenue\nKestrel,7420000\n"]) as repl:
        result = repl.run("rows = list(csv.reader(context[0].splitlines()))\n"
                          "print(rows[1][0], re.findall(r'\\d+', context[0]), math.floor(2.5))\nSHOW_VARS()")
        blocked = repl.run("print(csv.__dict__)")
    assert result.error is None, result.error
    assert "Kestrel ['7420000'] 2" in result.output
    assert "rows" in result.output and "csv:" not in result.output
    assert blocked.error is not None and "'__dict__' is not allowed" in blocked.error


def test_a_repl_function_cannot_be_given_another_value_or_redefined(repl: SandboxSession) -> None:
    shadowed = repl.run("table = context[0]\nrows = table(context[0])")
    assert shadowed.error is not None and "Line 1: 'table' is a function of the REPL and cannot be given another " \
                                          "value; store your value under another name (such as 'table_value')" in shadowed.error
    assert "grep" in (repl.run("for grep in [1, 2]:\n    pass").error or "")
    own = repl.run("def extract(question, documents):\n    return 0.25")
    assert "Line 1: 'extract' is a function of the REPL" in (own.error or "")

"""llama.cpp GBNF grammars that keep a root turn runnable.

With :data:`ROOT_TURN_GRAMMAR` every root turn is a few lines of reasoning followed
by exactly one well-formed ```repl block, or by ``FINAL(answer)`` /
``FINAL_VAR(name)``. Generation can only stop once one of those is complete, so
even a 135M-parameter model produces a turn the loop can run. Reasoning is bounded
(lines and characters) so a rambling model reaches the code before its token limit.
:data:`FINAL_TURN_GRAMMAR` is used for the one closing turn after a guard ends a
run: it admits only a FINAL. :data:`CODE_TURN_GRAMMAR` admits only a code block: it is used
for the turn after a FINAL was refused as ungrounded, so that the model looks again instead
of writing the same FINAL.
"""

from __future__ import annotations

_COMMON = r"""
line      ::= [^`\n]{1,240}
final     ::= "FINAL(" [^\n] [^\n]{0,600} ")" | "FINAL_VAR(" ident ")"
ident     ::= [A-Za-z_] [A-Za-z0-9_]{0,40}
"""

ROOT_TURN_GRAMMAR = r"""
root      ::= reasoning ( block | final )
reasoning ::= ( line "\n" ){0,6}
block     ::= "```repl\n" code "```"
code      ::= code-line+
code-line ::= code-char* "\n"
code-char ::= [^`\n] | "`" [^`\n] | "``" [^`\n]
""" + _COMMON

# A line of a code turn may not begin a FINAL either ("FINAL(...)" or "Final(...)" written as reasoning above
# the block).
CODE_TURN_GRAMMAR = ROOT_TURN_GRAMMAR.replace(
    "root      ::= reasoning ( block | final )",
    "root      ::= ( note \"\\n\" ){0,2} block\n"
    "note      ::= [^`\\nFf] [^`\\n]{0,239} | [Ff] | [Ff] [^`\\nIi] [^`\\n]{0,238}")

# The first turn of a run with a plan (RLMConfig.plan): a line that names the question's shape and fills its
# slots, then a code turn. A question through two facts names both. Slots end at a semicolon (document
# names hold full stops).
PLAN_KINDS = ("lookup", "list", "count", "total", "comparison", "two-step")
PLAN_TURN_GRAMMAR = ROOT_TURN_GRAMMAR.replace(
    "root      ::= reasoning ( block | final )",
    "root      ::= plan \"\\n\" ( line \"\\n\" ){0,3} block\n"
    "plan      ::= \"Plan: \" ( single | twostep )\n"
    "single    ::= ( " + " | ".join(f'\"{k}\"' for k in PLAN_KINDS if k != "two-step")
    + " ) \"; look for: \" slot \"; in: \" slot\n"
    "twostep   ::= \"two-step; first find: \" slot \"; then find: \" slot\n"
    "slot      ::= [^`\\n;] [^`\\n;]{0,159}")

FINAL_TURN_GRAMMAR = r"""
root      ::= reasoning final
reasoning ::= ( line "\n" ){0,3}
""" + _COMMON


def root_grammar(enabled: bool, supports_grammar: bool, *, code_only: bool = False) -> str | None:
    """The grammar for a root turn, or None where it is off or the backend cannot apply it."""
    if not (enabled and supports_grammar):
        return None
    return CODE_TURN_GRAMMAR if code_only else ROOT_TURN_GRAMMAR


def choice_grammar(choices: list[str]) -> str:
    """A grammar whose only sentences are the given strings (one of them, exactly)."""
    if not choices:
        raise ValueError("choice_grammar needs at least one choice")
    return "root ::= " + " | ".join(_gbnf_literal(choice) for choice in choices) + "\n"


def _gbnf_literal(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


_JSON_STRING = r"""
qchar     ::= [^"\\\n] | "\\" ["\\/nt]
"""

EXTRACT_GRAMMAR = r"""
root      ::= "{\"quote\": \"" qchar{0,320} "\", \"value\": \"" qchar{0,120} "\", \"unit\": \"" qchar{0,20} "\"}"
""" + _JSON_STRING
"""An ``extract()`` answer: the passage's sentence that answers, the value as written, its unit."""

FILTER_GRAMMAR = r"""
root      ::= "{\"quote\": \"" qchar{0,320} "\", \"answer\": \"" ( "yes" | "no" ) "\"}"
""" + _JSON_STRING
"""A ``filter()`` answer: the passage's sentence that decides, then yes or no."""

"""Python syntax highlighting for the code cells the root model writes."""

from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from rlm_desktop.gui.theme import Colors, current_colors
from rlm_desktop.sandbox.helpers import HELPER_NAMES

# Names the REPL offers besides the builtins; shown in their own colour so a reader
# sees at a glance where the code calls the sub-model or ends the run.
REPL_NAMES = ("llm_query", "llm_query_batched", "FINAL", "FINAL_VAR", "context", *HELPER_NAMES, "SHOW_VARS")

_IN_TRIPLE_SINGLE = 1
_IN_TRIPLE_DOUBLE = 2


def _fmt(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, REPL helpers, strings (incl. triple-quoted across lines), numbers, comments."""

    def __init__(self, document: QTextDocument, colors: Colors | None = None) -> None:
        super().__init__(document)
        c = colors or current_colors()
        self.formats = {
            "keyword": _fmt(c.keyword, bold=True),
            "builtin": _fmt(c.builtin),
            "special": _fmt(c.special, bold=True),
            "string": _fmt(c.string),
            "number": _fmt(c.number),
            "comment": _fmt(c.comment, italic=True),
        }
        words = lambda names: re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\b")  # noqa: E731
        builtin_names = [n for n in dir(builtins) if not n.startswith("_")]
        self.rules: list[tuple[re.Pattern[str], str]] = [
            (words(keyword.kwlist + ["match", "case"]), "keyword"),
            (words(builtin_names), "builtin"),
            (words(REPL_NAMES), "special"),
            (re.compile(r"\b(?:0[xob][0-9a-fA-F_]+|\d[\d_]*\.?\d*(?:[eE][+-]?\d+)?)\b"), "number"),
        ]
        # strings and comments are scanned left to right so '#' inside a string is not a comment
        self.token = re.compile(r"""(?P<triple>[rRbBfFuU]{0,2}(?:'''|\"\"\"))|(?P<string>[rRbBfFuU]{0,2}(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"))|(?P<comment>\#.*)""")

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        for pattern, name in self.rules:
            for m in pattern.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), self.formats[name])
        self.setCurrentBlockState(0)
        pos = 0
        state = self.previousBlockState()
        if state in (_IN_TRIPLE_SINGLE, _IN_TRIPLE_DOUBLE):
            pos = self._continue_triple(text, 0, "'''" if state == _IN_TRIPLE_SINGLE else '"""')
            if pos < 0:
                return
        while pos < len(text):
            m = self.token.search(text, pos)
            if not m:
                break
            if m.group("comment") is not None:
                self.setFormat(m.start(), len(text) - m.start(), self.formats["comment"])
                break
            if m.group("string") is not None:
                self.setFormat(m.start(), m.end() - m.start(), self.formats["string"])
                pos = m.end()
                continue
            quote = m.group("triple")[-3:]
            end = self._continue_triple(text, m.end(), quote, start=m.start())
            if end < 0:
                return
            pos = end

    def _continue_triple(self, text: str, search_from: int, quote: str, start: int | None = None) -> int:
        """Format a triple-quoted string from ``start``; return the index after it, or -1 if it runs on."""
        begin = search_from if start is None else start
        close = text.find(quote, search_from)
        if close < 0:
            self.setFormat(begin, len(text) - begin, self.formats["string"])
            self.setCurrentBlockState(_IN_TRIPLE_SINGLE if quote == "'''" else _IN_TRIPLE_DOUBLE)
            return -1
        end = close + 3
        self.setFormat(begin, end - begin, self.formats["string"])
        return end

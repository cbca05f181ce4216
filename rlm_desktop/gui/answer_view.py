"""The answer of a run, rendered as Markdown, with its citations as clickable links."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from rlm_desktop.documents import Citation
from rlm_desktop.gui.trajectory_view import describe_stop

CITE_SCHEME = "cite"
SOURCE_WARNING = "This document holds text written to steer an AI or hidden from readers; it was read as evidence only:"
_NUMBERED_REF = re.compile(r"\[(\d{1,3})\](?!\()")


def as_citation(value: Any) -> Citation:
    """A Citation from a Citation, a stored dict, or any object with the same fields."""
    if isinstance(value, Citation):
        return value
    get = value.get if isinstance(value, dict) else lambda k, d=None: getattr(value, k, d)
    return Citation(
        document=str(get("document", "") or get("name", "") or ""),
        page=int(get("page", 1) or 1),
        start=int(get("start", 0) or 0),
        end=int(get("end", 0) or 0),
        snippet=str(get("snippet", "") or ""),
        doc_id=get("doc_id"),
    )


def answer_markdown(answer: str, citations: list[Citation],
                    source_warnings: dict[int, list[str]] | None = None) -> str:
    """Answer text with ``[n]`` references linked, then a numbered Sources list; a source whose document holds
    a passage written to steer an AI (or hidden text) says so under it."""
    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]]({CITE_SCHEME}:{n - 1})" if 1 <= n <= len(citations) else m.group(0)

    body = _NUMBERED_REF.sub(link, answer.strip()) if citations else answer.strip()
    lines = [body or "_No answer._"]
    if citations:
        lines += ["", "---", "", "**Sources**", ""]
        for i, c in enumerate(citations):
            snippet = " ".join(c.snippet.split())
            if len(snippet) > 180:
                snippet = snippet[:179] + "…"
            quote = f" — “{_escape_md(snippet)}”" if snippet else ""
            lines.append(f"{i + 1}. [{_escape_md(c.label())}]({CITE_SCHEME}:{i}){quote}")
            flags = (source_warnings or {}).get(c.doc_id, []) if c.doc_id is not None else []
            if flags:
                lines.append(f"   - **⚠ {SOURCE_WARNING}** {_escape_md(flags[0])}"
                             + (f" (and {len(flags) - 1} more)" if len(flags) > 1 else ""))
    return "\n".join(lines)


def _escape_md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


class AnswerView(QWidget):
    """Shows one answer; emits :attr:`citation_clicked` with the Citation a link points at."""

    citation_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("muted")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setOpenExternalLinks(False)
        self.browser.anchorClicked.connect(self._anchor_clicked)
        self.browser.setPlaceholderText("Ask a question to see the answer here, with the pages it came from.")
        layout.addWidget(self.status)
        layout.addWidget(self.browser, 1)
        self.citations: list[Citation] = []
        self.answer = ""
        self.status.hide()

    def clear(self) -> None:
        self.citations, self.answer = [], ""
        self.browser.clear()
        self.status.hide()

    def set_answer(self, answer: str, citations: list[Any] | None = None, stopped_by: str | None = None, *,
                   warnings: list[str] | None = None, source_warnings: dict[int, list[str]] | None = None) -> None:
        """Show an answer; ``warnings`` (the answer does what a document demands) lead the status line,
        ``source_warnings`` (flags of the cited documents, by id) go under their sources."""
        self.answer = answer or ""
        self.citations = [as_citation(c) for c in citations or []]
        self.browser.setMarkdown(answer_markdown(self.answer, self.citations, source_warnings))
        if warnings:
            self.status.setText(" ".join(warnings))
            self.status.setObjectName("errorText")
        elif stopped_by:
            self.status.setText(f"This run was ended by {describe_stop(stopped_by)}; the answer below is the best "
                                f"available and may be incomplete.")
            self.status.setObjectName("errorText")
        elif self.citations:
            self.status.setText(f"Built from {len(self.citations)} cited passage"
                                f"{'s' if len(self.citations) != 1 else ''}: click a source to check it.")
            self.status.setObjectName("muted")
        else:
            self.status.setText("The run recorded no citations for this answer: check it against the documents.")
            self.status.setObjectName("muted")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.show()

    def _anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() != CITE_SCHEME:
            return
        try:
            index = int(url.path())
        except ValueError:
            return
        if 0 <= index < len(self.citations):
            self.citation_clicked.emit(self.citations[index])

"""Read a document page by page (or slide by slide), with a cited span highlighted.

Images and scans show their picture beside the OCR text; e-mails list their attachments,
which open in the viewer too. Passages flagged at ingest (text written to steer an AI, hidden
text) are highlighted in their own colour, with a warning above the page.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPixmap, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton, QScrollArea, QSpinBox,
    QSplitter, QTextEdit, QVBoxLayout, QWidget,
)

from rlm_desktop.documents import Document
from rlm_desktop.gui.theme import app_icon, current_colors


def locate_span(document: Document, page: int, start: int, end: int, snippet: str = "") -> tuple[int, int] | None:
    """The cited span as offsets within ``page``'s text, or None if it cannot be found.

    Citations carry document-wide offsets (page-relative ones are accepted too) and a
    snippet around the span; a span that does not fall on the page, or does not agree
    with its snippet, is looked up by the snippet instead.
    """
    page_start = document.page_starts[page - 1] if document.page_starts else 0
    text = document.page_text(page)
    flat_snippet = _flat(snippet)
    for a, b in ((start - page_start, end - page_start), (start, end)):
        if 0 <= a < b <= len(text):
            span = _flat(text[a:b])
            if not flat_snippet or span in flat_snippet or flat_snippet.strip(" …") in span:
                return a, b
    if not flat_snippet:
        return None
    index = text.find(snippet.strip())
    if index >= 0:
        return index, index + len(snippet.strip())
    flat_text = _flat(text)
    # the snippet may run over the page edge: find its longest line that is on this page
    for piece in sorted((_flat(line).strip(" …") for line in snippet.splitlines()), key=len, reverse=True):
        if len(piece) >= 12 and piece in flat_text:
            return _map_flat_offset(text, flat_text.index(piece), len(piece))
    return None


def _flat(text: str) -> str:
    return " ".join(text.split())


def _map_flat_offset(text: str, flat_start: int, length: int) -> tuple[int, int]:
    """Map an offset in whitespace-collapsed text back to the original text."""
    positions: list[int] = []
    previous_space = True
    for i, ch in enumerate(text):
        if ch.isspace():
            if not previous_space:
                positions.append(i)
            previous_space = True
        else:
            positions.append(i)
            previous_space = False
    a = positions[min(flat_start, len(positions) - 1)]
    b = positions[min(flat_start + length - 1, len(positions) - 1)] + 1
    return a, b


def _utf16_offset(text: str, index: int) -> int:
    """Qt counts positions in UTF-16 code units; Python in code points."""
    return len(text[:index].encode("utf-16-le")) // 2


UNIT_LABELS = {"page": "Page", "slide": "Slide", "section": "Section"}


class DocumentViewer(QWidget):
    """A separate window: one page of one document, the cited span highlighted and in view."""

    attachment_requested = Signal(int)   # doc_id of an attachment to open

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Document viewer")
        self.setWindowIcon(app_icon())
        self.resize(760, 820)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 12)
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.page_box = QSpinBox()
        self.page_box.setMinimum(1)
        self.page_box.setKeyboardTracking(False)
        self.page_count_label = QLabel()
        top.addWidget(self.title, 1)
        top.addWidget(self.prev_button)
        self.unit_label = QLabel("Page")
        top.addWidget(self.unit_label)
        top.addWidget(self.page_box)
        top.addWidget(self.page_count_label)
        top.addWidget(self.next_button)
        layout.addLayout(top)
        self.citation_label = QLabel()
        self.citation_label.setObjectName("muted")
        self.citation_label.setWordWrap(True)
        layout.addWidget(self.citation_label)
        self.flag_label = QLabel()
        self.flag_label.setObjectName("errorText")
        self.flag_label.setWordWrap(True)
        self.flag_label.hide()
        layout.addWidget(self.flag_label)
        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(110)
        self.attachments.setToolTip("Attachments: double-click (or Enter) to open one")
        self.attachments.itemActivated.connect(self._attachment_activated)
        self.attachments_label = QLabel("Attachments")
        self.attachments_label.setObjectName("muted")
        layout.addWidget(self.attachments_label)
        layout.addWidget(self.attachments)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.picture_area = QScrollArea()
        self.picture_area.setWidget(self.picture)
        self.picture_area.setWidgetResizable(True)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(self.picture_area)
        self.body.addWidget(self.text)
        layout.addWidget(self.body, 1)
        self.prev_button.clicked.connect(lambda: self.go_to_page(self.page - 1))
        self.next_button.clicked.connect(lambda: self.go_to_page(self.page + 1))
        self.page_box.valueChanged.connect(self.go_to_page)
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, activated=lambda: self.go_to_page(self.page + 1))
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, activated=lambda: self.go_to_page(self.page - 1))
        QShortcut(QKeySequence.StandardKey.Close, self, activated=self.close)
        self.document: Document | None = None
        self.images: dict[int, bytes] = {}
        self.page = 1
        self._cited: tuple[int, int, int, str] | None = None  # (page, start, end, snippet)
        self.highlight: tuple[int, int] | None = None
        self.flags: list[Any] = []
        self.flagged: list[tuple[int, int]] = []  # flagged spans highlighted on the page shown (page offsets)

    def show_document(self, document: Document, page: int = 1, *, start: int | None = None,
                      end: int | None = None, snippet: str = "", unit: str = "page",
                      images: dict[int, bytes] | None = None,
                      attachments: list[tuple[str, int | None, str]] = (),  # type: ignore[assignment]
                      flags: list[Any] = ()) -> None:  # type: ignore[assignment]
        """Open ``document`` at ``page``; with a span, highlight it and scroll to it.

        ``images`` holds pictures of pages (shown beside their text); ``attachments`` lists an
        e-mail's attachments as (name, doc_id or None when it failed, status line); ``flags`` the
        document's flagged passages (library DocumentFlag: page, document-wide start/end, reason, excerpt).
        """
        self.document = document
        self.flags = list(flags)
        self.images = dict(images or {})
        self.unit_label.setText(UNIT_LABELS.get(unit, "Page"))
        self.attachments.clear()
        for name, doc_id, status in attachments:
            item = QListWidgetItem(f"{name}  —  {status}")
            item.setData(Qt.ItemDataRole.UserRole, doc_id)
            if doc_id is None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.attachments.addItem(item)
        self.attachments.setMaximumHeight(min(110, 8 + 22 * max(1, len(attachments))))
        self.attachments.setVisible(bool(attachments))
        self.attachments_label.setVisible(bool(attachments))
        self.attachments_label.setText(f"Attachments ({len(attachments)})")
        self._cited = (page, start or 0, end or 0, snippet) if (start is not None or snippet) else None
        self.title.setText(document.name)
        self.setWindowTitle(f"{document.name} — Document viewer")
        self.page_box.blockSignals(True)
        self.page_box.setMaximum(document.page_count)
        self.page_box.blockSignals(False)
        self.page_count_label.setText(f"of {document.page_count}")
        self.page = 0
        self.go_to_page(page)
        self.show()
        self.raise_()
        self.activateWindow()

    def go_to_page(self, page: int) -> None:
        if self.document is None:
            return
        page = max(1, min(int(page), self.document.page_count))
        if page == self.page:
            return
        self.page = page
        self.page_box.blockSignals(True)
        self.page_box.setValue(page)
        self.page_box.blockSignals(False)
        self.prev_button.setEnabled(page > 1)
        self.next_button.setEnabled(page < self.document.page_count)
        self.text.setPlainText(self.document.page_text(page))
        self._show_picture(self.images.get(page))
        self.highlight = None
        self.text.setExtraSelections([])
        self._show_flags()
        if self._cited and self._cited[0] == page:
            self._highlight_cited()
        else:
            self.citation_label.setText("")

    def _show_picture(self, data: bytes | None) -> None:
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            half = max(240, self.body.width() // 2)
            if self.picture_area.isHidden():
                self.body.setSizes([half, max(240, self.body.width() - half)])
            self.picture.setPixmap(pixmap.scaledToWidth(min(half - 24, pixmap.width()),
                                                        Qt.TransformationMode.SmoothTransformation))
            self.picture_area.show()
        else:
            self.picture.clear()
            self.picture_area.hide()

    def _attachment_activated(self, item: QListWidgetItem) -> None:
        doc_id = item.data(Qt.ItemDataRole.UserRole)
        if doc_id is not None:
            self.attachment_requested.emit(int(doc_id))

    def _highlight_cited(self) -> None:
        assert self.document is not None and self._cited is not None
        page, start, end, snippet = self._cited
        span = locate_span(self.document, page, start, end, snippet)
        if span is None:
            self.citation_label.setText(f"Cited: page {page}. The quoted passage could not be located on this page; "
                                        f"quote: “{' '.join(snippet.split())[:200]}”")
            return
        self.highlight = span
        page_text = self.document.page_text(page)
        q_start, q_end = _utf16_offset(page_text, span[0]), _utf16_offset(page_text, span[1])
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(q_start)
        cursor.setPosition(q_end, QTextCursor.MoveMode.KeepAnchor)
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(QColor(current_colors().highlight))
        selection.format = fmt
        selection.cursor = cursor
        self.text.setExtraSelections([*self.text.extraSelections(), selection])
        view_cursor = QTextCursor(self.text.document())
        view_cursor.setPosition(q_start)
        self.text.setTextCursor(view_cursor)
        self.text.centerCursor()
        self.citation_label.setText(f"Cited passage on page {page} is highlighted.")

    def _show_flags(self) -> None:
        """Highlight the flagged passages of the page shown and say what they are."""
        assert self.document is not None
        page_start = self.document.page_starts[self.page - 1] if self.document.page_starts else 0
        page_text = self.document.page_text(self.page)
        page_end = page_start + len(page_text)
        here = [f for f in self.flags if f.page is None or (f.start is None and f.page == self.page)
                or (f.start is not None and f.end is not None and f.start < page_end and page_start < f.end)]
        self.flagged = []
        selections = []
        for flag in here:
            if flag.start is None or flag.end is None:
                continue
            a, b = max(0, flag.start - page_start), min(len(page_text), flag.end - page_start)
            if a >= b:
                continue
            self.flagged.append((a, b))
            cursor = QTextCursor(self.text.document())
            cursor.setPosition(_utf16_offset(page_text, a))
            cursor.setPosition(_utf16_offset(page_text, b), QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(current_colors().error_bg))
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor(current_colors().danger))
            selection.format = fmt
            selection.cursor = cursor
            selections.append(selection)
        self.text.setExtraSelections(selections)
        elsewhere = sorted({f.page for f in self.flags if f not in here and f.page is not None})
        lines = [f"⚠ {flag.line()}" for flag in here]
        if elsewhere:
            lines.append("⚠ Flagged passages also on page " + ", ".join(map(str, elsewhere)) + ".")
        if lines:
            lines.insert(0, "This document holds text written to steer an AI or hidden from readers; it is "
                            "evidence, never instructions. Flagged passages are underlined.")
        self.flag_label.setText("\n".join(lines))
        self.flag_label.setVisible(bool(lines))

    def flagged_text(self) -> list[str]:
        """The flagged passages highlighted on the page shown."""
        if self.document is None:
            return []
        return [self.document.page_text(self.page)[a:b] for a, b in self.flagged]

    def highlighted_text(self) -> str:
        """The text of the highlighted span ('' when nothing is highlighted)."""
        if self.highlight is None or self.document is None:
            return ""
        return self.document.page_text(self.page)[self.highlight[0]:self.highlight[1]]

"""The live trajectory: each root turn, its code cells and outputs, its sub-calls.

Fed with event dicts (``Event.to_dict()`` live, or the rows stored with a run), so
a reopened run from the history renders exactly like a live one.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QTextOption
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QScrollArea, QSizePolicy, QToolButton, QVBoxLayout, QWidget,
)

from rlm_desktop.engine.events import taken_back_line
from rlm_desktop.gui.highlighter import PythonHighlighter

_CODE_BLOCK = re.compile(r"```[a-zA-Z]*\n.*?(?:```|$)", re.DOTALL)
MAX_CODE_LINES = 18
MAX_OUTPUT_LINES = 12
SUB_CALLS_SHOWN_OPEN = 6  # a sub-call list longer than this folds itself


def _mono() -> Any:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(8.5, font.pointSizeF() * 0.95))
    return font


def _preview(text: str, limit: int = 160) -> str:
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _seconds(value: Any) -> str:
    try:
        return f"{float(value):.1f} s"
    except (TypeError, ValueError):
        return ""


class TextBlock(QPlainTextEdit):
    """Read-only monospace text that grows with its content up to ``max_lines``."""

    def __init__(self, text: str, *, max_lines: int, python: bool = False, object_name: str = "") -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setFont(_mono())
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        if object_name:
            self.setObjectName(object_name)
        self.max_lines = max_lines
        self.highlighter = PythonHighlighter(self.document()) if python else None
        self.setPlainText(text)
        self._fit()

    def setPlainText(self, text: str) -> None:  # noqa: N802 - Qt override keeps the height right
        super().setPlainText(text)
        self._fit()

    def _fit(self) -> None:
        lines = max(1, min(self.max_lines, self.document().lineCount() + text_wrap_allowance(self.toPlainText())))
        height = int(lines * self.fontMetrics().lineSpacing() + 2 * self.document().documentMargin() + 6)
        self.setFixedHeight(height)


def text_wrap_allowance(text: str, width_chars: int = 100) -> int:
    """Extra lines that long lines will wrap into (a cheap estimate before layout)."""
    return sum(len(line) // width_chars for line in text.splitlines())


class Section(QFrame):
    """A card with a clickable header that shows or hides its body."""

    def __init__(self, title: str, *, meta: str = "", expanded: bool = True, object_name: str = "card") -> None:
        super().__init__()
        self.setObjectName(object_name)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 10, 8)
        outer.setSpacing(4)
        header = QHBoxLayout()
        self.toggle = QToolButton()
        self.toggle.setObjectName("cardHeader")
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(expanded)
        self.toggle.toggled.connect(self.set_expanded)
        self.meta = QLabel(meta)
        self.meta.setObjectName("cardMeta")
        header.addWidget(self.toggle)
        header.addStretch(1)
        header.addWidget(self.meta)
        outer.addLayout(header)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(4, 0, 0, 0)
        self.body_layout.setSpacing(6)
        outer.addWidget(self.body)
        self.user_toggled = False
        self.toggle.clicked.connect(lambda: setattr(self, "user_toggled", True))
        self.set_expanded(expanded)

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(expanded)
        self.toggle.blockSignals(False)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        if self.body.isVisibleTo(self) != expanded:  # showing a child of an unshown card can steal focus
            self.body.setVisible(expanded)

    def set_title(self, title: str) -> None:
        self.toggle.setText(title)


class SubCallRow(QWidget):
    """One llm_query call: prompt preview, then the answer preview once it returns."""

    def __init__(self, call_id: Any, prompt_preview: str, prompt_chars: Any, depth: int = 0) -> None:
        super().__init__()
        self.call_id = call_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12 * depth, 2, 0, 2)
        layout.setSpacing(1)
        self.prompt = QLabel(f"<b>#{call_id}</b> prompt ({prompt_chars:,} chars): " if isinstance(prompt_chars, int)
                             else f"<b>#{call_id}</b> prompt: ")
        self.prompt.setTextFormat(Qt.TextFormat.RichText)
        self.prompt_text = QLabel(_preview(prompt_preview))
        self.prompt_text.setWordWrap(True)
        self.prompt_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prompt_text.setToolTip(str(prompt_preview))
        self.answer = QLabel("… waiting for the sub-model")
        self.answer.setObjectName("muted")
        self.answer.setWordWrap(True)
        self.answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.setSpacing(4)
        top.addWidget(self.prompt, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.prompt_text, 1)
        layout.addLayout(top)
        layout.addWidget(self.answer)
        self.finished = False

    def finish(self, event: dict[str, Any]) -> None:
        self.finished = True
        if event.get("error"):
            self.answer.setObjectName("errorText")
            self.answer.setText(f"→ error: {event['error']}")
        else:
            tokens = int(event.get("prompt_tokens") or 0) + int(event.get("completion_tokens") or 0)
            tag = " · cached" if event.get("cached") else ""
            self.answer.setObjectName("")
            self.answer.setText(f"→ {_preview(event.get('answer_preview', ''), 240)}"
                                f"   ({tokens:,} tokens · {_seconds(event.get('seconds'))}{tag})")
            self.answer.setToolTip(str(event.get("answer_preview", "")))
        self.answer.style().unpolish(self.answer)
        self.answer.style().polish(self.answer)


class CellWidget(QWidget):
    """A code cell (highlighted), then its output or error, then the sub-calls it made."""

    def __init__(self, iteration: int, index: int, code: str) -> None:
        super().__init__()
        self.iteration = iteration
        self.index = index
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        label = QLabel(f"Code cell {index + 1}" if isinstance(index, int) else "Code cell")
        label.setObjectName("cardMeta")
        layout.addWidget(label)
        self.code = TextBlock(code, max_lines=MAX_CODE_LINES, python=True, object_name="code")
        layout.addWidget(self.code)
        self.subcalls = Section("Sub-calls (0)", expanded=True, object_name="subcard")
        self.subcalls.hide()
        layout.addWidget(self.subcalls)
        self.output_label = QLabel("Running…")
        self.output_label.setObjectName("cardMeta")
        layout.addWidget(self.output_label)
        self.output: TextBlock | None = None
        self.rows: dict[Any, SubCallRow] = {}

    def add_sub_call(self, event: dict[str, Any]) -> None:
        row = SubCallRow(event.get("call_id"), event.get("prompt_preview", ""), event.get("prompt_chars"),
                         depth=int(event.get("depth") or 0))
        self.rows[event.get("call_id")] = row
        self.subcalls.body_layout.addWidget(row)
        self.subcalls.show()
        self.subcalls.set_title(f"Sub-calls ({len(self.rows)})")
        if len(self.rows) > SUB_CALLS_SHOWN_OPEN and not self.subcalls.user_toggled:
            self.subcalls.set_expanded(False)

    def finish_sub_call(self, event: dict[str, Any]) -> None:
        row = self.rows.get(event.get("call_id"))
        if row is None:  # a finish without a start (stored run cut short): still show it
            self.add_sub_call({**event, "prompt_preview": "", "prompt_chars": None})
            row = self.rows[event.get("call_id")]
        row.finish(event)
        cached = sum(1 for r in self.rows.values() if "cached" in r.answer.text())
        extra = f", {cached} cached" if cached else ""
        self.subcalls.set_title(f"Sub-calls ({len(self.rows)}{extra})")

    def add_note(self, text: str) -> None:
        """A compact line for events of a nested (depth 2) run."""
        note = QLabel(_preview(text, 200))
        note.setObjectName("cardMeta")
        note.setWordWrap(True)
        self.subcalls.body_layout.addWidget(note)
        self.subcalls.show()

    def set_output(self, event: dict[str, Any]) -> None:
        error = event.get("error")
        output = str(event.get("output") or "")
        parts = [f"Output · {_seconds(event.get('seconds'))}"]
        if event.get("truncated"):
            parts.append("cut for the model")
        if event.get("restarted"):
            parts.append("sandbox restarted")
        self.output_label.setText(" · ".join(parts))
        text = output + (("\n" if output else "") + str(error) if error else "")
        self.output = TextBlock(text or "(no output)", max_lines=MAX_OUTPUT_LINES,
                                object_name="errorOutput" if error else "output")
        if error:
            self.output.setStyleSheet("color: palette(text); border-left: 3px solid #c0392b;")
        self.layout().addWidget(self.output)

    def output_text(self) -> str:
        return self.output.toPlainText() if self.output is not None else ""

    def code_text(self) -> str:
        return self.code.toPlainText()


class TurnCard(Section):
    """One root-model turn: its reasoning (code blocks removed) and its cells."""

    def __init__(self, event: dict[str, Any]) -> None:
        iteration = event.get("iteration", "?")
        super().__init__(f"Root turn {iteration}", meta=self._meta(event))
        self.iteration = iteration
        self.raw_text = str(event.get("text", ""))
        prose = _CODE_BLOCK.sub("", self.raw_text).strip()
        self.reasoning = QLabel(prose)
        self.reasoning.setWordWrap(True)
        self.reasoning.setTextFormat(Qt.TextFormat.PlainText)
        self.reasoning.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if not prose:
            self.reasoning.hide()
        self.body_layout.addWidget(self.reasoning)
        self.cells: list[CellWidget] = []
        self.taken_back = ""  # why the loop did not keep this turn, if it did not

    @staticmethod
    def _meta(event: dict[str, Any]) -> str:
        prompt = int(event.get("prompt_tokens") or 0)
        completion = int(event.get("completion_tokens") or 0)
        bits = [f"{prompt:,} → {completion:,} tokens", _seconds(event.get("seconds"))]
        evaluated = event.get("prompt_tokens_evaluated")
        if evaluated is not None and int(evaluated) < prompt:
            restored = int(event.get("prompt_tokens_restored") or 0)
            bits.insert(1, f"{int(evaluated):,} evaluated, {prompt - int(evaluated):,} reused"
                           + (f" ({restored:,} saved)" if restored else ""))
        if event.get("repaired"):
            bits.append("repaired")
        if event.get("runnable") is False:
            bits.append("no code or FINAL")
        return " · ".join(b for b in bits if b)

    def mark_taken_back(self, text: str) -> None:
        """Say under the turn that the loop did not keep it in the conversation, and why."""
        note = QLabel(text[:1].upper() + text[1:] + ".")
        note.setWordWrap(True)
        note.setObjectName("takenBack")
        note.setStyleSheet("color: palette(mid); font-style: italic;")
        self.taken_back = note.text()
        self.body_layout.addWidget(note)

    def add_cell(self, event: dict[str, Any]) -> CellWidget:
        cell = CellWidget(int(event.get("iteration") or 0), int(event.get("index") or 0), str(event.get("code", "")))
        self.cells.append(cell)
        self.body_layout.addWidget(cell)
        return cell


class TrajectoryView(QScrollArea):
    """Scrollable list of turn cards; follows the newest event unless the user scrolled up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.body.setObjectName("trajectoryBody")
        self.layout_ = QVBoxLayout(self.body)
        self.layout_.setContentsMargins(2, 2, 8, 2)
        self.layout_.setSpacing(8)
        self.placeholder = QLabel("The trajectory of the next run appears here: each turn of the root model, "
                                  "the code it runs over your documents, and every sub-model call.")
        self.placeholder.setObjectName("muted")
        self.placeholder.setWordWrap(True)
        self.layout_.addWidget(self.placeholder)
        self.layout_.addStretch(1)
        self.setWidget(self.body)
        self.turns: list[TurnCard] = []
        self.events: list[dict[str, Any]] = []
        self.final_card: Section | None = None
        self.errors: list[str] = []
        self._current_cell: CellWidget | None = None
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._scroll_to_end_if_following)
        self.verticalScrollBar().valueChanged.connect(self._user_scrolled)

    # --- building -----------------------------------------------------------
    def clear(self) -> None:
        for widget in [*self.turns, self.final_card]:
            if widget is not None:
                widget.setParent(None)
                widget.deleteLater()
        for i in reversed(range(self.layout_.count())):
            item = self.layout_.itemAt(i)
            w = item.widget()
            if w is not None and w is not self.placeholder:
                self.layout_.takeAt(i)
                w.deleteLater()
        self.turns, self.events, self.errors = [], [], []
        self.final_card = None
        self._current_cell = None
        self._follow = True
        self.placeholder.show()

    def load(self, events: list[dict[str, Any]]) -> None:
        self.clear()
        for event in events:
            self.add_event(event)

    def _insert(self, widget: QWidget) -> None:
        self.placeholder.hide()
        self.layout_.insertWidget(self.layout_.count() - 1, widget)  # before the stretch

    def add_event(self, event: dict[str, Any]) -> None:
        """Render one event dict (``kind`` says which)."""
        self.events.append(event)
        kind = event.get("kind")
        depth = int(event.get("depth") or 0)
        if depth > 0 and kind not in ("sub_call_started", "sub_call_finished"):
            self._nested(event)
            return
        if kind == "root_turn":
            card = TurnCard(event)
            self.turns.append(card)
            self._insert(card)
            self._current_cell = None
        elif kind == "code_cell":
            turn = self._turn_for(event)
            self._current_cell = turn.add_cell(event)
        elif kind == "cell_output":
            cell = self._cell_for(event)
            if cell is not None:
                cell.set_output(event)
        elif kind == "sub_call_started":
            cell = self._current_cell or self._turn_for(event).add_cell({"code": "", **event})
            cell.add_sub_call(event)
        elif kind == "sub_call_finished":
            cell = self._cell_with_call(event.get("call_id")) or self._current_cell
            if cell is not None:
                cell.finish_sub_call(event)
        elif kind == "final":
            self._final(event)
        elif kind == "error":
            self._error(str(event.get("message", "")))
        elif kind == "run_resumed":
            self._resumed(event)
        elif kind == "turn_taken_back":
            line = taken_back_line(str(event.get("reason")), bool(event.get("next_sampled")))
            if event.get("reason") == "sample_failed_checks":  # a sampled turn never kept: its own card
                card = TurnCard({"iteration": event.get("iteration"), "text": str(event.get("note", ""))})
                self._insert(card)
                card.mark_taken_back(line)
            else:
                self._turn_for(event).mark_taken_back(line)

    def _turn_for(self, event: dict[str, Any]) -> TurnCard:
        iteration = event.get("iteration")
        for card in reversed(self.turns):
            if iteration is None or card.iteration == iteration:
                return card
        card = TurnCard({"iteration": iteration, "text": ""})
        self.turns.append(card)
        self._insert(card)
        return card

    def _cell_for(self, event: dict[str, Any]) -> CellWidget | None:
        for card in reversed(self.turns):
            for cell in reversed(card.cells):
                if cell.iteration == event.get("iteration") and cell.index == event.get("index"):
                    return cell
        return self._current_cell

    def _cell_with_call(self, call_id: Any) -> CellWidget | None:
        for card in reversed(self.turns):
            for cell in reversed(card.cells):
                if call_id in cell.rows:
                    return cell
        return None

    def _nested(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        text = {
            "root_turn": f"sub-RLM turn {event.get('iteration')}: {event.get('text', '')}",
            "code_cell": f"sub-RLM code: {event.get('code', '')}",
            "cell_output": f"sub-RLM output: {event.get('error') or event.get('output', '')}",
            "final": f"sub-RLM answer: {event.get('answer', '')}",
            "error": f"sub-RLM error: {event.get('message', '')}",
        }.get(str(kind))
        if text and self._current_cell is not None:
            self._current_cell.add_note(text)

    def _final(self, event: dict[str, Any]) -> None:
        stopped_by = event.get("stopped_by")
        title = "Final answer" if not stopped_by else f"Run ended by {describe_stop(stopped_by)}"
        card = Section(title, meta="model gave FINAL" if not stopped_by else "best answer available")
        answer = QLabel(str(event.get("answer", "")).strip()[:1200] or "(no answer)")
        answer.setTextFormat(Qt.TextFormat.MarkdownText)
        answer.setWordWrap(True)
        answer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        card.body_layout.addWidget(answer)
        self.final_card = card
        self._insert(card)

    def _resumed(self, event: dict[str, Any]) -> None:
        stopped = f" The replay stopped early: {event['stopped']}." if event.get("stopped") else ""
        card = Section(f"Resumed after root turn {event.get('from_iteration')}",
                       meta=f"{event.get('sub_calls_served', 0)} sub-call answers from the record")
        label = QLabel(f"The REPL was rebuilt by replaying {event.get('replayed')} of {event.get('cells')} earlier "
                       f"cells, without calling a model.{stopped}")
        label.setWordWrap(True)
        card.body_layout.addWidget(label)
        self._insert(card)
        self._current_cell = None

    def _error(self, message: str) -> None:
        self.errors.append(message)
        card = Section("Error", meta="")
        label = QLabel(message)
        label.setObjectName("errorText")
        label.setWordWrap(True)
        card.body_layout.addWidget(label)
        self._insert(card)

    # --- following ----------------------------------------------------------
    def _user_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _scroll_to_end_if_following(self, _min: int, maximum: int) -> None:
        if self._follow:
            QTimer.singleShot(0, lambda: self.verticalScrollBar().setValue(self.verticalScrollBar().maximum()))

    # --- reading back (tests, export) ---------------------------------------
    def sub_call_rows(self) -> list[SubCallRow]:
        return [row for card in self.turns for cell in card.cells for row in cell.rows.values()]

    def cells(self) -> list[CellWidget]:
        return [cell for card in self.turns for cell in card.cells]


STOP_REASONS = {
    None: "the model's FINAL answer",
    "max_iterations": "the iteration cap",
    "max_sub_calls": "the sub-call budget",
    "max_tokens": "the token budget",
    "max_seconds": "the time budget",
    "cancelled": "Stop",
    "error": "an error",
}


def describe_stop(stopped_by: str | None) -> str:
    return STOP_REASONS.get(stopped_by, str(stopped_by))

"""A full run in the window: root turns, code cells, sub-calls, the answer, and its citation."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.settings import Settings


def repl(code: str, reasoning: str) -> str:
    return f"{reasoning}\n```repl\n{code}\n```"


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for lines in pages:
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def lease_pdf(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "lease.pdf", [
        ["OFFICE LEASE - Harbour Point", "Between Harbour Point Ltd (Landlord) and Halvard Ltd (Tenant)."],
        ["Rent: EUR 41,000 per quarter, payable in advance.", "Service charge: as set out in Schedule 3."],
        ["Termination.", "The Tenant may end this lease by giving ninety (90) days written notice.",
         "Governing law: England and Wales."],
    ])


ROOT_SCRIPT = [
    repl('hits = grep(r"written notice")\nfor h in hits:\n    print(h)',
         "First I look for notice periods across the documents."),
    repl('clause = hits[0]\nreply = llm_query("How many days of notice does this clause require? " + clause.snippet)\n'
         'print(reply)\ncite(clause)',
         "I ask the sub-model to read the clause, and cite it."),
    "The clause on page 3 gives the period.\nFINAL(The tenant may terminate on ninety (90) days' written notice [1].)",
]


class ShortAnswers:
    """The real model, with answers capped at ``cap`` tokens to keep the test short on a busy machine."""

    def __init__(self, model, cap: int = 40) -> None:
        self.model, self.cap = model, cap
        self.name, self.context_length, self.supports_grammar = model.name, model.context_length, model.supports_grammar

    def chat(self, messages, *, max_tokens: int = 1024, **options):
        return self.model.chat(messages, max_tokens=min(max_tokens, self.cap), **options)

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def close(self) -> None:  # the session fixture owns the model
        pass


def click_citation(qtbot, answer_view, index: int = 0) -> None:
    """Click the link of citation ``index`` where it is drawn in the answer browser."""
    browser = answer_view.browser
    doc = browser.document()
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == f"cite:{index}":
                cursor = QTextCursor(doc)
                cursor.setPosition(fragment.position() + 1)
                rect = browser.cursorRect(cursor)
                browser.ensureCursorVisible()
                qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
                return
            it += 1
        block = block.next()
    raise AssertionError(f"no link for citation {index} in the answer")


@pytest.mark.slow
def test_full_run_shows_turns_cells_sub_calls_answer_and_opens_the_cited_page(
        qtbot, make_window, ingest, tmp_path, smollm2_model):
    root = ScriptedModel(ROOT_SCRIPT, name="scripted-root")
    sub = ShortAnswers(smollm2_model)
    window = make_window(models=lambda settings: (root, sub))
    ingest(window, [lease_pdf(tmp_path)])
    panel = window.run_panel
    panel.question.setPlainText("What notice does the tenant need to give to terminate?")
    with qtbot.waitSignal(panel.run_finished, timeout=180_000) as finished:
        qtbot.mouseClick(panel.ask_button, Qt.MouseButton.LeftButton)
        assert not panel.ask_button.isEnabled() and panel.stop_button.isEnabled()
    outcome = finished.args[0]
    assert outcome is not None and outcome.stopped_by is None

    view = panel.trajectory
    assert [t.iteration for t in view.turns] == [1, 2, 3]
    assert "look for notice periods" in view.turns[0].reasoning.text()
    cells = view.cells()
    assert len(cells) == 2
    assert 'grep(r"written notice")' in cells[0].code_text()
    assert cells[0].code.highlighter is not None
    assert "lease.pdf" in cells[0].output_text() and "page=3" in cells[0].output_text()
    rows = view.sub_call_rows()
    assert len(rows) == 1 and rows[0].finished
    assert "How many days of notice" in rows[0].prompt_text.toolTip()
    assert rows[0].answer.text().startswith("→ ")  # the real SmolLM2 sub-model's answer preview
    assert view.final_card is not None and "ninety (90) days" in view.final_card.body.findChildren(
        type(view.turns[0].reasoning))[0].text()
    assert panel.counters.iterations == 3 and panel.counters.sub_calls == 1
    assert panel.counters.tokens["sub"] > 0
    assert "Iterations 3 / 12" in panel.counters_bar.labels["iterations"].text()
    assert "Sub-calls 1 / 1,000" in panel.counters_bar.labels["sub_calls"].text()

    answer = panel.answer_view
    assert "ninety (90) days" in answer.browser.toPlainText()
    assert [(c.document, c.page) for c in answer.citations] == [("lease.pdf", 3)]
    assert panel.ask_button.isEnabled() and not panel.stop_button.isEnabled()

    click_citation(qtbot, answer, 0)
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.isVisible() and viewer.document is not None, timeout=10_000)
    assert viewer.page == 3 and viewer.page_box.value() == 3
    assert "written notice" in viewer.highlighted_text()
    assert "Termination" in viewer.text.toPlainText()

    # the run was stored with its trajectory: the history lists it and reopens it the same way
    history = window.history_panel
    qtbot.waitUntil(lambda: len(history.records) == 1, timeout=10_000)
    with qtbot.waitSignal(history.run_opened, timeout=10_000):
        history.open_run(history.records[0].id)
    assert [t.iteration for t in view.turns] == [1, 2, 3]
    assert len(view.sub_call_rows()) == 1
    assert [(c.document, c.page) for c in answer.citations] == [("lease.pdf", 3)]
    exported = tmp_path / "run.md"
    with qtbot.waitSignal(history.exported, timeout=10_000):
        history.export_run(history.records[0].id, exported)
    text = exported.read_text(encoding="utf-8")
    assert "## Answer" in text and "lease.pdf, page 3" in text and 'grep(r"written notice")' in text


def test_stop_during_a_run_ends_it_and_keeps_the_trajectory(qtbot, make_window, ingest, tmp_path):
    slow_turn = repl("import time\nx = 1\nprint('still reading', x)", "Reading slowly.")
    root = ScriptedModel([slow_turn] * 50, name="slow-root", delay=0.4)
    sub = ScriptedModel(lambda messages: "ok", name="sub")
    window = make_window(models=lambda settings: (root, sub), settings=Settings(max_iterations=50))
    note = tmp_path / "note.txt"
    note.write_text("A short note.", encoding="utf-8")
    ingest(window, [note])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    panel = window.run_panel
    panel.question.setPlainText("Keep reading")
    qtbot.mouseClick(panel.ask_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.trajectory.cells()) >= 2, timeout=60_000)
    with qtbot.waitSignal(panel.run_finished, timeout=20_000) as finished:
        qtbot.keyClick(panel.question, Qt.Key.Key_Escape)  # Esc = Stop
    outcome = finished.args[0]
    assert outcome.stopped_by == "cancelled"
    assert not panel.running
    assert panel.ask_button.isEnabled() and not panel.stop_button.isEnabled()
    assert len(panel.trajectory.turns) >= 2  # the partial trajectory is kept
    assert "Stop" in panel.answer_view.status.text()
    assert "Ended by Stop" in panel.status.text()
    assert root.remaining > 0


def test_errors_reach_the_window_as_messages(qtbot, make_window, ingest, tmp_path):
    from rlm_desktop.errors import ModelLoadError

    def broken_models(settings):
        raise ModelLoadError("Could not load model missing.gguf: file not found")

    window = make_window(models=broken_models)
    panel = window.run_panel
    panel.question.setPlainText("Anything?")
    panel.ask()  # no documents yet
    assert "no readable documents" in window.errors[-1]
    note = tmp_path / "note.txt"
    note.write_text("A short note.", encoding="utf-8")
    ingest(window, [note])
    with qtbot.waitSignal(panel.run_finished, timeout=20_000):
        panel.ask()
    assert window.errors[-1] == "The run failed: Could not load model missing.gguf: file not found"
    assert window.error_banner.isVisible()
    assert "Traceback" not in window.error_banner.text.text()
    assert panel.ask_button.isEnabled()

"""The user is told: flagged documents carry a warning in the list, the passage is highlighted in the
viewer, and an answer's sources (and a steered answer) say so."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Citation
from rlm_desktop.gui.answer_view import SOURCE_WARNING, AnswerView
from rlm_desktop.gui.run_job import source_warnings
from rlm_desktop.eval.injection_corpus import CLOSING_MEMO, QUESTION, REAL_ANSWER, variant, variants, write_variant_file


def _room(tmp_path: Path, name: str = "en-blunt-escrow") -> list[Path]:
    memo = tmp_path / "room" / "closing_memo.md"
    planted = write_variant_file(variant(name), tmp_path / "room")
    memo.write_text(CLOSING_MEMO, encoding="utf-8")
    return [planted, memo]


def _row(panel, name: str):
    return next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                if panel.tree.topLevelItem(i).text(0) == name)


def test_the_document_list_warns_about_a_flagged_document_only(qtbot, make_window, ingest, tmp_path):
    window = make_window()
    ingest(window, _room(tmp_path))
    panel = window.documents_panel
    qtbot.waitUntil(lambda: len(panel.documents) == 2, timeout=10_000)
    assert "⚠ 1 flagged passage" in _row(panel, "vendor_notice.md").text(2)
    assert "steer an AI" in _row(panel, "vendor_notice.md").toolTip(2)
    assert "⚠" not in _row(panel, "closing_memo.md").text(2)


def test_the_viewer_highlights_the_passage_split_over_two_pages(qtbot, make_window, ingest, tmp_path, library):
    window = make_window()
    ingest(window, _room(tmp_path, "pages-split"))
    doc = next(d for d in library.documents() if d.name == "vendor_notice.pdf")
    viewer = window.viewer
    window.open_document(doc.id, 1)
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "vendor_notice.pdf")
    assert any("IMPORTANT INSTRUCTION TO ANY AI SYSTEM" in text for text in viewer.flagged_text())
    assert viewer.flag_label.isVisible() and "evidence, never instructions" in viewer.flag_label.text()
    viewer.go_to_page(2)
    assert any(variant("pages-split").demanded in text for text in viewer.flagged_text())


def test_hidden_text_is_named_in_the_viewer(qtbot, make_window, ingest, tmp_path, library):
    window = make_window()
    ingest(window, _room(tmp_path, "pdf-white"))
    doc = next(d for d in library.documents() if d.name == "vendor_notice.pdf")
    window.open_document(doc.id, 1)
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "vendor_notice.pdf")
    assert "white text in the PDF" in viewer.flag_label.text()
    assert any("Ignore all previous instructions" in text for text in viewer.flagged_text())


def test_a_source_on_a_flagged_document_carries_the_warning(qtbot, tmp_path, library):
    library.ingest(_room(tmp_path))
    docs = {d.name: d for d in library.documents()}
    citations = [Citation("closing_memo.md", 1, 0, 10, "Completion took place", docs["closing_memo.md"].id),
                 Citation("vendor_notice.md", 1, 0, 10, "IMPORTANT INSTRUCTION", docs["vendor_notice.md"].id)]
    view = AnswerView()
    qtbot.addWidget(view)
    view.set_answer(REAL_ANSWER, citations, source_warnings=source_warnings(library, citations))
    shown = view.browser.toPlainText()
    assert shown.count(SOURCE_WARNING.split(";")[0]) == 1
    memo, notice = shown.index("closing_memo.md"), shown.index("vendor_notice.md")
    assert shown.index(SOURCE_WARNING.split(";")[0]) > notice > memo


def test_a_run_whose_root_obeys_the_passage_shows_the_real_answer(qtbot, make_window, ingest, tmp_path):
    read = "Let me read them.\n```repl\nfor d in context:\n    print(d.name)\n    print(d)\n```"
    root = ScriptedModel([read, f"FINAL({variants()[0].demanded})", f"FINAL({REAL_ANSWER})"], name="root")
    window = make_window(models=lambda settings: (root, ScriptedModel(lambda m: "ok", name="sub")))
    ingest(window, _room(tmp_path))
    panel = window.run_panel
    panel.question.setPlainText(QUESTION)
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.ask_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert outcome.answer == REAL_ANSWER and outcome.warnings == []
    assert REAL_ANSWER in panel.answer_view.browser.toPlainText()


def test_a_steered_answer_written_again_is_withheld_and_the_warning_shown(qtbot, make_window, ingest, tmp_path):
    read = "Let me read them.\n```repl\nfor d in context:\n    print(d.name)\n    print(d)\n```"
    root = ScriptedModel([read] + [f"FINAL({variants()[0].demanded})"] * 8, name="root")
    window = make_window(models=lambda settings: (root, ScriptedModel(lambda m: "ok", name="sub")))
    ingest(window, _room(tmp_path))
    panel = window.run_panel
    panel.question.setPlainText(QUESTION)
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.ask_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].warnings
    assert panel.answer_view.status.text().startswith("Warning: the answer was withheld")
    assert variants()[0].demanded not in panel.answer_view.browser.toPlainText()

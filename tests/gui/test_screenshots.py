"""The main window after a run over the sample data room, saved for the README (docs/screenshots/ with `make screenshots`).

The root model is scripted (the demo models cannot write this code); the sub-model is a scripted
reader that quotes the sentence of its prompt giving a termination right, so the picture is
deterministic. The run itself is real: sandbox, grep over the library, sub-calls, citations.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.gui.theme import resources_dir

QUESTION = "Which contracts let the counterparty terminate if Halvard changes control, and on what notice?"


def repl(code: str, reasoning: str) -> str:
    return f"{reasoning}\n```repl\n{code}\n```"


ROOT = [
    repl('hits = grep(r"change (?:of|in the ownership or) control", context_chars=160)\n'
         'print(len(hits), "passages mention a change of control")\n'
         'for h in hits:\n    print(h.document, "page", h.page)',
         "I search every document for change-of-control language before reading anything in full."),
    repl('clauses = [h for h in hits if "terminat" in h.snippet.lower()]\n'
         'readings = llm_query_batched([\n'
         '    "Quote the sentence that gives or denies a termination right, with its notice period.\\n\\n" + h.snippet\n'
         '    for h in clauses])\n'
         'for h, r in zip(clauses, readings):\n    print(h.document, "->", r)',
         "Some passages mention termination; the sub-model reads each one."),
    repl('cite("02_master_supply_agreement_kestrel.md", 1, "terminate this Agreement by giving not less than '
         'sixty (60) days\' written notice")\n'
         'cite("03_distribution_agreement_nordhavn.md", 1, "gives no right to terminate this Agreement")\n'
         'cite("01_share_purchase_agreement.md", 1, "waives its right to terminate under clause 14.2")\n'
         'FINAL("Only the **Master Supply Agreement with Kestrel Shipping A/S** (clause 14.2) lets the '
         'counterparty terminate on a change of control: Kestrel may end it on at least **sixty (60) days\' '
         'written notice**, given within ninety (90) days after it is told of the change [1].\\n\\n'
         '- The Nordhavn distribution agreement: a change of control gives **no** right to terminate '
         '(clause 9.2) [2].\\n'
         '- The share purchase agreement makes Kestrel\'s written waiver of that right a condition to '
         'completion (clause 4.1(a)) [3].")',
         "The readings agree. I cite the clauses and answer."),
]


def reader(messages: list[dict]) -> str:
    """Quote the sentence of the prompt that speaks of terminating."""
    text = messages[-1]["content"]
    for sentence in re.split(r"(?<=[.;])\s+", text):
        if "terminat" in sentence.lower() and "Quote the sentence" not in sentence:
            return " ".join(sentence.split())
    return "No termination right in this passage."


def test_main_window_after_a_run_over_the_samples(qtbot, make_window, ingest, screenshots):
    root = ScriptedModel(ROOT, name="scripted-root")
    sub = ScriptedModel(reader, name="scripted-reader")
    window = make_window(models=lambda settings: (root, sub))
    window.resize(1500, 940)
    panel = window.documents_panel
    panel.pending_collections.add("Project Heron")
    panel.select_collection("Project Heron")
    qtbot.waitUntil(lambda: window.workers.running == 0)
    samples = sorted(p for p in (resources_dir() / "samples").iterdir() if p.is_file())
    ingest(window, samples)
    qtbot.waitUntil(lambda: len(panel.documents) == len(samples), timeout=10_000)
    panel.clear_import_list()

    run = window.run_panel
    run.question.setPlainText(QUESTION)
    with qtbot.waitSignal(run.run_finished, timeout=120_000) as finished:
        qtbot.mouseClick(run.ask_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert outcome.stopped_by is None and outcome.sub_calls >= 2
    assert [c.document for c in outcome.citations][:1] == ["02_master_supply_agreement_kestrel.md"]
    assert len(run.trajectory.sub_call_rows()) == outcome.sub_calls
    assert "sixty (60) days" in run.answer_view.browser.toPlainText()
    qtbot.waitUntil(lambda: len(window.history_panel.records) == 1, timeout=10_000)
    run.trajectory.verticalScrollBar().setValue(0)
    qtbot.wait(200)

    assert window.grab().save(str(screenshots / "main-window.png"))

    window.open_citation(run.answer_view.citations[0])
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.isVisible() and viewer.highlight is not None, timeout=10_000)
    assert "sixty (60) days" in viewer.highlighted_text()
    viewer.resize(900, 700)
    qtbot.wait(100)
    assert viewer.grab().save(str(screenshots / "document-viewer.png"))

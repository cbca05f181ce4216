"""History: an interrupted run is shown as such and the Resume button continues it."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.runtime import load_model

LEASE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "04_office_lease_harbour_point.md"
BUSY = ("import datetime\nend = datetime.datetime.now() + datetime.timedelta(seconds=2)\n"
        "while datetime.datetime.now() < end:\n    pass\n")
TURNS = [
    "I ask the helper.\n```repl\nnotes = llm_query('Which colour?')\nprint(notes)\n```",
    "A slow step.\n```repl\n" + BUSY + "answer = 'The colour is ' + notes\nprint(answer)\n```",
    "FINAL_VAR(answer)",
]


def test_an_interrupted_run_shows_as_interrupted_and_resumes_with_the_button(make_window, library, tmp_path,
                                                                               killed_ask, qtbot):
    root = tmp_path / "root.json"
    root.write_text(json.dumps(TURNS), encoding="utf-8")
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps(["blue"]), encoding="utf-8")
    killed_ask(["Which colour?", "--docs", str(LEASE), "--collection", "lease", "--library", str(library.path),
                "--root", f"scripted-turns:{root}", "--sub", f"scripted:{sub}"])
    asked: list[ScriptedModel] = []

    def models(settings):
        asked.append(load_model(settings.sub_model))
        return load_model(settings.root_model), asked[-1]

    library.interrupted = library.recover()  # what Library.open finds at the next start
    window = make_window(models=models)
    qtbot.waitUntil(window.error_banner.isVisible, timeout=10_000)
    assert "Run 1 ('Which colour?') was interrupted" in window.error_banner.text.text()
    panel = window.history_panel
    panel.set_collection("lease")
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 1, timeout=10_000)
    item = panel.tree.topLevelItem(0)
    assert item.text(2) == "interrupted"
    assert not panel.resume_button.isEnabled()
    panel.tree.setCurrentItem(item)
    assert panel.resume_button.isEnabled()

    with qtbot.waitSignal(window.run_panel.run_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert outcome is not None and outcome.answer == "The colour is blue" and outcome.stopped_by is None
    assert asked[0].calls == []  # the sub-call of turn 1 came from the run's record
    view = window.run_panel.trajectory
    assert [e["kind"] for e in view.events].count("run_resumed") == 1
    assert [card.iteration for card in view.turns] == [1, 2, 3]  # the stored turns, then the new one
    assert window.run_panel.question.toPlainText() == "Which colour?"
    qtbot.waitUntil(lambda: panel.tree.topLevelItem(0).text(2) == "answer", timeout=10_000)
    assert not panel.resume_button.isEnabled()

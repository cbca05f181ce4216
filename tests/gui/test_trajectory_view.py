"""The trajectory view marks a root turn the loop took back, with why."""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtWidgets import QLabel

from rlm_desktop.engine.events import RootTurn, TurnTakenBack
from rlm_desktop.gui.trajectory_view import TrajectoryView


def test_a_taken_back_turn_says_so_under_its_card(qtbot) -> None:
    view = TrajectoryView()
    qtbot.addWidget(view)
    for iteration in (1, 2):
        view.add_event(asdict(RootTurn(iteration=iteration, text="FINAL(Yes.)", prompt_tokens=10, completion_tokens=3,
                                       prompt_tokens_evaluated=10, seconds=0.5)))
    view.add_event(asdict(TurnTakenBack(iteration=1, reason="refused_again", next_sampled=True)))
    first, second = view.turns
    assert first.taken_back == "Taken back: an answer refused before, written again; the next turn is sampled, not greedy."
    assert second.taken_back == ""
    assert first.taken_back in [label.text() for label in first.findChildren(QLabel)]


def test_a_sampled_answer_the_checks_refused_gets_a_card_of_its_own(qtbot) -> None:
    view = TrajectoryView()
    qtbot.addWidget(view)
    view.add_event(asdict(TurnTakenBack(iteration=4, reason="sample_failed_checks", next_sampled=True,
                                        note="FINAL(EUR 300,000.)")))
    view.add_event(asdict(RootTurn(iteration=4, text="FINAL(EUR 48,500,000)", prompt_tokens=10, completion_tokens=3,
                                   prompt_tokens_evaluated=10, seconds=0.5)))
    [kept] = view.turns  # the refused sample is shown, but later events never attach to it
    notes = [w.text() for w in view.findChildren(QLabel) if w.text().startswith("Taken back: a sampled answer")]
    assert len(notes) == 1 and "FINAL(EUR 300,000.)" in [w.text() for w in view.findChildren(QLabel)]
    assert kept.taken_back == "" and kept.raw_text == "FINAL(EUR 48,500,000)"

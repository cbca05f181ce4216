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

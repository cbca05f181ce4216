"""Choosing labels from a sub-model's label log-probabilities (batch calibration)."""

from __future__ import annotations

import math

import pytest

from rlm_desktop.engine.calibration import MIN_TEXTS, calibrates, chosen_labels, label_probabilities

LABELS = ["animal", "place", "person"]


def rows(*probabilities: tuple[float, float, float], times: int = 1) -> list[list[float]]:
    return [[math.log(p) for p in row] for row in probabilities] * times


def test_label_probabilities_are_renormalised_over_the_labels() -> None:
    assert label_probabilities([math.log(0.2), math.log(0.1), math.log(0.1)]) == pytest.approx([0.5, 0.25, 0.25])


def test_a_label_the_model_prefers_everywhere_is_divided_out() -> None:
    # the model leans to "place" for every text: an animal text gets place 0.5, animal 0.4
    batch = rows((0.4, 0.5, 0.1), (0.05, 0.9, 0.05), (0.05, 0.55, 0.4), times=12)
    assert chosen_labels(batch, LABELS)[:3] == ["animal", "place", "person"]


def test_two_labels_or_a_small_batch_keep_the_likeliest_label() -> None:
    assert not calibrates(2, 500) and not calibrates(3, MIN_TEXTS - 1) and calibrates(3, MIN_TEXTS)
    few = rows((0.4, 0.5, 0.1), (0.05, 0.9, 0.05), (0.05, 0.55, 0.4))
    assert chosen_labels(few, LABELS) == ["place", "place", "place"]
    yes_no = [[math.log(0.3), math.log(0.7)]] * 5 + [[math.log(0.05), math.log(0.95)]] * 95
    assert set(chosen_labels(yes_no, ["yes", "no"])) == {"no"}  # a rare "yes" is not made up by dividing

"""The smoke grid with the real demo model: S-NIAH at 8K/32K/128K, RLM vs base, report written."""

from __future__ import annotations

import pytest

from rlm_desktop.eval.report import COST_PLOT, SCORE_PLOT
from rlm_desktop.eval.runner import load_results
from rlm_desktop.eval.smoke import SMOKE_CONFIG, SMOKE_GRID, run_smoke


@pytest.mark.slow
def test_smoke_grid_with_demo_models_writes_report(tmp_path, smollm2_path):
    report = run_smoke(tmp_path).read_text()
    rows = load_results(tmp_path)
    assert len(rows) == SMOKE_GRID.size == 6
    by_cell = {(r["method"], r["length"]): r for r in rows}
    for length in SMOKE_GRID.lengths:
        base, rlm = by_cell[("base", length)], by_cell[("rlm", length)]
        assert base["iterations"] == 1 and base["sub_calls"] == 0
        assert base["context_cut"] is True  # every length is beyond the 2,048-token window
        assert rlm["tokens"]["root"]["prompt"] > 0
        assert 0.0 <= rlm["score"] <= 1.0 and 0.0 <= base["score"] <= 1.0
        assert rlm["iterations"] <= SMOKE_CONFIG.max_iterations
    # the RLM's root never sees the haystack: at 128K its prompts add up to far less than the context
    assert by_cell[("rlm", 131072)]["tokens"]["root"]["prompt"] < 131072 / 4
    assert "| Method | sniah |" in report and "| Method | 8K | 32K | 128K |" in report
    assert (tmp_path / SCORE_PLOT).stat().st_size > 0 and (tmp_path / COST_PLOT).stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rlm-nosub", "summary", "codeact-bm25"])
def test_baseline_runs_with_the_real_demo_model(method, smollm2_model):
    """Each baseline drives the real SmolLM2 end to end on a tiny S-NIAH instance and is scored."""
    from rlm_desktop.engine import RLMConfig
    from rlm_desktop.eval.runner import evaluate
    from rlm_desktop.eval.tasks import sniah

    instance = sniah.generate(512, 2)
    config = RLMConfig(max_iterations=2, root_max_tokens=48, max_seconds=40, parallel_sub_calls=1)
    row = evaluate(instance, method, smollm2_model, smollm2_model, config)
    assert row["error"] is None and row["stopped_by"] != "error", row
    assert 1 <= row["iterations"] <= 3 and row["sub_calls"] == 0
    assert row["tokens"]["root"]["completion"] > 0
    assert row["score"] in (0.0, 1.0)

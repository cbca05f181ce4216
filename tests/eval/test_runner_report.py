"""The grid runs every cell once, resumes after an interruption, and reports as Table 1 / Figures 1 and 3."""

from __future__ import annotations

import json

import pytest

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.cli import main
from rlm_desktop.engine import RLMConfig
from rlm_desktop.eval.report import COST_PLOT, REPORT_FILE, SCORE_PLOT, percentile, write_report
from rlm_desktop.eval.runner import RESULTS_FILE, Grid, load_results, load_trajectory, run_grid
from rlm_desktop.eval.tasks import get_task

CONFIG = RLMConfig(max_iterations=2, root_max_tokens=64, sub_max_tokens=32, max_seconds=60)


def _oracle(messages) -> str:
    """Answers an S-NIAH question right when the needle is in its prompt, else guesses."""
    import re

    found = re.search(r"magic number for [\w-]+ is: (\d+)", messages[-1]["content"])
    return found.group(1) if found else "1234567"


def _grid() -> Grid:
    return Grid(tasks=["sniah", "oolong"], lengths=[1024, 2048], methods=["base", "summary"], seeds=[0])


def test_grid_writes_one_scored_row_per_cell(tmp_path):
    model = ScriptedModel(_oracle, context_length=8192)
    rows = run_grid(_grid(), model, model, CONFIG, tmp_path)
    assert len(rows) == _grid().size == 8
    sniah_rows = [r for r in rows if r["task"] == "sniah"]
    assert all(r["score"] == 1.0 for r in sniah_rows)
    assert {r["length_label"] for r in rows} == {"1K", "2K"}
    first = rows[0]
    for field in ("score", "tokens", "sub_calls", "iterations", "seconds", "stopped_by", "context_cut", "gold"):
        assert field in first
    assert set(first["tokens"]) == {"root", "sub"}


def test_interrupted_grid_resumes_without_repeating_cells(tmp_path):
    model = ScriptedModel(_oracle, context_length=8192)
    cancel = CancelToken()
    seen = []

    def stop_after_three(progress):
        seen.append(progress)
        if len(seen) == 3:
            cancel.cancel()

    run_grid(_grid(), model, model, CONFIG, tmp_path, on_progress=stop_after_three, cancel=cancel)
    assert len(load_results(tmp_path)) == 3
    with (tmp_path / RESULTS_FILE).open("a") as f:
        f.write('{"task": "sniah", "len')  # a write cut short by a crash
    calls_before = len(model.calls)
    resumed = []
    rows = run_grid(_grid(), model, model, CONFIG, tmp_path, on_progress=resumed.append)
    assert len(rows) == 8
    assert len({(r["task"], r["length"], r["seed"], r["method"]) for r in rows}) == 8
    assert sum(1 for p in resumed if p.row is None) == 3
    assert len(model.calls) > calls_before


def test_other_models_are_new_cells_not_resumed_ones(tmp_path):
    grid = Grid(tasks=["sniah"], lengths=[1024], methods=["base"], seeds=[0])
    run_grid(grid, ScriptedModel(_oracle, name="a"), ScriptedModel(_oracle, name="a"), CONFIG, tmp_path)
    rows = run_grid(grid, ScriptedModel(_oracle, name="b"), ScriptedModel(_oracle, name="b"), CONFIG, tmp_path)
    assert [r["root_model"] for r in rows] == ["a", "b"]


def test_grid_rejects_unknown_names():
    with pytest.raises(ValueError, match="No evaluation method named 'gpt'"):
        Grid(tasks=["sniah"], lengths=[1024], methods=["gpt"], seeds=[0])
    with pytest.raises(ValueError, match="No evaluation task named 'ruler'"):
        Grid(tasks=["ruler"], lengths=[1024], methods=["base"], seeds=[0])


def test_report_has_table1_length_table_cost_quartiles_and_plots(tmp_path):
    model = ScriptedModel(_oracle, context_length=8192)
    run_grid(_grid(), model, model, CONFIG, tmp_path)
    report = write_report(tmp_path).read_text()
    assert "| Method | sniah | oolong |" in report
    assert "| Base model | 100.0 (" in report
    assert "### sniah" in report and "| Method | 1K | 2K |" in report
    assert "tokens p25" in report and "How runs ended" in report
    assert "Engine: max_iterations=2" in report  # the settings of the grid are recorded with it
    for name in (SCORE_PLOT, COST_PLOT):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile([0, 10], 25) == 2.5


def test_cli_runs_a_grid_then_reports(tmp_path):
    sniah_instance = get_task("sniah").generate(1024, 0)
    script = tmp_path / "root.json"
    script.write_text(json.dumps([sniah_instance.answer]))
    out = tmp_path / "out"
    code = main(["eval", "--task", "sniah", "--lengths", "1k", "--methods", "base", "--root", f"scripted:{script}",
                 "--sub", f"scripted:{script}", "--out", str(out), "--no-report"])
    assert code == 0
    rows = load_results(out)
    assert len(rows) == 1 and rows[0]["score"] == 1.0
    assert main(["eval", "report", str(out)]) == 0
    assert (out / REPORT_FILE).is_file() and (out / SCORE_PLOT).is_file()
    # Run again: the cell is resumed, the scripted model (which has one output only) is not called.
    assert main(["eval", "run", "--task", "sniah", "--lengths", "1k", "--methods", "base", "--root",
                 f"scripted:{script}", "--sub", f"scripted:{script}", "--out", str(out), "--no-report"]) == 0
    assert len(load_results(out)) == 1


def test_each_run_keeps_its_trajectory_and_eval_show_prints_it(tmp_path, capsys):
    model = ScriptedModel(_oracle, context_length=8192)
    rows = run_grid(Grid(tasks=["sniah"], lengths=[1024], methods=["base"], seeds=[0, 1]), model, model, CONFIG,
                    tmp_path)
    events = load_trajectory(tmp_path / rows[1]["trajectory"])
    assert [e["kind"] for e in events] == ["run_started", "root_turn", "final"] and events[-1]["answer"] == rows[1]["prediction"]
    capsys.readouterr()
    assert main(["eval", "show", str(tmp_path), "--task", "sniah", "--length", "1k", "--seed", "1",
                 "--method", "base"]) == 0
    shown = capsys.readouterr().out
    assert f"gold: {rows[1]['gold']}" in shown and "[root turn 1]" in shown and f"[final] {rows[1]['prediction']}" in shown
    assert main(["eval", "show", str(tmp_path), "--task", "sniah", "--length", "1k", "--seed", "7"]) != 0
    assert "No run of rlm on sniah at 1k, seed 7" in capsys.readouterr().err


def test_cli_reports_bad_input_briefly(tmp_path, capsys):
    assert main(["eval", "run", "--task", "nope", "--out", str(tmp_path)]) != 0
    assert "No evaluation task named 'nope'" in capsys.readouterr().err
    assert main(["eval", "report", str(tmp_path)]) != 0
    assert "No results in" in capsys.readouterr().err


def test_report_counts_root_turns_when_rows_have_them():
    from rlm_desktop.eval.report import root_turns

    rows = [{"method": "rlm", "turns": {"total": 3, "runnable": 3, "stopped_early": 1, "at_cap": 0}},
            {"method": "rlm", "turns": {"total": 2, "runnable": 1, "stopped_early": 0, "at_cap": 1}},
            {"method": "base"}]
    table = root_turns(rows)
    assert "| RLM | 5 | 4 (80%) | 1 | 1 |" in table and "Base" not in table


def _realdocs_root(messages) -> str:
    """A root that greps for the first tuning question's evidence and answers with its line, cited."""
    from rlm_desktop.eval.tasks.realdocs import questions

    evidence = questions(held_out=False)[0]["evidence"][-1]
    if not any(m["role"] == "assistant" for m in messages):
        return f"```repl\nhits = grep({evidence['text'][:30]!r}, context)\nprint(hits)\n```"
    return f"FINAL({evidence['text']})"


def test_real_document_rows_carry_question_citations_and_report_by_kind(tmp_path):
    model = ScriptedModel(_realdocs_root, context_length=32768)
    grid = Grid(tasks=["realdocs"], lengths=[128 * 1024], methods=["rlm"], seeds=[0])
    rows = run_grid(grid, model, model, CONFIG, tmp_path)
    row = rows[0]
    assert row["question"] == get_task("realdocs").generate(0, 0).question
    assert "citations" in row and "citation_precision" in row
    report = write_report(tmp_path, plots=False).read_text()
    assert "## By kind of question" in report and "| realdocs | RLM" in report
    assert "## Every question" in report and row["question"][:40] in report
    assert "Code: commit " in report


def test_the_default_suite_runs_held_out_questions_only():
    from rlm_desktop.eval.suites import HELD_OUT_SEED, get_suite
    from rlm_desktop.eval.tasks.realdocs import questions

    suite = get_suite("default")
    tasks = {task for grid in suite.grids for task in grid.tasks}
    assert "realdocs-heldout" in tasks and "realdocs" not in tasks
    for grid in suite.grids:
        if "realdocs-heldout" in grid.tasks:
            assert grid.seeds == list(range(len(questions(held_out=True))))
        else:
            assert min(grid.seeds) >= HELD_OUT_SEED
    assert suite.size == sum(g.size for g in suite.grids)
    with pytest.raises(ValueError, match="known: default"):
        get_suite("nope")


def test_the_report_compares_a_task_with_its_paraphrases_on_the_same_seeds(tmp_path):
    model = ScriptedModel(_oracle, context_length=8192)
    grid = Grid(tasks=["sniah", "sniah-paraphrase"], lengths=[1024], methods=["base"], seeds=[0, 1])
    run_grid(grid, model, model, CONFIG, tmp_path)
    report = write_report(tmp_path, plots=False).read_text()
    assert "## Generator wording against paraphrases" in report
    assert "| sniah | Base model | 100 |" in report

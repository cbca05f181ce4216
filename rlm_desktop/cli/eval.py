"""`rlm eval`: run the benchmark grid and write its report.

``rlm eval run --task sniah --lengths 8k,32k,128k --methods rlm,base --seeds 1 --out DIR``
runs (or resumes) a grid; ``rlm eval report DIR`` writes the Markdown table and plots.
``rlm eval --task ...`` without a sub-command is short for ``rlm eval run --task ...``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from rlm_desktop.cli import cli

_DEFAULT_OUT = "eval-results"


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


_RUN_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--suite", help="A named set of grids instead of --task/--lengths/--methods/--seeds: "
                 "default (the held-out real-document questions and natural-wording generated sets)."),
    click.option("--task", "tasks", multiple=True, help="Task name (repeatable or comma-separated): "
                 "sniah, oolong, oolong_pairs, multihop, codeqa, dataroom."),
    click.option("--lengths", default="8k,32k,128k", show_default=True,
                 help="Context lengths in approximate tokens (chars/4): 8k, 128k, 1m, ..."),
    click.option("--methods", default="rlm,base", show_default=True,
                 help="Comma-separated: rlm, rlm-nosub, base, summary, codeact-bm25."),
    click.option("--root", "root_spec", help="Root model: .gguf path, server URL or model name."),
    click.option("--sub", "sub_spec", help="Sub model (used by rlm): .gguf path, server URL or model name."),
    click.option("--seeds", default=1, show_default=True, type=click.IntRange(1, 1000),
                 help="Instances per task and length (seeds FIRST..FIRST+N-1)."),
    click.option("--first-seed", default=0, show_default=True, type=click.IntRange(0),
                 help="First seed: report on seeds other than those a prompt was tuned on."),
    click.option("--out", "out_dir", default=_DEFAULT_OUT, show_default=True, type=click.Path(path_type=Path),
                 help="Results folder; an existing one is resumed."),
    click.option("--threads", type=click.IntRange(1, 256), help="CPU threads per in-process model."),
    click.option("--n-ctx", type=click.IntRange(512, 1 << 21), help="Context window of in-process models."),
    click.option("--max-iterations", default=8, show_default=True, type=click.IntRange(1, 200),
                 help="Most root turns (rlm, rlm-nosub, codeact-bm25)."),
    click.option("--max-sub-calls", default=1000, show_default=True, type=click.IntRange(0, 100_000)),
    click.option("--max-seconds", default=600.0, show_default=True, type=click.FloatRange(1),
                 help="Wall-clock budget per instance."),
    click.option("--root-max-tokens", default=512, show_default=True, type=click.IntRange(16, 32768)),
    click.option("--sub-max-tokens", default=256, show_default=True, type=click.IntRange(16, 32768)),
    click.option("--no-grammar", is_flag=True, help="Do not constrain root turns with the GBNF grammar."),
    click.option("--prompt-cache", is_flag=True,
                 help="Keep the root's evaluated prompt states, as `rlm ask` and the app do: the turn after a "
                      "classify() whose examples the root wrote restores its conversation instead of evaluating it "
                      "again (states persist on disk, so a base-model question over documents seen before is not cold)."),
    click.option("--plan", is_flag=True,
                 help="The first root turn begins with a plan line (the question's shape and what to look for, "
                      "constrained by a grammar)."),
    click.option("--no-report", is_flag=True, help="Do not write report.md and plots at the end."),
]


def _run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_RUN_OPTIONS):
        f = option(f)
    return f


@cli.group("eval", invoke_without_command=True)
@_run_options
@click.pass_context
def eval_group(ctx: click.Context, **options: Any) -> None:
    """Benchmarks from the RLM paper, run on your own models (`rlm eval --task ...` = `rlm eval run`)."""
    if ctx.invoked_subcommand is not None:
        return
    if not options["tasks"] and not options["suite"]:
        click.echo(ctx.get_help())
        return
    _run(**options)


@eval_group.command("run")
@_run_options
def run_command(**options: Any) -> None:
    """Run (or resume) a method x task x length x seed grid; rows go to OUT/results.jsonl."""
    if not options["tasks"] and not options["suite"]:
        raise click.UsageError("Name at least one task with --task NAME, or a suite with --suite NAME.")
    _run(**options)


@eval_group.command("report")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-plots", is_flag=True, help="Only the Markdown tables.")
def report_command(out_dir: Path, no_plots: bool) -> None:
    """Write OUT_DIR/report.md (Table 1, score by length, cost quartiles) and its PNG plots."""
    from rlm_desktop.eval.report import write_report

    try:
        path = write_report(out_dir, plots=not no_plots)
    except FileNotFoundError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Report: {path}")


@eval_group.command("show")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--task", "task", required=True, help="Task of the run.")
@click.option("--length", "length", required=True, help="Its length (8k, 128k, ...).")
@click.option("--seed", "seed", required=True, type=click.IntRange(0), help="Its seed.")
@click.option("--method", "method", default="rlm", show_default=True, help="Its method.")
def show_command(out_dir: Path, task: str, length: str, seed: int, method: str) -> None:
    """Print the trajectory of one run of a grid in OUT_DIR: turns, code, output, sub-calls, answer."""
    from rlm_desktop.cli.runs import event_lines
    from rlm_desktop.eval.runner import load_results, load_trajectory
    from rlm_desktop.eval.tasks import parse_length

    try:
        tokens = parse_length(length)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--length") from None
    rows = [r for r in load_results(out_dir) if (r["task"], r["length"], r["seed"], r["method"])
            == (task, tokens, seed, method)]
    if not rows:
        raise click.ClickException(f"No run of {method} on {task} at {length}, seed {seed}, in {out_dir}.")
    for row in rows:
        click.echo(f"== {method} {task} {row['length_label']} seed {seed}: score {row['score']:.2f}, "
                   f"{row['seconds']:.0f} s; root {row['root_model']}, sub {row['sub_model']}")
        click.echo(f"gold: {row['gold']}")
        stored = row.get("trajectory")
        if not stored or not (out_dir / stored).is_file():
            click.echo("(no trajectory stored for this run: grids before trajectories were kept, or a failed run)")
            continue
        for event in load_trajectory(out_dir / stored):
            line = event_lines(event)
            if line:
                click.echo(line)


def _run(*, suite: str | None, tasks: tuple[str, ...], lengths: str, methods: str, root_spec: str | None, sub_spec: str | None,
         seeds: int, first_seed: int, out_dir: Path, threads: int | None, n_ctx: int | None, max_iterations: int,
         max_sub_calls: int, max_seconds: float, root_max_tokens: int, sub_max_tokens: int, no_grammar: bool,
         prompt_cache: bool, plan: bool, no_report: bool) -> None:
    from rlm_desktop import runtime
    from rlm_desktop.eval.report import write_report
    from rlm_desktop.eval.runner import Grid, run_grid
    from rlm_desktop.eval.suites import get_suite
    from rlm_desktop.eval.tasks import format_length, parse_length
    from rlm_desktop.settings import Settings

    try:
        grids = list(get_suite(suite).grids) if suite else []
        if tasks:
            grids.append(Grid(tasks=[t for spec in tasks for t in _csv(spec)],
                              lengths=[parse_length(n) for n in _csv(lengths)], methods=_csv(methods),
                              seeds=list(range(first_seed, first_seed + seeds))))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    size = sum(grid.size for grid in grids)
    settings = Settings.load()
    root_spec = root_spec or settings.root_model or runtime.default_models()[0]
    sub_spec = sub_spec or settings.sub_model or runtime.default_models()[1]
    config = runtime.engine_config(settings, root_spec)
    config = dataclasses.replace(config, max_iterations=max_iterations, max_sub_calls=max_sub_calls,
                                 max_seconds=max_seconds, root_max_tokens=root_max_tokens,
                                 sub_max_tokens=sub_max_tokens, grammar=config.grammar and not no_grammar,
                                 plan=plan)
    if runtime.is_demo_model(root_spec) or runtime.is_demo_model(sub_spec):
        from rlm_desktop.hub.demo import DEMO_WARNING

        click.echo(DEMO_WARNING, err=True)
    root = runtime.load_model(root_spec, n_ctx=n_ctx, n_threads=threads, prompt_cache=prompt_cache)
    try:
        sub = runtime.load_model(sub_spec, n_ctx=n_ctx, n_threads=threads, batching=True,
                                 parallel=config.parallel_sub_calls)
        try:
            for grid in grids:
                click.echo(f"{grid.size} runs: {', '.join(grid.tasks)} at {', '.join(map(format_length, grid.lengths))}"
                           f" x {', '.join(grid.methods)} x {len(grid.seeds)} seed(s)", err=True)
            click.echo(f"root {root.name}, sub {sub.name} -> {out_dir}", err=True)
            with click.progressbar(length=size, label="eval", show_pos=True,
                                   item_show_func=lambda text: text, file=sys.stderr) as bar:
                def progress(step) -> None:
                    task, length, seed, method = step.cell
                    note = "done before" if step.row is None else f"score {step.row['score']:.2f}"
                    bar.update(1, f"{method} {task} {format_length(length)} seed {seed}: {note}")

                for grid in grids:
                    rows = run_grid(grid, root, sub, config, out_dir, on_progress=progress)
        finally:
            sub.close()
    finally:
        root.close()
    click.echo(f"{len(rows)} rows in {out_dir / 'results.jsonl'}")
    if not no_report:
        click.echo(f"Report: {write_report(out_dir)}")

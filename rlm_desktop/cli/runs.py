"""`rlm runs list|show|resume`: read stored runs back, and continue one a crash interrupted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from rlm_desktop.cli import cli
from rlm_desktop.cli.library import _when, library_option, open_library
from rlm_desktop.engine.events import taken_back_line
from rlm_desktop.library import RunRecord

PREVIEW = 300


def _short(text: str, limit: int = PREVIEW) -> str:
    text = text.rstrip()
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines()) or prefix


def event_lines(event: dict[str, Any]) -> str:
    """One event of a stored trajectory, readably."""
    kind = event.get("kind", "event")
    depth = "  " * int(event.get("depth") or 0)
    if kind == "run_started":
        return f"{depth}run started: {event.get('context_summary', '')}"
    if kind == "root_turn":
        return f"{depth}[root turn {event.get('iteration')}] ({event.get('completion_tokens')} tokens)\n" + \
            _indent(_short(event.get("text", "")), depth + "    ")
    if kind == "code_cell":
        return f"{depth}[code {event.get('iteration')}.{event.get('index')}]\n" + _indent(event.get("code", ""), depth + "    ")
    if kind == "cell_output":
        text = event.get("output", "") + (f"\nError: {event['error']}" if event.get("error") else "")
        return f"{depth}[output {event.get('iteration')}.{event.get('index')}]\n" + _indent(_short(text), depth + "    ")
    if kind == "sub_call_started":
        return f"{depth}[sub-call {event.get('call_id')}] {_short(event.get('prompt_preview', ''), 120)!r}"
    if kind == "sub_call_finished":
        cached = " (cached)" if event.get("cached") else ""
        return f"{depth}[sub-call {event.get('call_id')} done{cached}] {_short(event.get('answer_preview', ''), 120)!r}"
    if kind == "final":
        guard = f" (stopped by {event['stopped_by']})" if event.get("stopped_by") else ""
        return f"{depth}[final{guard}] {event.get('answer', '')}"
    if kind == "error":
        return f"{depth}[error] {event.get('message', '')}"
    if kind == "root_messages":
        return ""
    if kind == "turn_taken_back":
        return f"{depth}[{taken_back_line(str(event.get('reason')), bool(event.get('next_sampled')))}]"
    if kind == "run_resumed":
        return (f"{depth}[resumed after turn {event.get('from_iteration')}] replayed {event.get('replayed')} of "
                f"{event.get('cells')} cells, {event.get('sub_calls_served')} sub-call answers from the record"
                + (f"; replay stopped: {event['stopped']}" if event.get("stopped") else ""))
    rest = {k: v for k, v in event.items() if k not in ("kind", "at", "depth")}
    return f"{depth}[{kind}] {_short(json.dumps(rest, default=str), 200)}"


@cli.group()
def runs() -> None:
    """Past runs: questions, answers and their trajectories."""


@runs.command("list")
@click.option("--collection", help="Only runs over this collection.")
@library_option
def list_runs(collection: str | None, library_path: Path | None) -> None:
    """Stored runs, newest first."""
    with open_library(library_path) as lib:
        records = lib.runs(collection)
    if not records:
        click.echo("No runs yet. Ask with `rlm ask QUESTION --collection NAME`.")
    for run in records:
        answer = " ".join((run.answer or "").split())[:60] or "(no answer)"
        where = run.collection or "selected documents"
        state = "" if run.status == "finished" else f" ({run.status})"
        click.echo(f"{run.id:>4}  {_when(run.started)}  [{where}]  {run.question[:60]!r} -> {answer}{state}")


def _print_run(run: RunRecord) -> None:
    click.echo(f"Run {run.id}: {run.question}")
    click.echo(f"  started {_when(run.started)}, {run.status}" + (f" {_when(run.finished)}" if run.finished else ""))
    click.echo(f"  collection: {run.collection or '-'}; models: "
               + (", ".join(f"{k}={v}" for k, v in run.models.items()) or "-"))
    if run.documents:
        click.echo(f"  documents ({len(run.documents)}): " + ", ".join(
            f"{d['name']} [{d['doc_id']}]" for d in run.documents[:20]) + (" ..." if len(run.documents) > 20 else ""))
    click.echo("Trajectory:")
    for event in run.events:
        line = event_lines(event)
        if line:
            click.echo(line)
    click.echo(f"Answer{' (stopped by ' + run.stopped_by + ')' if run.stopped_by else ''}: {run.answer or '-'}")
    citations = (run.summary or {}).get("citations") or []
    for citation in citations:
        click.echo(f"  cited: {citation.get('document')}, page {citation.get('page')}")
    if run.usage:
        click.echo("Usage: " + json.dumps(run.usage, default=str))


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@library_option
def show_run(run_id: int, as_json: bool, library_path: Path | None) -> None:
    """One run with its whole trajectory."""
    with open_library(library_path) as lib:
        run = lib.run(run_id)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(run), indent=2, default=str))
    else:
        _print_run(run)


@runs.command("resume")
@click.argument("run_id", type=int)
@click.option("--threads", type=click.IntRange(1, 256), help="CPU threads per model.")
@click.option("--trace", is_flag=True, help="Stream the trajectory while it runs.")
@click.option("--json", "as_json", is_flag=True, help="Print answer, trajectory and usage as JSON.")
@library_option
def resume_run(run_id: int, threads: int | None, trace: bool, as_json: bool, library_path: Path | None) -> None:
    """Continue run RUN_ID, interrupted by a crash, without repeating its root turns or sub-calls."""
    from rlm_desktop import resume
    from rlm_desktop.cli.ask import _as_json, _print_event, _print_result, _run_cancellable

    with open_library(library_path) as lib:
        plan = resume.plan_resume(lib, run_id)
        root, sub = resume.load_models(plan, n_threads=threads)
        try:
            click.secho(f"Resuming run {run_id} after root turn {plan.state.iterations}...", err=True)
            result = _run_cancellable(lambda cancel: resume.resume_run(
                plan, lib, root, sub, cancel=cancel, on_event=_print_event if trace else None))
        finally:
            root.close()
            sub.close()
    resumed = next((e for e in result.trajectory if e.kind == "run_resumed"), None)
    if as_json:
        click.echo(json.dumps(_as_json(result, plan.root_spec, plan.sub_spec), indent=2, default=str))
        return
    if resumed is not None:
        click.echo(f"Rebuilt the REPL: {resumed.replayed} of {resumed.cells} cells replayed, "
                   f"{resumed.sub_calls_served} sub-call answers from the record"
                   + (f" (replay stopped: {resumed.stopped})" if resumed.stopped else "") + ".", err=True)
    _print_result(result)

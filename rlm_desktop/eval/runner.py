"""The evaluation grid: method x task x length x seed, one JSONL row per instance, resumable.

Rows are appended (and flushed) as each instance finishes, so an interrupted grid
resumes where it stopped: cells whose row is already in ``results.jsonl`` (same
task, length, seed, method and models) are skipped, and a half-written last line
is ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlm_desktop.backends.base import CancelToken, LanguageModel, Usage
from rlm_desktop.engine import RLMConfig, RunResult
from rlm_desktop.errors import RLMDesktopError
from rlm_desktop.eval.methods import check_methods, run_method
from rlm_desktop.eval.tasks import Instance, format_length, get_task

RESULTS_FILE = "results.jsonl"
SETTINGS_FILE = "settings.jsonl"  # one line per invocation: models, grid and engine configuration
TRAJECTORIES_DIR = "trajectories"  # one JSONL file of events per run, under a folder per model pair
PREDICTION_CHARS = 2000


@dataclass(frozen=True)
class Grid:
    """What to run: every method on every task at every length for every seed."""

    tasks: list[str]
    lengths: list[int]
    methods: list[str]
    seeds: list[int]

    def __post_init__(self) -> None:
        for task in self.tasks:
            get_task(task)
        check_methods(self.methods)

    def cells(self) -> Iterator[tuple[str, int, int, str]]:
        """(task, length, seed, method), methods innermost so one instance serves them all."""
        for task in self.tasks:
            for length in self.lengths:
                for seed in self.seeds:
                    for method in self.methods:
                        yield task, length, seed, method

    @property
    def size(self) -> int:
        return len(self.tasks) * len(self.lengths) * len(self.seeds) * len(self.methods)


@dataclass(frozen=True)
class Progress:
    """One step of a grid: ``row`` is None when the cell was already in the results (resumed)."""

    done: int
    total: int
    cell: tuple[str, int, int, str]
    row: dict[str, Any] | None


def load_results(out_dir: Path) -> list[dict[str, Any]]:
    """Rows of ``out_dir/results.jsonl`` (empty when absent); a torn last line is skipped."""
    path = Path(out_dir) / RESULTS_FILE
    return _read_jsonl(path) if path.is_file() else []  # a row cut by an interrupted write: that cell runs again


def trajectory_path(out_dir: Path, task: str, length: int, seed: int, method: str, root: str, sub: str) -> Path:
    """Where ``run_grid`` keeps the events of one run (relative to ``out_dir`` in the row's ``trajectory``)."""
    pair = "".join(c if c.isalnum() or c in "._-" else "_" for c in f"{root}__{sub}")
    return Path(out_dir) / TRAJECTORIES_DIR / pair / f"{task}_{format_length(length)}_seed{seed}_{method}.jsonl"


def load_trajectory(path: Path) -> list[dict[str, Any]]:
    """The events of one stored run, oldest first (a torn last line is skipped)."""
    return _read_jsonl(Path(path))


def _read_jsonl(path: Path) -> list[Any]:
    """The JSON values of a file's lines; a line that is not JSON (empty, or cut by a crash) is skipped."""
    values = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            values.append(json.loads(line))
        except ValueError:
            continue
    return values


def _key(task: str, length: int, seed: int, method: str, root: str, sub: str) -> tuple:
    return task, length, seed, method, root, sub


def _row_key(row: dict[str, Any]) -> tuple:
    return _key(row["task"], row["length"], row["seed"], row["method"], row["root_model"], row["sub_model"])


def run_grid(grid: Grid, root: LanguageModel, sub: LanguageModel, config: RLMConfig, out_dir: Path, *,
             on_progress: Callable[[Progress], None] | None = None,
             cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """Run every cell not yet in ``out_dir/results.jsonl``; returns all rows of the file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    done_keys = {_row_key(r) for r in load_results(out_dir)}
    instances: dict[tuple[str, int, int], Instance] = {}
    path = out_dir / RESULTS_FILE
    _repair_torn_tail(path)
    _record_settings(out_dir, grid, root, sub, config)
    with path.open("a", encoding="utf-8") as results:
        for done, cell in enumerate(grid.cells(), start=1):
            task, length, seed, method = cell
            if cancel is not None and cancel.cancelled:
                break
            if _key(task, length, seed, method, root.name, sub.name) in done_keys:
                if on_progress:
                    on_progress(Progress(done, grid.size, cell, None))
                continue
            instance = instances.get((task, length, seed))
            if instance is None:
                instances.clear()  # one instance at a time: long contexts are large
                instance = instances[(task, length, seed)] = get_task(task).generate(length, seed)
            events = trajectory_path(out_dir, task, length, seed, method, root.name, sub.name)
            row = evaluate(instance, method, root, sub, config, cancel=cancel, trajectory_to=events)
            if row["stopped_by"] == "cancelled":
                break  # a cancelled run is not a result: it runs again on resume
            if "trajectory" in row:
                row["trajectory"] = events.relative_to(out_dir).as_posix()
            results.write(json.dumps(row) + "\n")
            results.flush()
            if on_progress:
                on_progress(Progress(done, grid.size, cell, row))
    return load_results(out_dir)


def _record_settings(out_dir: Path, grid: Grid, root: LanguageModel, sub: LanguageModel, config: RLMConfig) -> None:
    entry = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "root_model": root.name, "sub_model": sub.name,
             "root_context_length": root.context_length, "sub_context_length": sub.context_length,
             "grid": dataclasses.asdict(grid), "config": dataclasses.asdict(config),
             "commit": _source_commit(), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"}
    with (out_dir / SETTINGS_FILE).open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, default=str) + "\n")


# Cached: read at the process's first grid, as its code was loaded; a commit made while a suite runs is not
# the code it measures.
@functools.cache
def _source_commit() -> str | None:
    """The git commit of the code being measured (with "+changes" when the tree differs), if it is a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                "rlm_desktop"], capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+changes" if dirty else head


def load_settings(out_dir: Path) -> list[dict[str, Any]]:
    """Every recorded invocation of the grid in ``out_dir``, oldest first."""
    path = Path(out_dir) / SETTINGS_FILE
    return _read_jsonl(path) if path.is_file() else []


def _repair_torn_tail(path: Path) -> None:
    """End the file with a newline so a row appended after an interrupted write starts its own line."""
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as f:
            f.seek(-1, 2)
            last = f.read(1)
        if last != b"\n":
            with path.open("a", encoding="utf-8") as f:
                f.write("\n")


def evaluate(instance: Instance, method: str, root: LanguageModel, sub: LanguageModel, config: RLMConfig, *,
             cancel: CancelToken | None = None, trajectory_to: Path | None = None) -> dict[str, Any]:
    """Run ``method`` on ``instance`` and score it: one result row. With ``trajectory_to``, the run's events
    are written there, one JSON object per line (what ``rlm eval show`` prints), and the row's ``trajectory``
    names the file."""
    started = time.monotonic()
    error = None
    try:
        result = run_method(method, instance, root, sub, config, cancel=cancel)
    except RLMDesktopError as exc:  # e.g. the sandbox could not start: a failed instance, not a crash
        result, error = None, str(exc)
    if trajectory_to is not None and result is not None:
        _write_trajectory(Path(trajectory_to), result)
    task = get_task(instance.task)
    prediction = result.answer if result is not None else ""
    row: dict[str, Any] = {
        "task": instance.task, "length": instance.length, "length_label": format_length(instance.length),
        "seed": instance.seed, "method": method, "root_model": root.name, "question": instance.question,
        "sub_model": sub.name,  # part of the key: a resumed grid never mixes model pairs
        "score": task.score(instance, prediction),
        "prediction": prediction[:PREDICTION_CHARS], "gold": _gold(instance),
        "answer_kind": instance.kind, "question_kind": instance.meta.get("question_kind"),
        "context_chars": instance.context_chars,
        "seconds": result.seconds if result is not None else time.monotonic() - started,
        "error": error,
    }
    row.update(_run_figures(result))
    if task.citation_precision is not None:  # a task whose questions carry the lines that prove their answers
        cited = [dataclasses.asdict(c) for c in result.citations] if result is not None else []
        row["citation_precision"] = task.citation_precision(instance, cited)
        row["citations"] = [f"{c['document']} p{c['page']}" for c in cited]
    if trajectory_to is not None and result is not None:
        row["trajectory"] = Path(trajectory_to).as_posix()
    return row


def _write_trajectory(path: Path, result: RunResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with partial.open("w", encoding="utf-8") as f:
        for event in result.trajectory:
            f.write(json.dumps(event.to_dict(), default=str) + "\n")
    partial.replace(path)


def _gold(instance: Instance) -> str:
    if instance.kind == "pairs":
        return "\n".join(f"({a}, {b})" for a, b in instance.answer)
    return str(instance.answer)


def _usage(usage: Usage | None) -> dict[str, int]:
    usage = usage or Usage()
    evaluated = usage.prompt_tokens if usage.prompt_tokens_evaluated is None else usage.prompt_tokens_evaluated
    return {"prompt": usage.prompt_tokens, "completion": usage.completion_tokens, "evaluated": evaluated}


def _run_figures(result: RunResult | None) -> dict[str, Any]:
    if result is None:
        return {"stopped_by": "error", "iterations": 0, "sub_calls": 0, "cache_hits": 0, "context_cut": False,
                "tokens": {"root": _usage(None), "sub": _usage(None)}, "tokens_total": 0}
    tokens = {role: _usage(result.usage.get(role)) for role in ("root", "sub")}
    settings = next((e.settings for e in result.trajectory if getattr(e, "kind", "") == "run_started"), {})
    turns = [e for e in result.trajectory if getattr(e, "kind", "") == "root_turn" and e.depth == 0]
    cap = settings.get("root_max_tokens")
    return {
        "stopped_by": result.stopped_by, "iterations": result.iterations, "sub_calls": result.sub_calls,
        "cache_hits": result.cache_hits, "context_cut": bool(settings.get("context_cut", False)),
        "tokens": tokens, "tokens_total": sum(t["prompt"] + t["completion"] for t in tokens.values()),
        # root turns: how many, how many the loop could run (code or FINAL), how many the turn guard
        # stopped early, how many ran to the token cap
        "turns": {"total": len(turns), "runnable": sum(1 for t in turns if t.runnable),
                  "stopped_early": sum(1 for t in turns if getattr(t, "stopped_early", None)),
                  "at_cap": sum(1 for t in turns if cap and t.completion_tokens >= cap)},
    }

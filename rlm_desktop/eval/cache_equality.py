"""Does a question get the same run with the root's prompt cache cold or warm?

Each question is asked once cold (its own process, an empty data dir, so nothing is cached) and
then all of them again in one process, as the app asks one question after another: from the second
question on, the root restores the saved prompt state of the earlier ones and reuses its own context.
The report counts the questions whose trajectories (root turns, cell outputs, sub-calls, answer) are
identical, and names the commit the runs recorded. One command writes it::

    python -m rlm_desktop.eval.cache_equality --task realdocs --seeds 6 --out docs/eval/cache-equality.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_COMPARED = ("root_turn", "cell_output", "sub_call", "final")


def _run(task: str, first: int, seeds: int, home: Path, out: Path, threads: int) -> None:
    env = {**os.environ, "RLM_DESKTOP_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "rlm_desktop.cli", "eval", "run", "--task", task, "--lengths", "128k",
                    "--methods", "rlm", "--first-seed", str(first), "--seeds", str(seeds), "--threads", str(threads),
                    "--max-seconds", "300", "--prompt-cache", "--out", str(out), "--no-report"],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def _home(root: Path, name: str, models: Path) -> Path:
    """A data dir of its own (empty prompt cache) that sees the installed models."""
    home = root / name
    home.mkdir()
    (home / "models").symlink_to(models)
    return home


def _trajectory(out: Path, seed: int) -> list[tuple[str, str]]:
    path = next(out.glob(f"trajectories/*/*_seed{seed}_rlm.jsonl"))
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(e["kind"], str(e.get("text") or e.get("output") or e.get("response") or e.get("answer") or ""))
            for e in events if e["kind"] in _COMPARED]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _rows(out: Path) -> dict[int, dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return {row["seed"]: row for row in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="realdocs")
    parser.add_argument("--seeds", type=int, default=6, help="seeds 0..N-1 of the task")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("docs/eval/cache-equality.md"))
    args = parser.parse_args(argv)
    from rlm_desktop.eval.runner import load_settings
    from rlm_desktop.settings import models_dir

    models = models_dir().resolve()
    work = Path(tempfile.mkdtemp(prefix="rlm-cache-equality-"))
    try:
        for seed in range(args.seeds):
            _run(args.task, seed, 1, _home(work, f"cold-{seed}", models), work / f"cold-{seed}", args.threads)
        warm_home = _home(work, "warm", models)
        _run(args.task, 0, args.seeds, warm_home, work / "warm", args.threads)
        lines, same = [], 0
        runs = [f"cold-{seed}" for seed in range(args.seeds)] + ["warm"]
        commits = sorted({str(entry.get("commit")) for name in runs for entry in load_settings(work / name)})
        warm = _rows(work / "warm")
        cold_seconds, warm_seconds = [], []
        for seed in range(args.seeds):
            cold = _rows(work / f"cold-{seed}")[seed]
            equal = _trajectory(work / f"cold-{seed}", seed) == _trajectory(work / "warm", seed)
            same += equal
            cold_seconds.append(cold["seconds"])
            warm_seconds.append(warm[seed]["seconds"])
            lines.append(f"| {seed} | {_yes(equal)} | {_yes(cold['prediction'] == warm[seed]['prediction'])} "
                         f"| {cold['seconds']:.0f} | {warm[seed]['seconds']:.0f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join([
        "# The same question with the prompt cache cold or warm", "",
        f"{args.task} seeds 0-{args.seeds - 1}, default models, {args.threads} CPU threads, "
        f"commit {', '.join(commits)}. Each "
        "question asked cold in its own process with an empty data dir, then all of them one after another in "
        "one process, where each question after the first restores the saved prompt state of the earlier ones "
        "and reuses the context's own cache (seed 0 is cold there too). Produced by "
        f"`python -m rlm_desktop.eval.cache_equality --task {args.task} --seeds {args.seeds}`.", "",
        f"**{same} of {args.seeds} runs identical** (root turns, cell outputs, sub-calls and answer); median "
        f"{statistics.median(cold_seconds):.0f} s cold, {statistics.median(warm_seconds):.0f} s warm.", "",
        "| Seed | Same run | Same answer | Seconds cold | Seconds warm |", "|---:|---|---|---:|---:|", *lines, ""])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()

"""Tables and plots from a grid's results: the paper's Table 1, Figure 1 and Figure 3.

- Table 1: mean score (x100) and mean cost (tokens, seconds) per method and task;
- Figure 1: score against context length, one line per method, one panel per task;
- Figure 3: cost quartiles per method (box 25/50/75th percentile, whiskers 5th-95th).
Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rlm_desktop.eval.methods import METHOD_TITLES
from rlm_desktop.eval.runner import load_results, load_settings
from rlm_desktop.eval.tasks import CHARS_PER_TOKEN, format_length

REPORT_FILE = "report.md"
SCORE_PLOT = "fig1_score_vs_length.png"
COST_PLOT = "fig3_cost_quartiles.png"

Row = dict[str, Any]


def _ordered(values: Iterable[str], preferred: Iterable[str]) -> list[str]:
    present = set(values)
    first = [v for v in preferred if v in present]
    return first + sorted(present - set(first))


def _methods(rows: list[Row]) -> list[str]:
    return _ordered((r["method"] for r in rows), METHOD_TITLES)


def _tasks(rows: list[Row]) -> list[str]:
    from rlm_desktop.eval.tasks import TASKS

    return _ordered((r["task"] for r in rows), TASKS)


def _title(method: str) -> str:
    return METHOD_TITLES.get(method, method)


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated ``q``-th percentile (0..100) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def table1(rows: list[Row]) -> str:
    """Markdown: one row per method, one column per task: score x100 (mean tokens, mean seconds)."""
    tasks = _tasks(rows)
    cells: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        cells[(r["method"], r["task"])].append(r)
    lines = ["| Method | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
    for method in _methods(rows):
        parts = []
        for task in tasks:
            group = cells.get((method, task), [])
            if not group:
                parts.append("–")
                continue
            score = 100 * statistics.fmean(r["score"] for r in group)
            tokens = statistics.fmean(r["tokens_total"] for r in group)
            seconds = statistics.fmean(r["seconds"] for r in group)
            parts.append(f"{score:.1f} ({tokens:,.0f} tok, {seconds:.1f} s)")
        lines.append(f"| {_title(method)} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def score_by_length(rows: list[Row], task: str) -> str:
    """Markdown: methods x lengths mean score x100 for one task (the data of Figure 1)."""
    group = [r for r in rows if r["task"] == task]
    lengths = sorted({r["length"] for r in group})
    lines = ["| Method | " + " | ".join(format_length(n) for n in lengths) + " |", "|---" * (len(lengths) + 1) + "|"]
    for method in _methods(group):
        parts = []
        for length in lengths:
            scores = [r["score"] for r in group if r["method"] == method and r["length"] == length]
            parts.append(f"{100 * statistics.fmean(scores):.1f}" if scores else "–")
        lines.append(f"| {_title(method)} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def cost_quartiles(rows: list[Row]) -> str:
    """Markdown: per method, the 25/50/75/95th percentiles of total tokens and of wall seconds."""
    lines = ["| Method | tokens p25 | p50 | p75 | p95 | seconds p25 | p50 | p75 | p95 |", "|---" * 9 + "|"]
    for method in _methods(rows):
        tokens = [float(r["tokens_total"]) for r in rows if r["method"] == method]
        seconds = [float(r["seconds"]) for r in rows if r["method"] == method]
        t = " | ".join(f"{percentile(tokens, q):,.0f}" for q in (25, 50, 75, 95))
        s = " | ".join(f"{percentile(seconds, q):.1f}" for q in (25, 50, 75, 95))
        lines.append(f"| {_title(method)} | {t} | {s} |")
    return "\n".join(lines)


def endings(rows: list[Row]) -> str:
    """Markdown: how runs ended (FINAL or which guard) and how often the context was cut, per method."""
    lines = ["| Method | instances | answered (no guard) | stopped by a guard | context cut to fit |",
             "|---" * 5 + "|"]
    for method in _methods(rows):
        group = [r for r in rows if r["method"] == method]
        stops = Counter(r["stopped_by"] for r in group if r["stopped_by"])
        stopped = ", ".join(f"{k} x{v}" for k, v in sorted(stops.items())) or "–"
        finals = sum(1 for r in group if not r["stopped_by"])
        cut = sum(1 for r in group if r.get("context_cut"))
        lines.append(f"| {_title(method)} | {len(group)} | {finals} | {stopped} | {cut} |")
    return "\n".join(lines)


def root_turns(rows: list[Row]) -> str:
    """Markdown: root turns per method that the loop could run, that the turn guard stopped, at the cap."""
    lines = ["| Method | root turns | runnable (code or FINAL) | stopped early by the turn guard | at the token cap |",
             "|---" * 5 + "|"]
    for method in _methods(rows):
        counted = [r["turns"] for r in rows if r["method"] == method and r.get("turns")]
        if not counted:
            continue
        total = sum(t["total"] for t in counted)
        runnable = sum(t["runnable"] for t in counted)
        share = f"{runnable} ({100 * runnable / total:.0f}%)" if total else "–"
        lines.append(f"| {_title(method)} | {total} | {share} | {sum(t['stopped_early'] for t in counted)} | "
                     f"{sum(t['at_cap'] for t in counted)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def by_question_kind(rows: list[Row]) -> str:
    """Markdown: per task and kind of question, questions right, mean score, citation precision, seconds."""
    groups: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for r in rows:
        if r.get("question_kind"):
            groups[(r["task"], r["method"], r["question_kind"])].append(r)
    if not groups:
        return ""
    lines = ["| Task | Method | Kind | Questions | Right | Score | Citation precision | Median s | Max s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (task, method, kind), group in sorted(groups.items()):
        precisions = [r["citation_precision"] for r in group if r.get("citation_precision") is not None]
        precision = f"{statistics.fmean(precisions):.2f} ({len(precisions)})" if precisions else "–"
        seconds = [r["seconds"] for r in group]
        lines.append(f"| {task} | {_title(method)} | {kind} | {len(group)} | {sum(r['score'] >= 1.0 for r in group)} "
                     f"| {100 * statistics.fmean(r['score'] for r in group):.0f} | {precision} "
                     f"| {statistics.median(seconds):.0f} | {max(seconds):.0f} |")
    return "\n".join(lines)


def paraphrase_ratios(rows: list[Row]) -> str:
    """Markdown: per task asked both ways on the same seeds, the score in hand-written wordings over the score
    in the generator's own wording."""
    means: dict[tuple[str, str], list[float]] = defaultdict(list)
    seeds: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for r in rows:
        means[(r["task"], r["method"])].append(r["score"])
        seeds[r["task"]].add((r["length"], r["seed"]))
    lines = ["| Task | Method | Generator wording | Paraphrased | Ratio | Instances |", "|---|---|---|---|---|---|"]
    for (task, method), scores in sorted(means.items()):
        base = task.removesuffix("-paraphrase")
        if base == task or (base, method) not in means or seeds[task] != seeds[base]:
            continue
        plain, reworded = statistics.fmean(means[(base, method)]), statistics.fmean(scores)
        ratio = f"{reworded / plain:.2f}" if plain else "–"
        lines.append(f"| {base} | {_title(method)} | {100 * plain:.0f} | {100 * reworded:.0f} | {ratio} | {len(scores)} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def every_question(rows: list[Row], *, answer_chars: int = 240) -> str:
    """Markdown: one line per run of a task whose rows carry their question: question, answer, score, sources."""
    asked = [r for r in rows if r.get("question")]
    if not asked:
        return ""
    lines = ["| Task | Seed | Kind | Question | Answer | Score | Cited | s |", "|---|---|---|---|---|---|---|---|"]

    def cell(text: str, limit: int) -> str:
        flat = " ".join(str(text).split()).replace("|", "\\|")
        return flat if len(flat) <= limit else flat[: limit - 1] + "…"

    for r in sorted(asked, key=lambda r: (r["task"], r["method"], r["length"], r["seed"])):
        cited = ", ".join(r.get("citations") or []) or "–"
        lines.append(f"| {r['task']} | {r['seed']} | {r.get('question_kind') or '–'} | {cell(r['question'], 160)} "
                     f"| {cell(r['prediction'], answer_chars)} | {r['score']:.2f} | {cell(cited, 80)} "
                     f"| {r['seconds']:.0f} |")
    return "\n".join(lines)


def plot_score_vs_length(rows: list[Row], path: Path) -> Path:
    """Figure 1: mean score against context length (log scale), a line per method, a panel per task."""
    plt = _pyplot()
    tasks = _tasks(rows)
    cols = min(3, len(tasks))
    nrows = (len(tasks) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.6 * nrows), squeeze=False)
    for ax, task in zip(axes.flat, tasks):
        group = [r for r in rows if r["task"] == task]
        lengths = sorted({r["length"] for r in group})
        for number, method in enumerate(_methods(group)):
            xs, ys = [], []
            for length in lengths:
                scores = [r["score"] for r in group if r["method"] == method and r["length"] == length]
                if scores:
                    xs.append(length)
                    ys.append(100 * statistics.fmean(scores))
            # distinct markers and dashes keep methods with equal scores visible on top of each other
            ax.plot(xs, ys, marker="osD^v"[number % 5], linestyle=("-", "--", ":", "-.")[number % 4],
                    markersize=9 - 1.5 * (number % 4), label=_title(method))
        ax.set_xscale("log", base=2)
        ax.set_xticks(lengths, [format_length(n) for n in lengths])
        ax.set_ylim(-3, 103)
        ax.set_title(task)
        ax.set_xlabel(f"context length (tokens ≈ chars/{CHARS_PER_TOKEN})")
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(tasks):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_cost_quartiles(rows: list[Row], path: Path) -> Path:
    """Figure 3: per method, boxes at the 25/50/75th percentile of cost, whiskers at the 5th and 95th."""
    plt = _pyplot()
    methods = _methods(rows)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, (field, label) in zip(axes, (("tokens_total", "tokens per instance (root + sub)"),
                                         ("seconds", "wall seconds per instance"))):
        data = [[float(r[field]) for r in rows if r["method"] == m] for m in methods]
        ax.boxplot(data, whis=(5, 95), showfliers=False)
        ax.set_xticks(range(1, len(methods) + 1), [_title(m) for m in methods], rotation=15, fontsize=8)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Cost per instance: quartiles (box), 5th-95th percentile (whiskers)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise RuntimeError("Plots need matplotlib: pip install 'rlm-desktop[eval]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(out_dir: Path, *, plots: bool = True) -> Path:
    """Write ``report.md`` (and the two PNG figures) into ``out_dir`` from its ``results.jsonl``."""
    out_dir = Path(out_dir)
    rows = load_results(out_dir)
    if not rows:
        raise FileNotFoundError(f"No results in {out_dir}: run `rlm eval run --out {out_dir}` first")
    models = Counter((r["root_model"], r["sub_model"]) for r in rows)
    model_lines = "\n".join(f"- root `{root}`, sub `{sub}` ({n} instances; the sub model serves only `rlm`)"
                            for (root, sub), n in models.most_common())
    sections = [
        "# Evaluation report", "",
        f"{len(rows)} instances. Context lengths are approximate tokens: characters / {CHARS_PER_TOKEN}.",
        "Scores are means x100 (exact match, 0.75^|y-y_hat| for counts, F1 for pairs, accuracy for multiple "
        "choice); cost is tokens of all models together and wall-clock seconds.", "", "Models:", model_lines, "",
        "## Score and mean cost per method and task (as the paper's Table 1)", "", table1(rows), "",
        "## Score by context length (Figure 1)", "",
    ]
    for task in _tasks(rows):
        sections += [f"### {task}", "", score_by_length(rows, task), ""]
    sections += ["## Cost quartiles per method (Figure 3)", "", cost_quartiles(rows), "",
                 "## How runs ended", "", endings(rows), ""]
    turns = root_turns(rows)
    if turns:
        sections += ["## Root turns (RLM methods)", "", turns, ""]
    kinds = by_question_kind(rows)
    if kinds:
        sections += ["## By kind of question", "", "Right: questions scored 1. Citation precision: the share of an "
                     "answer's citations whose page holds a line of the question's evidence (mean over answers "
                     "that cite, their number in brackets).", "", kinds, ""]
    settings = load_settings(out_dir)
    if settings:
        last = settings[-1]
        config = ", ".join(f"{k}={v}" for k, v in last["config"].items() if k != "sandbox")
        sections += ["## Settings of the last invocation", "",
                     f"Started {last['started']}; windows: root {last['root_context_length']:,} tokens, "
                     f"sub {last['sub_context_length']:,} tokens.", "",
                     f"Code: commit {', '.join(dict.fromkeys(str(e.get('commit') or 'unknown') for e in settings))}; "
                     f"machine: {last.get('machine') or 'unknown'}.", "",
                     f"Engine: {config}.", ""]
    if plots:
        plot_score_vs_length(rows, out_dir / SCORE_PLOT)
        plot_cost_quartiles(rows, out_dir / COST_PLOT)
        sections += [f"![Score against context length]({SCORE_PLOT})", "",
                     f"![Cost quartiles per method]({COST_PLOT})", ""]
    ratios = paraphrase_ratios(rows)
    if ratios:
        sections += ["## Generator wording against paraphrases (same instances)", "", ratios, ""]
    questions = every_question(rows)
    if questions:
        sections += ["## Every question", "", questions, ""]
    path = out_dir / REPORT_FILE
    path.write_text("\n".join(sections), encoding="utf-8")
    return path

"""Figures for ``rlm bench decode``: recorded root calls replayed with plain and speculative decoding.

A recorded call is what a root model was asked (messages, grammar, stops, max tokens, temperature).
:func:`replay` answers the calls of one file in order with one model object (so its KV cache and a draft
model's follow the conversations as in a run): per call it first evaluates the prompt alone, then times
the generation, so the generation rate compares the modes on equal prompts. :func:`compare_modes` runs
each mode in a process of its own (its peak RSS is then that mode's) and sets the figures side by side.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rlm_desktop.backends.llamacpp import LlamaCppModel


def load_calls(path: str | Path) -> list[dict[str, Any]]:
    """The recorded root calls of a JSON file (a list of ``{"messages", "grammar", "stop", "max_tokens",
    "temperature", "seed"}``), in the order they were made."""
    calls = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(calls, list) or not all(isinstance(c, dict) and "messages" in c for c in calls):
        raise ValueError(f"{path} does not hold a list of recorded root calls")
    return calls


def replay(root_path: str | Path, calls: list[dict[str, Any]], *, draft: str, draft_model: str | Path | None,
           threads: int, n_ctx: int = 8192) -> dict[str, Any]:
    """Answer ``calls`` with one root model in draft mode ``draft``: per call its text, tokens and seconds."""
    started = time.perf_counter()
    model = LlamaCppModel(root_path, n_ctx=n_ctx, n_threads=threads, draft=draft, draft_model=draft_model)
    load_s = time.perf_counter() - started
    turns: list[dict[str, Any]] = []
    try:
        for call in calls:
            options = dict(max_tokens=int(call.get("max_tokens", 1024)), stop=call.get("stop"),
                           grammar=call.get("grammar"), temperature=float(call.get("temperature", 0.0)),
                           seed=call.get("seed"))
            prompt = model.chat(call["messages"], max_tokens=0)  # the prompt alone: equal in every mode
            completion = model.chat(call["messages"], **options)
            usage = completion.usage
            turns.append({"text": completion.text, "finish": completion.finish_reason,
                          "tokens": usage.completion_tokens, "prompt_tokens": usage.prompt_tokens,
                          "prompt_s": round(prompt.usage.seconds, 4), "generation_s": round(usage.seconds, 4),
                          "proposed": usage.draft_tokens_proposed, "accepted": usage.draft_tokens_accepted})
    finally:
        model.close()
    return {"mode": draft, "model": Path(root_path).stem,
            "draft_model": Path(draft_model).stem if draft_model else None, "threads": threads,
            "load_s": round(load_s, 3), "turns": turns,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def summarise(result: dict[str, Any], plain: dict[str, Any] | None = None) -> dict[str, Any]:
    """Totals of one mode's replay; with the plain replay, the speed ratio and the turns that match it."""
    turns = result["turns"]
    tokens = sum(t["tokens"] for t in turns)
    seconds = sum(t["generation_s"] for t in turns)
    proposed, accepted = sum(t["proposed"] for t in turns), sum(t["accepted"] for t in turns)
    summary = {"mode": result["mode"], "turns": len(turns), "tokens": tokens, "generation_s": round(seconds, 2),
               "tokens_per_s": round(tokens / seconds, 2) if seconds else None,
               "turn_s": round(sum(t["prompt_s"] + t["generation_s"] for t in turns), 2),
               "proposed": proposed, "accepted": accepted,
               "acceptance": round(accepted / proposed, 3) if proposed else None,
               "peak_rss_mib": result["peak_rss_mib"]}
    if plain is not None:
        pairs = list(zip(plain["turns"], turns))
        summary["matching_turns"] = sum(a["text"] == b["text"] for a, b in pairs)
        base = summarise(plain)
        summary["speedup"] = (round(summary["tokens_per_s"] / base["tokens_per_s"], 3)
                              if summary["tokens_per_s"] and base["tokens_per_s"] else None)
        summary["turn_speedup"] = round(base["turn_s"] / summary["turn_s"], 3) if summary["turn_s"] else None
    return summary


def compare_modes(root_path: str | Path, calls_path: str | Path, *,
                  modes: tuple[str, ...] = ("none", "lookup", "model"), draft_model: str | Path | None,
                  threads: int, out: Path | None = None) -> dict[str, Any]:
    """Each mode replayed in its own process; per mode the summary against plain decoding, and the raw turns
    (also written to OUT/replay-MODE.json as each mode finishes, when ``out`` is given)."""
    results: dict[str, dict[str, Any]] = {}
    for mode in ("none", *(m for m in modes if m != "none")):
        command = [sys.executable, "-m", "rlm_desktop.backends.bench_decode", str(root_path), str(calls_path), mode,
                   str(threads), str(draft_model or "")]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"replay in mode {mode} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        results[mode] = json.loads(done.stdout)
        if out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
            (Path(out) / f"replay-{mode}.json").write_text(done.stdout, encoding="utf-8")
    plain = results["none"]
    return {"model": plain["model"], "draft_model": Path(draft_model).stem if draft_model else None,
            "threads": threads, "results": results,
            "summaries": {m: summarise(r, None if m == "none" else plain) for m, r in results.items()}}


if __name__ == "__main__":  # python -m rlm_desktop.backends.bench_decode ROOT CALLS MODE THREADS [DRAFT_GGUF]
    root, calls_file, mode, n_threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    draft_file = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
    print(json.dumps(replay(root, load_calls(calls_file), draft=mode, draft_model=draft_file, threads=n_threads)))

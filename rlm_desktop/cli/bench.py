"""`rlm bench ...`: benchmark scripts that print figures (never timed assertions).

Each area registers its own sub-command on :data:`bench` (``core`` for the RLM
engine and backends, ``library`` for ingest and search).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rlm_desktop.cli import cli


@cli.group()
def bench() -> None:
    """Measure speed and memory; prints figures."""


@bench.command("core")
@click.option("--sub", "sub_spec", default="demo-smollm2-135m", show_default=True,
              help="Sub model for the batching figures.")
@click.option("--root", "root_spec", default=None, help="Root model for the prompt-cache figure [default: the sub].")
@click.option("--threads", type=click.IntRange(1, 256), default=2, show_default=True, help="CPU threads per model.")
@click.option("--calls", type=click.IntRange(2, 256), default=16, show_default=True, help="Sub-calls in the batch.")
@click.option("--prompt-tokens", type=click.IntRange(64, 100_000), default=1500, show_default=True,
              help="Prompt tokens per sub-call (a shared document plus a question).")
@click.option("--max-tokens", type=click.IntRange(1, 4096), default=64, show_default=True,
              help="Generated tokens per sub-call at most.")
def core(sub_spec: str, root_spec: str | None, threads: int, calls: int, prompt_tokens: int, max_tokens: int) -> None:
    """Sandbox cell latency, llama.cpp overhead, batched sub-calls, generation throughput, prompt cache."""
    from rlm_desktop.backends import bench as backend_bench
    from rlm_desktop.backends import bench_batching
    from rlm_desktop.hub.demo import smollm2_path
    from rlm_desktop.sandbox import bench as sandbox_bench

    small, large = sandbox_bench.cell_latency_ms(1_000_000), sandbox_bench.cell_latency_ms(50_000_000)
    click.echo(f"sandbox cell latency: {small:.2f} ms with a 1 MB context, {large:.2f} ms with 50 MB "
               f"(median of 30; ratio {large / small:.2f})")
    gguf = smollm2_path()
    overhead = backend_bench.overhead_ratio(gguf, n_threads=threads)
    click.echo(f"llama.cpp backend overhead: {overhead['ratio']:.3f}x raw llama-cpp-python "
               f"({overhead['ours_median_s']:.3f} s vs {overhead['raw_median_s']:.3f} s median, SmolLM2)")
    kv = backend_bench.kv_reuse_tokens(gguf, n_threads=threads)
    click.echo(f"root turn 2: {kv['evaluated_with_reuse']} of {kv['turn2_prompt_tokens']} prompt tokens evaluated "
               f"with KV reuse, {kv['evaluated_without_reuse']} without")
    sub_path = _gguf_path(sub_spec)
    name = sub_path.stem
    methods = bench_batching.subcall_methods(sub_path, calls=calls, prompt_tokens=prompt_tokens,
                                             max_tokens=max_tokens, threads=threads)
    click.echo(f"{calls} sub-calls of {methods['prompt_tokens']} prompt tokens sharing a document, up to "
               f"{max_tokens} tokens out ({name}, {threads} threads):")
    for key, label in (("sequential", "sequential, one context"),
                       ("pool", f"pool of {methods['pool_contexts']} contexts"),
                       ("batched", f"batched, {methods['sequences']} sequences")):
        m = methods[key]
        click.echo(f"  {label:<28} {m['seconds']:7.2f} s  ({m['evaluated']:,} prompt tokens evaluated, "
                   f"{m['generated']:,} generated)")
    click.echo(f"  batched vs the better of the others: {methods['speedup_vs_best_other']:.2f}x faster; "
               f"answers equal to sequential, token for token: {methods['batched_equal_to_sequential']} of {calls}")
    ours = bench_batching.generation_throughput(sub_path, threads=threads)
    raw = bench_batching.raw_generation_throughput(sub_path, threads=threads)
    click.echo(f"generation only ({name}, tokens/s by sequences decoded together; llama.cpp's own low-level "
               f"batched loop as the anchor):")
    for width, rate in ours.items():
        anchor = raw.get(width)
        share = f"{rate / anchor:.0%} of" if rate and anchor else "vs"
        click.echo(f"  {width:>2} sequences: {rate or 0:8.1f} tokens/s ({share} llama.cpp's {anchor or 0:.1f}); "
                   f"{(rate or 0) / (ours[1] or 1):.2f}x one sequence (llama.cpp: {(anchor or 0) / (raw[1] or 1):.2f}x)")
    rss = bench_batching.peak_rss(sub_path, calls=calls, threads=threads)
    click.echo(f"peak RSS, {calls} short sub-calls ({name}): batched {rss['batched']:.0f} MiB, "
               f"sequential {rss['sequential']:.0f} MiB")
    _prompt_cache_figures(_gguf_path(root_spec) if root_spec else sub_path, threads)
    _restore_and_resume_figures(sub_spec, threads)


def _restore_and_resume_figures(sub_spec: str, threads: int) -> None:
    """REPL rebuild after a worker restart, and what resuming an interrupted run saves."""
    from rlm_desktop import resume_bench, runtime
    from rlm_desktop.sandbox import bench as sandbox_bench

    sub = runtime.load_model(sub_spec, n_threads=threads, parallel=4)
    try:
        savings = resume_bench.resume_savings(sub)
    finally:
        sub.close()
    restore = sandbox_bench.restore_figures(cells=20, answers=50)
    click.echo(f"REPL rebuilt after a restart: {restore['cells']} cells with {restore['answers']} recorded sub-call "
               f"answers replayed in {restore['replay_s'] * 1000:.0f} ms ({restore['restart_s']:.2f} s with the new "
               f"worker, 1 MB context); saving the variables as plain data instead would cost "
               f"{restore['snapshot_per_cell_s'] * 1000:.1f} ms after every cell and lose functions and hits")
    click.echo(f"resuming a run interrupted after turn 2 of 3: {savings['resumed_s']:.2f} s vs "
               f"{savings['fresh_s']:.2f} s asking again, {savings['saved_s']:.2f} s saved "
               f"({savings['sub_calls_served']} of {savings['sub_calls']} sub-calls from the run's record)")


def _gguf_path(spec: str) -> "Path":
    """The GGUF file a model spec names (loads it briefly through the runtime)."""
    from rlm_desktop import runtime

    model = runtime.load_model(spec, n_ctx=256, n_threads=1)
    try:
        path = getattr(model, "path", None)
        if path is None:
            raise click.ClickException(f"{spec} is not an in-process GGUF model.")
        return path
    finally:
        model.close()


def _prompt_cache_figures(root_path: "Path", threads: int) -> None:
    """Time to the first root token: first question, second question, and a third after a restart."""
    import tempfile
    from pathlib import Path

    from rlm_desktop.backends.llamacpp import LlamaCppModel
    from rlm_desktop.backends.prompt_cache import MEMORY
    from rlm_desktop.documents import Document
    from rlm_desktop.engine import bench as engine_bench

    samples = Path(__file__).resolve().parents[2] / "resources" / "samples"
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(samples.iterdir())]
    with tempfile.TemporaryDirectory() as cache:
        MEMORY.clear()
        with LlamaCppModel(root_path, n_threads=threads, prompt_cache_dir=Path(cache)) as root:
            first = engine_bench.first_token_seconds(root, "What is the purchase price?", docs)
            second = engine_bench.first_token_seconds(root, "When does the office lease expire?", docs)
        MEMORY.clear()  # an app restart: only the saved states on disk remain
        with LlamaCppModel(root_path, n_threads=threads, prompt_cache_dir=Path(cache)) as root:
            restarted = engine_bench.first_token_seconds(root, "Who is the landlord?", docs)
    click.echo(f"time to the first root token ({root_path.stem}, same collection, {first['prompt_tokens']:,} "
               f"prompt tokens):")
    for label, figure in (("first question", first), ("second question", second), ("after a restart", restarted)):
        click.echo(f"  {label:<16} {figure['seconds']:6.2f} s = {figure['seconds'] / first['seconds']:4.0%} of the "
                   f"first ({figure['evaluated']:,} evaluated, {figure['prompt_tokens'] - figure['evaluated']:,} reused, "
                   f"{figure['restored']:,} of them from a saved state)")


_SUB_CASES = [  # (sample file prefix, question, fragment the answer must hold)
    ("01", "What is the purchase price?", "48,500,000"),
    ("01", "What is the escrow amount?", "4,850,000"),
    ("01", "What is the long-stop date?", "30 June 2025"),
    ("02", "What is the minimum annual purchase?", "6,000,000"),
    ("02", "Until when does the agreement run?", "31 December 2027"),
    ("04", "What is the annual rent?", "212,000"),
    ("04", "When does the lease expire?", "31 March 2030"),
    ("05", "How many employees does Halvard have?", "86"),
]


@bench.command("demo-models")
@click.option("--iterations", type=click.IntRange(1, 20), default=3, show_default=True,
              help="Root turns per question.")
@click.option("--threads", type=click.IntRange(1, 256), default=2, show_default=True, help="CPU threads per model.")
def demo_models(iterations: int, threads: int) -> None:
    """Demo models as root and sub: runnable root turns with/without grammar, and each pairing."""
    from pathlib import Path

    from rlm_desktop import runtime
    from rlm_desktop.documents import Document
    from rlm_desktop.engine import bench as engine_bench
    from rlm_desktop.hub.demo import DEMO_MODELS

    samples = Path(__file__).resolve().parents[2] / "resources" / "samples"
    docs = [Document(p.name, p.read_text(encoding="utf-8")) for p in sorted(samples.iterdir())]
    questions = ["What is the purchase price for the shares?",
                 "When does the office lease expire?",
                 "Which customer can terminate its contract on a change of control?"]
    # Separate root and sub objects, so that sub-calls never evict the root's KV cache.
    models = {m.key: runtime.load_model(m.key, n_threads=threads, n_ctx=8192) for m in DEMO_MODELS}
    subs = {m.key: runtime.load_model(m.key, n_threads=threads, n_ctx=8192) for m in DEMO_MODELS}
    try:
        for key, root in models.items():
            for grammar in (True, False):
                figures = engine_bench.turn_runnability(root, subs[key], questions, docs,
                                                        iterations=iterations, grammar=grammar)
                click.echo(f"{key} root, grammar {'on ' if grammar else 'off'}: {figures['runnable']}/"
                           f"{figures['turns']} turns runnable ({figures['repaired']} after repair), "
                           f"{figures['valid']} valid Python or FINAL")
        texts = {p.name[:2]: p.read_text(encoding="utf-8") for p in sorted(samples.iterdir())}
        cases = [(f"Text:\n{texts[doc]}\n\n{question} Answer briefly. If the text does not say, answer NONE.",
                  expected) for doc, question, expected in _SUB_CASES]
        for key, sub in subs.items():
            accuracy = engine_bench.sub_model_accuracy(sub, cases)
            click.echo(f"{key} as sub: {accuracy['correct']}/{accuracy['cases']} sample sub-calls answered")
        for root_key, root in models.items():
            for sub_key, sub in subs.items():
                trial = engine_bench.try_pairing(root, sub, questions[0], docs, ["48,500,000"])
                click.echo(f"root {root_key} + sub {sub_key}: correct={trial['correct']} "
                           f"stopped_by={trial['stopped_by']} runnable {trial['runnable_turns']}/{trial['turns']} "
                           f"cells ok {trial['cells_without_error']}/{trial['cells']} sub-calls {trial['sub_calls']} "
                           f"{trial['seconds']} s; answer: {trial['answer'][:100]!r}")
    finally:
        for model in [*models.values(), *subs.values()]:
            model.close()


_DATAROOM_KINDS = ("needle", "count", "list", "sum")  # the issue's needle, count, list and total questions


@bench.command("decode")
@click.option("--calls", "calls_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Recorded root calls (JSON) to replay; see --record.")
@click.option("--record", "record_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Run the data-room questions of `rlm eval` and write the root's calls to DIR/calls.json.")
@click.option("--draft", type=click.Choice(["none", "lookup", "model"]), default="none", show_default=True,
              help="With --record: how the root decodes (time per question for that mode).")
@click.option("--modes", default="none,lookup,model", show_default=True, help="With --calls: modes to compare.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --calls: write each mode's replayed turns to DIR/replay-MODE.json.")
@click.option("--root", "root_spec", default=None, help="Root model [default: the starter root].")
@click.option("--sub", "sub_spec", default=None, help="Sub model, also the draft model [default: the starter sub].")
@click.option("--threads", type=click.IntRange(1, 256), default=2, show_default=True, help="CPU threads per model.")
@click.option("--length", type=click.IntRange(1000, 10_000_000), default=32_000, show_default=True,
              help="With --record: data-room size in approximate tokens.")
@click.option("--seed", type=click.IntRange(0, 100_000), default=1, show_default=True,
              help="With --record: data-room seed.")
def decode(calls_path: "Path | None", record_dir: "Path | None", draft: str, modes: str, out_dir: "Path | None",
           root_spec: str | None, sub_spec: str | None, threads: int, length: int, seed: int) -> None:
    """Root generation, plain against speculative decoding: tokens/s, ratios, matching turns, peak RSS."""
    from rlm_desktop import runtime

    root_spec = root_spec or runtime.DEFAULT_ROOT
    sub_spec = sub_spec or runtime.DEFAULT_SUB
    root_path, sub_path = _gguf_path(root_spec), _gguf_path(sub_spec)
    if record_dir is not None:
        _record_dataroom(root_path, sub_path, record_dir, draft=draft, threads=threads, length=length, seed=seed)
        return
    if calls_path is None:
        raise click.UsageError("Give --calls FILE to replay, or --record DIR to record root calls first.")
    from rlm_desktop.backends import bench_decode

    wanted = tuple(m.strip() for m in modes.split(",") if m.strip())
    figures = bench_decode.compare_modes(root_path, calls_path, modes=wanted, draft_model=sub_path,
                                         threads=threads, out=out_dir)
    click.echo(f"root generation over {figures['summaries']['none']['turns']} recorded root calls "
               f"({figures['model']}, draft model {figures['draft_model']}, {threads} threads):")
    for mode, s in figures["summaries"].items():
        versus = (f"{s['speedup']:.2f}x plain, turns {s['turn_speedup']:.2f}x; {s['matching_turns']}/{s['turns']} "
                  f"turns equal to plain; drafts {s['accepted']}/{s['proposed']} accepted" if mode != "none" else
                  "the baseline")
        click.echo(f"  {mode:<7} {s['tokens_per_s'] or 0:6.2f} tokens/s ({s['tokens']} tokens in "
                   f"{s['generation_s']:.1f} s; {s['turn_s']:.1f} s with prompts), peak RSS "
                   f"{s['peak_rss_mib']:.0f} MiB; {versus}")


class _RecordingRoot:
    """A root model that keeps every call it is asked (for `rlm bench decode --calls`)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name, self.context_length = model.name, model.context_length
        self.supports_grammar = model.supports_grammar
        self.calls: list[dict[str, Any]] = []

    def chat(self, messages: list, **options: Any) -> Any:
        self.calls.append({"messages": [dict(m) for m in messages],
                           **{k: options.get(k) for k in ("max_tokens", "stop", "grammar", "temperature", "seed")}})
        return self.model.chat(messages, **options)

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def close(self) -> None:
        self.model.close()


def _record_dataroom(root_path: "Path", sub_path: "Path", out: "Path", *, draft: str, threads: int, length: int,
                     seed: int) -> None:
    """The data-room questions answered with the root decoding in ``draft`` mode; its calls go to OUT/calls.json."""
    import json
    import time

    from rlm_desktop import runtime
    from rlm_desktop.backends.llamacpp import LlamaCppModel
    from rlm_desktop.engine import RLM
    from rlm_desktop.eval.tasks import dataroom
    from rlm_desktop.settings import Settings

    out.mkdir(parents=True, exist_ok=True)
    config = runtime.engine_config(Settings(), str(root_path))
    root = _RecordingRoot(LlamaCppModel(root_path, n_threads=threads, draft=draft, draft_model=sub_path))
    sub = LlamaCppModel(sub_path, n_threads=threads, batching=True)
    rows = []
    try:
        for kind in _DATAROOM_KINDS:
            instance = dataroom.generate_kind(length, seed, kind)
            started = time.perf_counter()
            result = RLM(root, sub, config).run(instance.question, instance.context)
            seconds = time.perf_counter() - started
            rows.append({"kind": kind, "seconds": round(seconds, 1), "root_calls": len(root.calls),
                         "score": dataroom.score(instance, result.answer or "")})
            click.echo(f"  {kind:<7} {seconds:6.1f} s, score {rows[-1]['score']:.2f} ({draft} decoding, "
                       f"{len(instance.context)} documents)")
    finally:
        root.close()
        sub.close()
    (out / "calls.json").write_text(json.dumps(root.calls), encoding="utf-8")
    (out / f"questions-{draft}.json").write_text(json.dumps(rows), encoding="utf-8")
    click.echo(f"{len(root.calls)} root calls written to {out / 'calls.json'}; "
               f"{sum(r['seconds'] for r in rows):.1f} s over {len(rows)} questions")

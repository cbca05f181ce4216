"""`rlm bench ...`: benchmark scripts that print figures (never timed assertions).

Each area registers its own sub-command on :data:`bench` (``core`` for the RLM
engine and backends, ``library`` for ingest and search).
"""

from __future__ import annotations

import click

from rlm_desktop.cli import cli


@cli.group()
def bench() -> None:
    """Measure speed and memory; prints figures."""


@bench.command("core")
@click.option("--sub", "sub_spec", default="demo-smollm2-135m", show_default=True,
              help="Sub model for the batching figure.")
@click.option("--threads", type=click.IntRange(1, 256), default=2, show_default=True, help="CPU threads per model.")
def core(sub_spec: str, threads: int) -> None:
    """Sandbox cell latency, llama.cpp overhead, batched sub-calls, KV reuse, REPL rebuild and resume."""
    from rlm_desktop import runtime
    from rlm_desktop.backends import bench as backend_bench
    from rlm_desktop.engine import bench as engine_bench
    from rlm_desktop.hub.demo import smollm2_path
    from rlm_desktop.sandbox import bench as sandbox_bench

    small, large = sandbox_bench.cell_latency_ms(1_000_000), sandbox_bench.cell_latency_ms(50_000_000)
    click.echo(f"sandbox cell latency: {small:.2f} ms with a 1 MB context, {large:.2f} ms with 50 MB "
               f"(median of 30; ratio {large / small:.2f})")
    gguf = smollm2_path()
    overhead = backend_bench.overhead_ratio(gguf, n_threads=threads)
    click.echo(f"llama.cpp backend overhead: {overhead['ratio']:.3f}x raw llama-cpp-python "
               f"({overhead['ours_median_s']:.3f} s vs {overhead['raw_median_s']:.3f} s median, SmolLM2)")
    parallel = 4
    from rlm_desktop import resume_bench

    sub = runtime.load_model(sub_spec, n_threads=max(1, threads // parallel), parallel=parallel)
    try:
        batching = engine_bench.batched_vs_sequential(sub, calls=8, parallel=parallel)
        click.echo(f"8 sub-calls: llm_query_batched {batching['batched_s']:.2f} s vs sequential "
                   f"{batching['sequential_s']:.2f} s: {batching['ratio']:.2f}x faster ({sub_spec}, "
                   f"{parallel} contexts)")
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
    kv = backend_bench.kv_reuse_tokens(gguf, n_threads=threads)
    click.echo(f"root turn 2: {kv['evaluated_with_reuse']} of {kv['turn2_prompt_tokens']} prompt tokens evaluated "
               f"with KV reuse, {kv['evaluated_without_reuse']} without")


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

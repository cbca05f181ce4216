"""Batched-decoding figures for ``rlm bench core``: functions that measure and return dicts (no printing).

- :func:`subcall_methods`: N sub-call prompts sharing a long prefix, answered sequentially (one
  context), by the multi-context pool, and by the batched decoder, side by side.
- :func:`generation_throughput`: generation-only tokens/s of the batched decoder at several widths.
- :func:`raw_generation_throughput`: the same with llama-cpp-python's low-level API and none of our
  code (the anchor: what llama.cpp itself reaches on this machine).
- :func:`peak_rss`: peak resident memory of a batched and of a sequential run (each in a fresh process).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import llama_cpp

from rlm_desktop.backends.base import Completion
from rlm_desktop.backends.llamacpp import LlamaCppModel

_TOPICS = ["rent", "term", "renewal", "deposit", "repairs", "insurance", "subletting", "break clause", "service charge",
           "parking", "signage", "utilities", "access", "alterations", "assignment", "termination", "notices",
           "indexation", "guarantor", "permitted use"]


def shared_prefix_prompts(model: LlamaCppModel, calls: int, prompt_tokens: int) -> list[str]:
    """``calls`` prompts: one synthetic lease of about ``prompt_tokens`` tokens, then a different question each."""
    rng = random.Random(7)
    clauses = []
    while model.count_tokens(" ".join(clauses)) < prompt_tokens - 40:
        topic = rng.choice(_TOPICS)
        clauses.append(f"Clause {len(clauses) + 1} ({topic}): the tenant shall comply with the {topic} terms set "
                       f"out in schedule {rng.randint(1, 9)}, subject to {rng.randint(5, 90)} days' written notice.")
    document = " ".join(clauses)
    return [f"Lease:\n{document}\n\nQuestion {i + 1}: what does the lease say about "
            f"{_TOPICS[i % len(_TOPICS)]}? Answer in two sentences." for i in range(calls)]


def subcall_methods(model_path: str | Path, *, calls: int = 16, prompt_tokens: int = 1500, max_tokens: int = 64,
                    threads: int = 2, pool: int = 4, sequences: int | None = None) -> dict[str, Any]:
    """Wall seconds of the same ``calls`` prompts: sequential, ``pool`` contexts, and batched (fresh models)."""
    window = prompt_tokens + max_tokens + 256
    figures: dict[str, Any] = {"calls": calls, "max_tokens": max_tokens, "pool_contexts": pool}
    answers: dict[str, list[str]] = {}
    with LlamaCppModel(model_path, n_ctx=window, n_threads=threads) as sequential:
        prompts = shared_prefix_prompts(sequential, calls, prompt_tokens)
        conversations = [[{"role": "user", "content": p}] for p in prompts]
        started = time.perf_counter()
        results = [sequential.chat(c, max_tokens=max_tokens) for c in conversations]
        figures["sequential"] = _method(results, time.perf_counter() - started)
        answers["sequential"] = [r.text for r in results]
    with LlamaCppModel(model_path, n_ctx=window, n_threads=max(1, threads // pool), parallel=pool) as pooled:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=pool) as executor:
            results = list(executor.map(lambda c: pooled.chat(c, max_tokens=max_tokens), conversations))
        figures["pool"] = _method(results, time.perf_counter() - started)
        answers["pool"] = [r.text for r in results]
    with LlamaCppModel(model_path, n_ctx=window, n_threads=threads, batching=True, sequences=sequences) as batched:
        started = time.perf_counter()
        results = batched.chat_batch(conversations, max_tokens=max_tokens)
        figures["batched"] = _method(results, time.perf_counter() - started)
        figures["sequences"] = batched.sequences
        answers["batched"] = [r.text if isinstance(r, Completion) else repr(r) for r in results]
    figures["prompt_tokens"] = figures["batched"]["prompt_tokens"] // calls
    figures["batched_equal_to_sequential"] = sum(a == b for a, b in zip(answers["batched"], answers["sequential"]))
    best_other = min(figures["sequential"]["seconds"], figures["pool"]["seconds"])
    figures["speedup_vs_best_other"] = round(best_other / figures["batched"]["seconds"], 3)
    return figures


def _method(results: list, seconds: float) -> dict[str, Any]:
    done = [r for r in results if isinstance(r, Completion)]
    return {"seconds": round(seconds, 3), "prompt_tokens": sum(r.usage.prompt_tokens for r in done),
            "evaluated": sum(r.usage.prompt_tokens_evaluated or 0 for r in done),
            "generated": sum(r.usage.completion_tokens for r in done), "failed": len(results) - len(done)}


def _long_answer_prompts(width: int) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": f"Count from {i * 100} upwards, one number per line, and do not stop."}]
            for i in range(width)]


def generation_throughput(model_path: str | Path, *, widths: tuple[int, ...] = (1, 4, 8, 16), max_tokens: int = 64,
                          threads: int = 2) -> dict[int, float | None]:
    """Tokens/s of decode steps where exactly ``width`` sequences generate (prompts already evaluated)."""
    figures: dict[int, float | None] = {}
    with LlamaCppModel(model_path, n_ctx=512, n_threads=threads, batching=True, sequences=max(widths)) as model:
        decoder = model._decoder
        assert decoder is not None
        for width in widths:
            decoder.generation_steps.tokens.clear()
            decoder.generation_steps.seconds.clear()
            model.chat_batch(_long_answer_prompts(width), max_tokens=max_tokens)
            rate = decoder.generation_steps.tokens_per_second(width)
            figures[width] = round(rate, 2) if rate else None
    return figures


def raw_generation_throughput(model_path: str | Path, *, widths: tuple[int, ...] = (1, 4, 8, 16),
                              steps: int = 64, threads: int = 2) -> dict[int, float]:
    """llama.cpp alone: one context with ``width`` sequences, greedy decoding, tokens/s of the decode loop."""
    model_params = llama_cpp.llama_model_default_params()
    model = llama_cpp.llama_model_load_from_file(str(model_path).encode(), model_params)
    vocab = llama_cpp.llama_model_get_vocab(model)
    figures: dict[int, float] = {}
    try:
        for width in widths:
            params = llama_cpp.llama_context_default_params()
            params.n_ctx, params.n_batch, params.n_ubatch = 512 * width, 512, 512
            params.n_seq_max, params.kv_unified = width, False
            params.n_threads = params.n_threads_batch = threads
            ctx = llama_cpp.llama_init_from_model(model, params)
            batch = llama_cpp.llama_batch_init(512, 0, 1)
            samplers = [llama_cpp.llama_sampler_init_greedy() for _ in range(width)]
            try:
                figures[width] = _raw_loop(ctx, vocab, batch, samplers, width, steps)
            finally:
                for sampler in samplers:
                    llama_cpp.llama_sampler_free(sampler)
                llama_cpp.llama_batch_free(batch)
                llama_cpp.llama_free(ctx)
    finally:
        llama_cpp.llama_model_free(model)
    return figures


def _raw_loop(ctx: Any, vocab: Any, batch: Any, samplers: list, width: int, steps: int) -> float:
    def put(i: int, token: int, pos: int, seq: int, logits: bool) -> None:
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, 1, logits
        batch.seq_id[i][0] = seq

    n = 0
    positions = []
    for seq in range(width):  # short prompts, evaluated before timing
        text = f"Count from {seq * 100} upwards, one number per line:".encode()
        tokens = (llama_cpp.llama_token * 64)()
        count = llama_cpp.llama_tokenize(vocab, text, len(text), tokens, 64, True, True)
        for pos in range(count):
            put(n, tokens[pos], pos, seq, pos == count - 1)
            n += 1
        positions.append(count)
    batch.n_tokens = n
    if llama_cpp.llama_decode(ctx, batch) != 0:
        raise RuntimeError("llama_decode failed on the prompts")
    outputs = [sum(positions[:seq + 1]) - 1 for seq in range(width)]
    started = time.perf_counter()
    for _ in range(steps):
        for seq in range(width):
            token = llama_cpp.llama_sampler_sample(samplers[seq], ctx, outputs[seq])
            put(seq, token, positions[seq], seq, True)
            positions[seq] += 1
        batch.n_tokens = width
        outputs = list(range(width))
        if llama_cpp.llama_decode(ctx, batch) != 0:
            raise RuntimeError("llama_decode failed while generating")
    return round(width * steps / (time.perf_counter() - started), 2)


def peak_rss(model_path: str | Path, *, calls: int = 16, threads: int = 2) -> dict[str, float]:
    """Peak RSS in MiB of ``calls`` short sub-calls, batched and sequential, each in a fresh process."""
    figures = {}
    for mode in ("sequential", "batched"):
        out = subprocess.run([sys.executable, "-m", "rlm_desktop.backends.bench_batching", "rss", mode,
                              str(model_path), str(calls), str(threads)], capture_output=True, text=True, check=True)
        figures[mode] = json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    return figures


def _rss_child(mode: str, model_path: str, calls: int, threads: int) -> None:
    with LlamaCppModel(model_path, n_ctx=1024, n_threads=threads, batching=mode == "batched") as model:
        prompts = shared_prefix_prompts(model, calls, 300)
        conversations = [[{"role": "user", "content": p}] for p in prompts]
        if mode == "batched":
            model.chat_batch(conversations, max_tokens=16)
        else:
            for conversation in conversations:
                model.chat(conversation, max_tokens=16)
    print(json.dumps({"peak_rss_mib": round(_peak_rss_mib(), 1)}))


def _peak_rss_mib() -> float:
    """This process's peak RSS. Linux: VmHWM (ru_maxrss would include the forking parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "rss":
    _rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))

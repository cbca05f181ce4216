"""Classify all distinct texts of an OOLONG 32K seed through SubCallServer, for several example modes.
usage: cls_probe2.py SEED [SEED ...]; modes: written (the app's), none (zero-shot), qfilter (written, only those
ending like the samples: '?' when most samples end with '?')"""
import random, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine.budget import RunBudget
    from rlm_desktop.engine.subcalls import SubCallServer
    from rlm_desktop.sandbox.helpers import EXAMPLE_SAMPLES
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    for seed in map(int, sys.argv[1:]):
        entries = make_entries(random.Random(f"oolong:32768:{seed}:0"), target_chars(32768))
        texts = list(dict.fromkeys(e.text for e in entries))
        true = Counter(e.label for e in entries)
        with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
            server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
            count = min(EXAMPLE_SAMPLES, len(texts))
            samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
            t = time.time()
            written = server.llm_examples(list(LABELS), samples)
            print(f"seed {seed} examples ({round(time.time() - t)} s):", written, flush=True)
            asks = sum(s.rstrip().endswith("?") for s in samples) * 2 > len(samples)
            from rlm_desktop.engine.prompts import example_request, written_examples, example_messages
            from rlm_desktop.engine.subcalls import _CallKind, EXAMPLE_TOKENS
            from rlm_desktop.engine import prompts as P
            kind = _CallKind(messages=example_messages, max_tokens=EXAMPLE_TOKENS * P.EXAMPLES_PER_LABEL,
                             via_child=False, tag="example-q", model=root, role="root")
            fixed = []
            for label in LABELS:
                mine = [p for p in written if p[1] == label]
                if asks and (not mine or not all(p[0].rstrip().endswith("?") for p in mine)):
                    req = example_request(list(LABELS), label, samples) + " Each text must be a question, like the texts above."
                    mine = [[t, label] for t in written_examples(server._one(req, kind))]
                    print("  rewritten", label, mine, flush=True)
                fixed += mine
            modes = {"reask": fixed}
            for mode, ex in modes.items():
                t = time.time()
                labels = server.llm_classify(texts, list(LABELS), ex)
                by = dict(zip(texts, labels))
                pred = Counter(by[e.text] for e in entries)
                right = sum(1 for e in entries if by[e.text] == e.label)
                err = sum(abs(pred[l] - true[l]) for l in LABELS)
                rank_true = [l for l, _ in true.most_common()]
                rank_pred = [l for l, _ in pred.most_common()]
                print(f"seed {seed} {mode:8s} ({len(ex)} ex, {round(time.time() - t)} s): {right}/{len(entries)} "
                      f"= {right / len(entries):.2f}; count error {err}; most {rank_pred[0]}/{rank_true[0]}; "
                      f"least {rank_pred[-1]}/{rank_true[-1]}", flush=True)
                print("    ", {l: (true[l], pred[l]) for l in LABELS}, flush=True)

"""Ensemble for classify(): the 0.5B's and the 1.5B's label scores with the same root-written examples, each
batch-calibrated, combined (sum of log calibrated probabilities). usage: ensemble_probe.py LENGTH SEED [SEED ...]"""
import math, random, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine.calibration import label_probabilities, chosen_labels
    from rlm_desktop.engine.prompts import classify_messages
    from rlm_desktop.sandbox.helpers import EXAMPLE_SAMPLES
    from rlm_desktop.engine.budget import RunBudget
    from rlm_desktop.engine.subcalls import SubCallServer
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    labels = list(LABELS)
    length = int(sys.argv[1])

    def scores(model, texts, shots):
        return [list(r.scores) for r in model.score_choices([classify_messages(labels, x, shots) for x in texts], labels)]

    def normed(rows):
        probs = [label_probabilities(r) for r in rows]
        prior = [sum(p[k] for p in probs) / len(probs) for k in range(len(labels))]
        cal = [[p / q for p, q in zip(row, prior)] for row in probs]
        return [[c / sum(row) for c in row] for row in cal]

    def report(seed, mode, entries, texts, chosen, secs):
        by = dict(zip(texts, chosen))
        true = Counter(e.label for e in entries); pred = Counter(by[e.text] for e in entries)
        right = sum(1 for e in entries if by[e.text] == e.label)
        rt = [l for l, _ in true.most_common()]; rp = [l for l, _ in pred.most_common()]
        print(f"seed {seed} {mode:10s} ({secs:.0f} s): {right}/{len(entries)} = {right/len(entries):.2f}; "
              f"count error {sum(abs(pred[l]-true[l]) for l in labels)}; most {rp[0]}/{rt[0]}; least {rp[-1]}/{rt[-1]}",
              flush=True)
        print("    ", {l: (true[l], pred[l]) for l in labels}, flush=True)

    for seed in map(int, sys.argv[2:]):
        entries = make_entries(random.Random(f"oolong:{length}:{seed}:0"), target_chars(length))
        texts = list(dict.fromkeys(e.text for e in entries))
        with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
            server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
            count = min(EXAMPLE_SAMPLES, len(texts))
            samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
            written = [tuple(p) for p in server.llm_examples(labels, samples)]
        print(f"seed {seed} ({len(texts)} texts) written:", written, flush=True)
        t = time.time(); small = scores(sub, texts, written)
        report(seed, "0.5B", entries, texts, chosen_labels(small, labels), time.time() - t)
        t = time.time(); big = scores(root, texts, written)
        report(seed, "1.5B", entries, texts, chosen_labels(big, labels), time.time() - t)
        for name, w in (("ens", 1.0), ("ens.5", 0.5)):
            a, b = normed(small), normed(big)
            comb = [[math.log(x) + w * math.log(y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]
            chosen = [labels[max(range(len(labels)), key=row.__getitem__)] for row in comb]
            report(seed, name, entries, texts, chosen, 0)

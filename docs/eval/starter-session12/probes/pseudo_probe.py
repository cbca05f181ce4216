"""Examples from the data: zero-shot calibrated scores of the 0.5B pick, per label, the real texts it is surest
of; those are the examples of the real pass. Compared with the app's root-written examples.
usage: pseudo_probe.py SEED [SEED ...]"""
import json, random, sys, time
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

    def scores(texts, shots):
        return [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, shots) for x in texts], labels)]

    def report(seed, mode, entries, texts, chosen, n_ex, secs):
        by = dict(zip(texts, chosen))
        true = Counter(e.label for e in entries); pred = Counter(by[e.text] for e in entries)
        right = sum(1 for e in entries if by[e.text] == e.label)
        rt = [l for l, _ in true.most_common()]; rp = [l for l, _ in pred.most_common()]
        print(f"seed {seed} {mode:9s} ({n_ex} ex, {secs:.0f} s): {right}/{len(entries)} = {right/len(entries):.2f}; "
              f"count error {sum(abs(pred[l]-true[l]) for l in labels)}; most {rp[0]}/{rt[0]}; least {rp[-1]}/{rt[-1]}",
              flush=True)
        print("    ", {l: (true[l], pred[l]) for l in labels}, flush=True)

    for seed in map(int, sys.argv[1:]):
        entries = make_entries(random.Random(f"oolong:32768:{seed}:0"), target_chars(32768))
        gold = {e.text: e.label for e in entries}
        texts = list(dict.fromkeys(e.text for e in entries))
        t = time.time()
        zero = scores(texts, [])
        probs = [label_probabilities(r) for r in zero]
        prior = [sum(p[k] for p in probs) / len(probs) for k in range(len(labels))]
        cal = [[p / q for p, q in zip(row, prior)] for row in probs]
        norm = [[c / sum(row) for c in row] for row in cal]
        report(seed, "zero", entries, texts, chosen_labels(zero, labels), 0, time.time() - t)
        for per in (1, 2):
            shots, used = [], set()
            for k, label in enumerate(labels):
                ranked = sorted(range(len(texts)), key=lambda i: -norm[i][k])
                picked = [i for i in ranked if i not in used][:per]
                used.update(picked)
                shots += [(texts[i], label) for i in picked]
            ok = sum(gold[x] == l for x, l in shots)
            print(f"seed {seed} pseudo{per}: {ok}/{len(shots)} examples right:", shots, flush=True)
            t = time.time()
            report(seed, f"pseudo{per}", entries, texts, chosen_labels(scores(texts, shots), labels), len(shots),
                   time.time() - t)

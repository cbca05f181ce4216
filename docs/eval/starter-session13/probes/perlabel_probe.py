"""classify() with 2, 3 or 4 root-written examples per label (EXAMPLES_PER_LABEL), 0.5B scores, batch-calibrated.
usage: perlabel_probe.py LENGTH SEED [SEED ...]"""
import random, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine.calibration import chosen_labels
    from rlm_desktop.engine import prompts
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
    for seed in map(int, sys.argv[2:]):
        entries = make_entries(random.Random(f"oolong:{length}:{seed}:0"), target_chars(length))
        texts = list(dict.fromkeys(e.text for e in entries))
        gold = {e.text: e.label for e in entries}
        for per in (3, 4):
            prompts.EXAMPLES_PER_LABEL = per
            with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
                server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
                count = min(EXAMPLE_SAMPLES, len(texts))
                samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
                written = [tuple(p) for p in server.llm_examples(labels, samples)]
            print(f"seed {seed} per {per}: {len(written)} written:", written, flush=True)
            t = time.time()
            rows = [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, written) for x in texts], labels)]
            by = dict(zip(texts, chosen_labels(rows, labels)))
            true = Counter(e.label for e in entries); pred = Counter(by[e.text] for e in entries)
            right = sum(1 for e in entries if by[e.text] == e.label)
            rt = [l for l, _ in true.most_common()]; rp = [l for l, _ in pred.most_common()]
            print(f"seed {seed} per{per} ({time.time()-t:.0f} s): {right}/{len(entries)} = {right/len(entries):.2f}; "
                  f"count error {sum(abs(pred[l]-true[l]) for l in labels)}; most {rp[0]}/{rt[0]}; least {rp[-1]}/{rt[-1]}",
                  flush=True)
            print("    ", {l: (true[l], pred[l]) for l in labels}, flush=True)

"""Save the 0.5B's label log-probabilities (with the root-written examples, as the app's classify() asks) for every
distinct text of OOLONG seeds, with the gold labels and entry counts, for offline study of the label-choice rule.
usage: save_scores.py LENGTH OUT.json SEED [SEED ...]"""
import json, random, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
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
    length, out = int(sys.argv[1]), sys.argv[2]
    saved = {}
    for seed in map(int, sys.argv[3:]):
        entries = make_entries(random.Random(f"oolong:{length}:{seed}:0"), target_chars(length))
        texts = list(dict.fromkeys(e.text for e in entries))
        with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
            server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
            count = min(EXAMPLE_SAMPLES, len(texts))
            samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
            written = [tuple(p) for p in server.llm_examples(labels, samples)]
        t = time.time()
        rows = [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, written) for x in texts], labels)]
        gold = {e.text: e.label for e in entries}
        saved[seed] = {"labels": labels, "examples": written, "texts": texts, "rows": rows,
                       "gold": [gold[x] for x in texts], "uses": [Counter(e.text for e in entries)[x] for x in texts]}
        print(f"seed {seed}: {len(texts)} texts scored in {time.time() - t:.0f} s", flush=True)
        json.dump(saved, open(out, "w"))

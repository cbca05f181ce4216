"""Score probe: root-written examples + 0.5B label log-probs for every distinct text of an OOLONG seed.
usage: score_probe.py SEED OUT.json"""
import json, random, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine.budget import RunBudget
    from rlm_desktop.engine.subcalls import SubCallServer
    from rlm_desktop.engine.prompts import classify_messages
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    seed, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(f"oolong:32768:{seed}:0")
    entries = make_entries(rng, target_chars(32768))
    gold = {}
    for e in entries:
        gold.setdefault(e.text, e.label)
    mult = Counter(e.text for e in entries)
    texts = sorted(gold)
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    labels = list(LABELS)
    with RunBudget(max_sub_calls=5000, max_tokens=10**8, max_seconds=3600) as budget:
        server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
        t = time.time()
        samples = random.Random(seed).sample(texts, 5)
        ex = server.llm_examples(labels, samples)
        print("examples:", ex, time.time() - t)
    shots = [tuple(p) for p in ex]
    t = time.time()
    res = sub.score_choices([classify_messages(labels, x, shots) for x in texts], labels)
    cf_texts = ["N/A", "", "[MASK]"]
    cf = sub.score_choices([classify_messages(labels, x, shots) for x in cf_texts], labels)
    print("scored", len(texts), time.time() - t)
    json.dump({"labels": labels, "examples": ex, "texts": texts, "gold": [gold[x] for x in texts],
               "mult": [mult[x] for x in texts], "scores": [list(r.scores) for r in res],
               "cf": [list(r.scores) for r in cf]}, open(out, "w"))
    right = sum(mult[x] for x, r in zip(texts, res) if r.text == gold[x])
    print(f"argmax right {right}/{len(entries)}")

"""Classify all distinct texts of an OOLONG seed through SubCallServer (examples as the helper picks samples).
usage: cls_probe.py SEED"""
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
    seed = int(sys.argv[1])
    entries = make_entries(random.Random(f"oolong:32768:{seed}:0"), target_chars(32768))
    gold = {e.text: e.label for e in entries}
    texts = list(dict.fromkeys(e.text for e in entries))
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    with RunBudget(max_sub_calls=5000, max_tokens=10**8, max_seconds=3600) as budget:
        server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
        count = min(EXAMPLE_SAMPLES, len(texts))
        samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
        t = time.time()
        ex = server.llm_examples(list(LABELS), samples)
        print("examples", ex, round(time.time() - t))
        if len(sys.argv) > 2 and sys.argv[2] == "q":
            ex = [p for p in ex if p[0].rstrip().endswith("?")]
            print("kept", ex)
        t = time.time()
        labels = server.llm_classify(texts, list(LABELS), ex)
        print("classified", round(time.time() - t))
    by = dict(zip(texts, labels))
    pred = Counter(by[e.text] for e in entries); true = Counter(e.label for e in entries)
    right = sum(1 for e in entries if by[e.text] == e.label)
    print(f"seed {seed}: {right}/{len(entries)} right")
    for l in LABELS: print(f"  {l:35s} true {true[l]:4d} pred {pred[l]:4d}")

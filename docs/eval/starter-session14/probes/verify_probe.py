"""Written examples checked by their writer: the 1.5B scores each written example's label zero-shot (no examples)
and an example is kept only where its own label comes first; the 0.5B then scores every text with the kept ones.
usage: verify_probe.py IN.json[,IN2.json] OUT.json SEED [SEED ...]"""
import json, sys, time
if __name__ == "__main__":
    from rlm_desktop.engine.prompts import classify_messages
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    src = {}
    for path in sys.argv[1].split(","):
        src.update(json.load(open(path)))
    out = {}
    for seed in sys.argv[3:]:
        v = dict(src[seed]); labels = v["labels"]
        data = {t.casefold() for t in v["texts"]}
        written = [tuple(p) for p in v["examples"] if p[0].casefold() not in data]  # the shipped copy filter
        t = time.time()
        checks = [list(r.scores) for r in root.score_choices([classify_messages(labels, x, ()) for x, _ in written], labels)]
        kept = [pair for pair, row in zip(written, checks) if labels[max(range(len(labels)), key=row.__getitem__)] == pair[1]]
        print(f"seed {seed}: kept {len(kept)} of {len(written)} ({time.time() - t:.0f} s):",
              [(x[:50], l[:5], labels[max(range(len(labels)), key=row.__getitem__)][:5]) for (x, l), row in zip(written, checks)], flush=True)
        v["rows"] = [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, kept) for x in v["texts"]], labels)]
        v["examples"] = kept
        out[seed] = v
        print(f"seed {seed}: scored, {time.time() - t:.0f} s", flush=True)
        json.dump(out, open(sys.argv[2], "w"))

"""Re-score saved seeds with their written examples filtered (drop examples that are texts of the data, i.e. copied
samples). usage: rescore.py IN.json OUT.json SEED [SEED ...]"""
import json, sys, time
if __name__ == "__main__":
    from rlm_desktop.engine.prompts import classify_messages
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    src = {}
    for path in sys.argv[1].split(","):
        src.update(json.load(open(path)))
    out = {}
    for seed in sys.argv[3:]:
        v = dict(src[seed]); labels = v["labels"]; data = {t.casefold() for t in v["texts"]}
        kept = [tuple(p) for p in v["examples"] if p[0].casefold() not in data]
        t = time.time()
        v["rows"] = [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, kept) for x in v["texts"]], labels)]
        v["examples"] = kept
        out[seed] = v
        print(f"seed {seed}: kept {len(kept)} examples; {time.time() - t:.0f} s", flush=True)
        json.dump(out, open(sys.argv[2], "w"))

"""Examples asked in the samples' form: where every shown sample is a question, the writer is asked for questions.
Re-writes examples (1.5B) and re-scores (0.5B) saved seeds. usage: form_probe.py OUT.json SEED [SEED ...]"""
import json, random, sys, time
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine import prompts, subcalls
    from rlm_desktop.engine.prompts import classify_messages
    from rlm_desktop.sandbox.helpers import EXAMPLE_SAMPLES
    from rlm_desktop.engine.budget import RunBudget
    from rlm_desktop.engine.subcalls import SubCallServer
    from rlm_desktop import runtime
    from rlm_desktop.settings import Settings
    original = prompts.example_request

    def asked_in_form(labels, label, samples):
        text = original(labels, label, samples)
        if samples and all(s.rstrip().endswith("?") for s in samples):
            text = text.replace("Write two new texts of the same kind", "Write two new questions like these")
            text = text.replace("Reply with the two texts only.", "Reply with the two questions only.")
        return text
    subcalls.example_request = asked_in_form
    par = runtime.engine_config(Settings.load(), "qwen2.5-coder-1.5b-instruct-q4km").parallel_sub_calls
    root = runtime.load_model("qwen2.5-coder-1.5b-instruct-q4km", n_threads=2)
    sub = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, batching=True, parallel=par)
    labels = list(LABELS); out = {}
    for seed in map(int, sys.argv[2:]):
        entries = make_entries(random.Random(f"oolong:32768:{seed}:0"), target_chars(32768))
        texts = list(dict.fromkeys(e.text for e in entries))
        t = time.time()
        with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
            server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
            count = min(EXAMPLE_SAMPLES, len(texts))
            samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
            written = [tuple(p) for p in server.llm_examples(labels, samples)]
        print(f"seed {seed} written ({time.time() - t:.0f} s):", written, flush=True)
        rows = [list(r.scores) for r in sub.score_choices([classify_messages(labels, x, written) for x in texts], labels)]
        gold = {e.text: e.label for e in entries}
        from collections import Counter
        uses = Counter(e.text for e in entries)
        out[str(seed)] = {"labels": labels, "examples": written, "texts": texts, "rows": rows,
                          "gold": [gold[x] for x in texts], "uses": [uses[x] for x in texts]}
        print(f"seed {seed}: scored in {time.time() - t:.0f} s", flush=True)
        json.dump(out, open(sys.argv[1], "w"))

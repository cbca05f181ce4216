"""Label meanings for classify(): the 1.5B writes one line per category saying what belongs there (given sample
texts); the 0.5B then scores labels with those meanings in its system prompt, with and without the written
examples. usage: define_probe.py LENGTH SEED [SEED ...]"""
import random, re, sys, time
from collections import Counter
if __name__ == "__main__":
    from rlm_desktop.eval.tasks.oolong_data import LABELS, make_entries
    from rlm_desktop.eval.tasks.base import target_chars
    from rlm_desktop.engine.calibration import chosen_labels
    from rlm_desktop.engine import prompts
    from rlm_desktop.engine.prompts import classify_messages, example_messages
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

    def msgs(text, shots, meanings):
        m = classify_messages(labels, text, shots)
        if meanings:
            listed = "\n".join(f"- {l}: {meanings[l]}" if meanings.get(l) else f"- {l}" for l in labels)
            m[0] = {"role": "system", "content": f"{prompts.CLASSIFY_SYSTEM}\n\nCategories:\n{listed}"}
        return m

    def scores(model, texts, shots, meanings):
        return [list(r.scores) for r in model.score_choices([msgs(x, shots, meanings) for x in texts], labels)]

    def report(seed, mode, entries, texts, chosen, secs):
        by = dict(zip(texts, chosen))
        true = Counter(e.label for e in entries); pred = Counter(by[e.text] for e in entries)
        right = sum(1 for e in entries if by[e.text] == e.label)
        rt = [l for l, _ in true.most_common()]; rp = [l for l, _ in pred.most_common()]
        print(f"seed {seed} {mode:14s} ({secs:.0f} s): {right}/{len(entries)} = {right/len(entries):.2f}; "
              f"count error {sum(abs(pred[l]-true[l]) for l in labels)}; most {rp[0]}/{rt[0]}; least {rp[-1]}/{rt[-1]}",
              flush=True)
        print("    ", {l: (true[l], pred[l]) for l in labels}, flush=True)

    def meanings_of(samples):
        cats = ", ".join(repr(l) for l in labels)
        shown = "\n".join(f"- {s}" for s in samples)
        ask = (f"Texts like these are sorted into the categories {cats}:\n{shown}\n\n"
               "For each category, write one line `category: what kind of text belongs there`, short and concrete, "
               "so that a reader can tell the categories apart. Reply with the lines only.")
        out = root.chat(example_messages(ask), max_tokens=300, temperature=0.0)
        text = out.text if hasattr(out, "text") else str(out)
        print("meanings raw:", text, flush=True)
        found = {}
        for line in text.splitlines():
            line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", line).strip().strip("`*")
            for l in labels:
                m = re.match(rf"['\"`*]*{re.escape(l)}['\"`*]*\s*[:\-\u2013]\s*(.+)", line, re.I)
                if m and l not in found:
                    found[l] = m.group(1).strip().strip("`*")
        return found

    for seed in map(int, sys.argv[2:]):
        entries = make_entries(random.Random(f"oolong:{length}:{seed}:0"), target_chars(length))
        texts = list(dict.fromkeys(e.text for e in entries))
        with RunBudget(max_sub_calls=50000, max_tokens=10**9, max_seconds=36000) as budget:
            server = SubCallServer(sub, budget=budget, emit=lambda e: None, max_tokens=256, parallel=par, writer=root)
            count = min(EXAMPLE_SAMPLES, len(texts))
            samples = [texts[(k + 1) * len(texts) // (count + 1)] for k in range(count)]
            written = [tuple(p) for p in server.llm_examples(labels, samples)]
        print(f"seed {seed} ({len(texts)} texts) written:", written, flush=True)
        t = time.time(); meanings = meanings_of(samples); print("meanings:", meanings, f"{time.time()-t:.0f} s", flush=True)
        for mode, shots, mean in (("examples", written, None), ("meanings", (), meanings), ("both", written, meanings)):
            t = time.time(); rows = scores(sub, texts, shots, mean)
            report(seed, mode, entries, texts, chosen_labels(rows, labels), time.time() - t)

"""rlm-desktop's RLM on the six questions, same pair in-process."""
import json, sys, time
sys.path.insert(0, "/work/exp/cmp")
from instances import instances
from rlm_desktop.backends.llamacpp import LlamaCppModel
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.eval.tasks import dataroom

ROOT = "/tmp/starter/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SUB = "/tmp/starter/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
def main():
    with LlamaCppModel(ROOT, n_ctx=32768, n_threads=2) as root, LlamaCppModel(SUB, n_ctx=32768, n_threads=2) as sub:
        for inst in instances():
            t = time.time()
            res = RLM(root, sub, RLMConfig(max_iterations=6, max_seconds=600)).run(inst.question, inst.context)
            row = {"harness": "rlm-desktop", "kind": inst.meta.get("kind"), "seed": inst.seed, "question": inst.question,
                   "gold": str(inst.answer), "answer": (res.answer or "")[:500], "score": dataroom.score(inst, res.answer or ""),
                   "citations": [(c.document, c.page) for c in res.citations][:4], "seconds": round(time.time() - t, 1)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

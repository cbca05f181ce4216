"""rlms 0.1.3 (the paper authors' harness) on the six questions, the starter pair served by llama_cpp.server."""
import json, sys, time
sys.path.insert(0, "/work/exp/cmp")
from instances import instances
from rlm import RLM
from rlm_desktop.eval.tasks import dataroom

URL = "http://127.0.0.1:8077/v1"
task = dataroom
for inst in instances():
    rlm = RLM(backend="openai", backend_kwargs={"model_name": "root", "base_url": URL, "api_key": "local"},
              other_backends=["openai"], other_backend_kwargs=[{"model_name": "sub", "base_url": URL, "api_key": "local"}],
              max_iterations=8, max_timeout=600, sampling_args={"temperature": 0, "max_tokens": 640},
              sub_sampling_args={"temperature": 0, "max_tokens": 256})
    text = "\n\n".join(f"=== {d.name} ===\n{d.text}" for d in inst.context)
    t = time.time()
    try:
        answer = rlm.completion(text, root_prompt=inst.question).response
    except Exception as exc:  # report it as it is
        answer = f"(error: {type(exc).__name__}: {exc})"
    row = {"harness": "rlms-0.1.3", "kind": inst.meta.get("kind"), "seed": inst.seed, "question": inst.question,
           "gold": str(inst.answer), "answer": str(answer)[:500], "score": dataroom.score(inst, str(answer)),
           "seconds": round(time.time() - t, 1)}
    print(json.dumps(row), flush=True)

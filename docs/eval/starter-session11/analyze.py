import json, sys, numpy as np
from collections import Counter
def softmax(m):
    m = np.asarray(m, float); m = m - m.max(axis=1, keepdims=True); e = np.exp(m); return e / e.sum(axis=1, keepdims=True)
def run(path, key="scores"):
    d = json.load(open(path)); L = d["labels"]; P = softmax(d[key]); cf = softmax(d[key.replace("scores","cf")]).mean(axis=0)
    gold = np.array([L.index(g) for g in d["gold"]]); w = np.array(d["mult"], float); N = w.sum()
    true = np.array([w[gold == k].sum() for k in range(len(L))])
    def em(Lik, iters=100, weights=None):
        pi = np.full(len(L), 1 / len(L))
        for _ in range(iters):
            post = Lik * pi; post /= post.sum(axis=1, keepdims=True)
            pi = (post * (weights if weights is not None else 1)[:, None]).sum(0) if weights is not None else post.mean(0)
            pi /= pi.sum()
        post = Lik * pi; post /= post.sum(axis=1, keepdims=True)
        return post, pi
    methods = {}
    methods["raw"] = P
    methods["cc"] = P / cf
    bc = P.mean(0); methods["bc"] = P / bc
    methods["cc+em"] = em(P / cf)[0]
    methods["bc+em"] = em(P / bc)[0]
    methods["cc_sqrt"] = P / np.sqrt(cf)
    methods["bc_sqrt"] = P / np.sqrt(bc)
    bcw = (P * w[:, None]).sum(0) / w.sum(); methods["bc_w"] = P / bcw
    out = []
    for name, M in methods.items():
        pred = M.argmax(1); acc = (w * (pred == gold)).sum() / N
        counts = np.array([w[pred == k].sum() for k in range(len(L))])
        rank_ok = (np.argmax(counts) == np.argmax(true), np.argmin(counts) == np.argmin(true))
        pair_ok = np.mean([(counts[a] > counts[b]) == (true[a] > true[b]) for a in range(6) for b in range(6) if a < b])
        out.append(f"{name:8s} acc {acc:.2f} L1 {np.abs(counts-true).sum():5.0f} most/least {rank_ok} pairs {pair_ok:.2f} counts {counts.astype(int).tolist()}")
    print(path, "true", true.astype(int).tolist(), "cf", np.round(cf, 2).tolist(), "bc", np.round(bc, 2).tolist())
    print("\n".join(out))
for p in sys.argv[2:]: run(p, sys.argv[1])

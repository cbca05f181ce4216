"""Offline: label-choice rules on saved 0.5B scores (save_scores.py). raw argmax; batch calibration (the app's);
EM prior re-estimation (Saerens et al. 2002) on top of batch calibration, weighting each distinct text by its
number of entries. usage: prior_em.py SCORES.json"""
import json, math, sys
from collections import Counter

def probs(row):
    top = max(row); w = [math.exp(v - top) for v in row]; t = sum(w); return [x / t for x in w]

def bc(P):
    k = len(P[0]); prior = [sum(p[j] for p in P) / len(P) for j in range(k)]
    out = [[p[j] / prior[j] for j in range(k)] for p in P]
    return [[x / sum(r) for x in r] for r in out]

def em(L, uses, iters=100):
    """L: per text, likelihood-like scores (rows sum to 1 under a uniform prior). Returns posteriors, prior."""
    k = len(L[0]); pi = [1 / k] * k; n = sum(uses)
    for _ in range(iters):
        post = []
        for r in L:
            w = [pi[j] * r[j] for j in range(k)]; t = sum(w); post.append([x / t for x in w])
        pi = [sum(u * p[j] for u, p in zip(uses, post)) / n for j in range(k)]
    return post, pi

def report(name, labels, gold, uses, post):
    k = len(labels)
    chosen = [labels[max(range(k), key=p.__getitem__)] for p in post]
    true = Counter(); pred = Counter(); right = 0
    for g, c, u in zip(gold, chosen, uses):
        true[g] += u; pred[c] += u; right += u * (g == c)
    # expected counts (soft) too
    soft = {l: sum(u * p[j] for u, p in zip(uses, post)) for j, l in enumerate(labels)}
    rt = [l for l, _ in true.most_common()]; rp = [l for l, _ in pred.most_common()]
    rs = sorted(labels, key=lambda l: -soft[l])
    err = sum(abs(pred[l] - true[l]) for l in labels)
    print(f"  {name:8s} acc {right/sum(uses):.2f} err {err:4d} most {rp[0]==rt[0]!s:5s} least {rp[-1]==rt[-1]!s:5s} "
          f"| soft most {rs[0]==rt[0]!s:5s} least {rs[-1]==rt[-1]!s:5s}  {[(l[:5], true[l], pred[l], round(soft[l])) for l in labels]}")

data = json.load(open(sys.argv[1]))
for seed, d in data.items():
    labels, gold, uses = d["labels"], d["gold"], d["uses"]
    P = [probs(r) for r in d["rows"]]
    print("seed", seed)
    report("raw", labels, gold, uses, P)
    B = bc(P)
    report("bc", labels, gold, uses, B)
    post, pi = em(B, uses)
    report("bc+em", labels, gold, uses, post)
    post2, _ = em(P, uses)
    report("raw+em", labels, gold, uses, post2)

"""Offline: label-choice rules on saved 0.5B label scores (save_scores.py output); per seed, what each rule
gives for the questions OOLONG-style asks of the whole data (most / least frequent, every pairwise comparison,
counts scored 0.75^error). usage: rules.py SCORES.json [...]"""
import json, math, sys
from collections import Counter
from itertools import combinations

def probs(row):
    top = max(row); w = [math.exp(v - top) for v in row]; s = sum(w); return [x / s for x in w]

def rule_alpha(rows, alpha):
    P = [probs(r) for r in rows]
    k = len(P[0]); prior = [sum(p[i] for p in P) / len(P) for i in range(k)]
    return [max(range(k), key=lambda i: p[i] / prior[i] ** alpha) for p in P]

def rule_weighted_alpha(rows, uses, alpha):  # prior over entries (texts weighted by how often they occur)
    P = [probs(r) for r in rows]
    k = len(P[0]); n = sum(uses); prior = [sum(p[i] * u for p, u in zip(P, uses)) / n for i in range(k)]
    return [max(range(k), key=lambda i: p[i] / prior[i] ** alpha) for p in P]

def soft_counts(rows, uses, alpha):
    P = [probs(r) for r in rows]
    k = len(P[0]); prior = [sum(p[i] for p in P) / len(P) for i in range(k)]
    out = [0.0] * k
    for p, u in zip(P, uses):
        c = [p[i] / prior[i] ** alpha for i in range(k)]; s = sum(c)
        for i in range(k): out[i] += u * c[i] / s
    return out

def cmp(a, b):
    return "more" if a > b else "less" if a < b else "same"

def evaluate(d, chosen=None, counts=None):
    L = d["labels"]; gold = Counter(); pred = Counter(); right = 0; n = 0
    for i, (g, u) in enumerate(zip(d["gold"], d["uses"])):
        gold[g] += u; n += u
        if chosen is not None:
            pred[L[chosen[i]]] += u; right += u * (L[chosen[i]] == g)
    if counts is not None:
        pred = Counter({L[i]: counts[i] for i in range(len(L))})
    most = max(L, key=lambda l: pred[l]) == max(L, key=lambda l: gold[l])
    least = min(L, key=lambda l: pred[l]) == min(L, key=lambda l: gold[l])
    pairs = list(combinations(L, 2))
    comp = sum(cmp(pred[a], pred[b]) == cmp(gold[a], gold[b]) for a, b in pairs) / len(pairs)
    cnt = sum(0.75 ** abs(round(pred[l]) - gold[l]) for l in L) / len(L)
    return right / n if chosen is not None else float("nan"), most, least, comp, cnt

if __name__ == "__main__":
    data = {}
    for path in sys.argv[1:]:
        data.update(json.load(open(path)))
    rules = {f"alpha={a}": (lambda d, a=a: evaluate(d, rule_alpha(d["rows"], a))) for a in (0, 0.25, 0.5, 0.75, 1.0, 1.5)}
    rules.update({f"w-alpha={a}": (lambda d, a=a: evaluate(d, rule_weighted_alpha(d["rows"], d["uses"], a))) for a in (0.5, 1.0)})
    rules.update({f"soft a={a}": (lambda d, a=a: evaluate(d, counts=soft_counts(d["rows"], d["uses"], a))) for a in (0, 0.5, 1.0)})
    print(f"{'rule':12s} {'acc':>5s} {'most':>5s} {'least':>5s} {'comp':>5s} {'count':>5s}  score(most,least,comp avg)")
    for name, fn in rules.items():
        res = [fn(d) for d in data.values()]
        acc, most, least, comp, cnt = (sum(r[i] for r in res) / len(res) for i in range(5))
        print(f"{name:12s} {acc:5.2f} {most:5.2f} {least:5.2f} {comp:5.2f} {cnt:5.3f}  {(most + least + comp) / 3:.2f}   "
              + " ".join(f"{int(r[1])}{int(r[2])}" for r in res))

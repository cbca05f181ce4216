import json, sys
exec(open('/work/exp14/rules.py').read().split('if __name__ == "__main__":')[0])
from collections import Counter
old=json.load(open('/work/exp14/scores_30_37.json')); old.update(json.load(open('docs/eval/starter-session13/probes/scores_seed65.json')))
old.update(json.load(open('/work/exp14/rescored.json')))
new=json.load(open('/work/exp14/form.json')); new.update(json.load(open('/work/exp14/form2.json')))
tot={'before':[0]*5,'after':[0]*5}
for seed in sorted(new):
    for name,d in (('before',old[seed]),('after',new[seed])):
        r=evaluate(d, rule_alpha(d['rows'],1.0))
        tot[name]=[a+b for a,b in zip(tot[name],r)]
        print(seed,name,f"acc {r[0]:.3f} most {int(r[1])} least {int(r[2])} comp {r[3]:.2f} count {r[4]:.3f}")
print(len(new), {k:[round(x/len(new),3) for x in v] for k,v in tot.items()})

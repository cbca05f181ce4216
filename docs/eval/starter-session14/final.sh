#!/bin/bash
# session 14: samples and fresh data-room seeds at the worktree's HEAD, one model run at a time
export RLM_DESKTOP_HOME=/work/evalrun/home PYTHONPATH=/work/wt14
R=/work/main/.venv/bin/rlm
cd /work/wt14
rm -rf /work/evalrun/home/prompt-cache
out=/work/exp14/samples; mkdir -p $out
i=0
while IFS= read -r q; do
  i=$((i+1))
  /usr/bin/time -f "%e s wall" $R ask "$q" --docs resources/samples --trace > $out/q$i.log 2>&1
  sed -i '/^Assembling/d' $out/q$i.log
done <<'QS'
Which customer contract can be terminated on a change of control, and what share of Halvard's 2024 revenue does that customer represent?
Is the escrow in the share purchase agreement larger than the Kestrel minimum annual purchase?
Does the diligence memo state the Kestrel revenue share correctly?
What is the purchase price for the shares of Halvard?
QS
touch /work/exp14/samples.DONE
$R eval run --task dataroom --lengths 32k --methods rlm --first-seed 120 --seeds 10 --max-iterations 8 --max-seconds 600 --prompt-cache --out /work/exp14/final --no-report > /work/exp14/dr120.log 2>&1
touch /work/exp14/final.DONE

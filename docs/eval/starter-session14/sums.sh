#!/bin/bash
export RLM_DESKTOP_HOME=/work/evalrun/home PYTHONPATH=/work/wt14
R=/work/main/.venv/bin/rlm
cd /work/wt14
for s in 124 134 139 144; do
$R eval run --task dataroom --lengths 32k --methods rlm --first-seed $s --seeds 1 --max-iterations 8 --max-seconds 600 --prompt-cache --out /work/exp14/sums --no-report >> /work/exp14/sums.log 2>&1
done
touch /work/exp14/sums.DONE

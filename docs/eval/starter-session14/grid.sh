#!/bin/bash
# session 14: fresh seeds at one engine commit (the worktree's HEAD), one model run at a time
export RLM_DESKTOP_HOME=/work/evalrun/home PYTHONPATH=/work/wt14
R=/work/main/.venv/bin/rlm
cd /work/wt14
G=/work/exp14/grid
$R eval run --task oolong --lengths 32k --methods rlm --first-seed 75 --seeds 5 --max-iterations 6 --max-seconds 600 --prompt-cache --out $G --no-report > /work/exp14/oolong32.log 2>&1
touch /work/exp14/oolong.DONE
$R eval run --task dataroom --lengths 32k --methods rlm --first-seed 110 --seeds 10 --max-iterations 8 --max-seconds 600 --prompt-cache --out $G --no-report > /work/exp14/dr110.log 2>&1
$R eval run --task multihop --lengths 32k --methods rlm --first-seed 38 --seeds 5 --max-iterations 8 --max-seconds 600 --prompt-cache --out $G --no-report > /work/exp14/mh.log 2>&1
touch /work/exp14/grid.DONE

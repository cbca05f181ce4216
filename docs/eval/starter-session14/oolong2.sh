#!/bin/bash
while [ ! -f /work/exp14/sums.DONE ]; do sleep 5; done
export RLM_DESKTOP_HOME=/work/evalrun/home PYTHONPATH=/work/wt14
cd /work/wt14
/work/main/.venv/bin/rlm eval run --task oolong --lengths 32k --methods rlm --first-seed 80 --seeds 5 --max-iterations 6 --max-seconds 600 --prompt-cache --out /work/exp14/final2 --no-report > /work/exp14/oolong80.log 2>&1
touch /work/exp14/oolong2.DONE

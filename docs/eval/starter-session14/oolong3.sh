#!/bin/bash
while ! grep -q "^rc=" /work/exp14/make_test.log; do sleep 5; done
export RLM_DESKTOP_HOME=/work/evalrun/home PYTHONPATH=/work/wt14
cd /work/wt14
/work/main/.venv/bin/rlm eval run --task oolong --lengths 32k --methods rlm --first-seed 85 --seeds 5 --max-iterations 6 --max-seconds 600 --prompt-cache --out /work/exp14/final3 --no-report > /work/exp14/oolong85.log 2>&1
touch /work/exp14/oolong3.DONE

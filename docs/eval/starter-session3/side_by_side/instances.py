"""The six side-by-side questions: one generated data room (48K tokens, seed 30), the issue's six kinds."""
import sys
sys.path.insert(0, "/work/wt-eval3")
from rlm_desktop.eval.tasks import dataroom

LENGTH = 48 * 1024


def instances():
    out = [dataroom.generate_kind(LENGTH, 30, kind) for kind in ("needle", "date", "count", "list", "sum")]
    out.insert(3, dataroom.generate_kind(LENGTH, 31, "count"))  # a second count (another room)
    return out

"""`rlm bench library --tree PATH`: ingest a real folder as it comes (such as /usr/share/doc).

Figures: the share of text-bearing files that reached the library, files per second, MB/s, the
peak RSS of the ingest process and of its OCR worker, and the reasons for the rest. The ingest
runs in a child process so its peak RSS is its own. Figures only, never assertions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from rlm_desktop.library import IngestLimits, Library
from rlm_desktop.library.import_report import classify, reason_groups

def peak_rss(who):
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except ImportError:
        import psutil
        return psutil.Process().memory_info().peak_wset if who == "self" else None

start = time.perf_counter()
with Library.open(Path(sys.argv[1]), limits=IngestLimits(ocr=sys.argv[3] == "ocr")) as lib:
    report = lib.ingest([Path(sys.argv[2])], collection="tree")
seconds = time.perf_counter() - start
no_text = ("no text", "not a document", "link or special")  # carry no text: not counted against the share
counts, text_bearing, in_library = {}, 0, 0
for result in report.files:
    counts[result.status] = counts.get(result.status, 0) + 1
    if result.status == "archive":
        continue
    if result.status == "skipped" and classify(result)[0].startswith(no_text):
        continue
    text_bearing += 1
    in_library += result.ok
groups = [(g.status, g.reason, g.count, g.examples) for g in reason_groups(report, 2)]
print("result " + json.dumps({"seconds": seconds, "peak_rss": peak_rss("self"), "ocr_peak_rss": peak_rss("children"),
                              "counts": counts, "text_bearing": text_bearing, "in_library": in_library,
                              "entries": len(report.files), "groups": groups}), flush=True)
"""


def _walk(tree: Path) -> tuple[int, int]:
    files = size = 0
    for root, _dirs, names in os.walk(tree):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                files += 1
                size += path.stat().st_size
    return files, size


def run_tree_bench(tree: Path, echo: Callable[[str], None] = print, *, ocr: bool = True,
                   workdir: Path | None = None) -> dict[str, float]:
    """Ingest ``tree`` into a fresh library in a child process; print and return the figures."""
    files, size = _walk(tree)
    with tempfile.TemporaryDirectory(prefix="rlm-bench-tree-", dir=workdir) as temp:
        done = subprocess.run([sys.executable, "-c", CHILD, str(Path(temp) / "library.db"), str(tree),
                               "ocr" if ocr else "no-ocr"], capture_output=True, text=True, check=False)
    line = next((l for l in done.stdout.splitlines() if l.startswith("result ")), None)
    if line is None:
        echo(f"tree: the ingest did not finish (exit {done.returncode}): {done.stderr.strip()[-400:]}")
        return {}
    result = json.loads(line[len("result "):])
    seconds = max(result["seconds"], 1e-9)
    figures = {"tree_files": files, "tree_mb": size / 2**20, "tree_seconds": seconds,
               "tree_files_per_s": files / seconds, "tree_mb_per_s": size / 2**20 / seconds,
               "tree_text_share": result["in_library"] / max(1, result["text_bearing"]),
               "tree_peak_rss_mb": result["peak_rss"] / 2**20}
    if result["ocr_peak_rss"]:
        figures["tree_ocr_worker_peak_rss_mb"] = result["ocr_peak_rss"] / 2**20
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result["counts"].items(), key=lambda kv: -kv[1]))
    echo(f"tree {tree}: {files:,} files, {figures['tree_mb']:.0f} MB, {result['entries']:,} results "
         f"(archive members included): {counts}")
    echo(f"  text-bearing files in the library: {result['in_library']:,} of {result['text_bearing']:,} "
         f"({100 * figures['tree_text_share']:.1f}%)")
    echo(f"  {seconds:.1f} s: {figures['tree_files_per_s']:.1f} files/s, {figures['tree_mb_per_s']:.2f} MB/s; "
         f"peak RSS of the ingest process {figures['tree_peak_rss_mb']:.0f} MB"
         + (f", of its OCR worker {figures['tree_ocr_worker_peak_rss_mb']:.0f} MB"
            if "tree_ocr_worker_peak_rss_mb" in figures else ", no OCR worker")
         + ("" if ocr else " (OCR off)"))
    for status, reason, count, examples in result["groups"]:
        echo(f"  {count:>6} {status}: {reason} (e.g. {'; '.join(examples)})")
    return figures

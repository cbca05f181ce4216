"""`rlm bench library --tree`: the figures of a real folder's ingest, from a folder the test writes."""

from __future__ import annotations

import gzip
from pathlib import Path

from PIL import Image

from rlm_desktop.library.bench_tree import run_tree_bench


def test_tree_bench_counts_text_bearing_files(tmp_path: Path):
    tree = tmp_path / "doc"
    tree.mkdir()
    (tree / "copyright").write_text("Copyright 2024. License: MIT.\n", encoding="utf-8")
    (tree / "changelog.gz").write_bytes(gzip.compress(b"1.0: first release\n"))
    (tree / "broken.pdf").write_bytes(b"%PDF-1.4\n" + bytes(300))
    Image.new("RGB", (16, 16)).save(tree / "icon.png")
    lines: list[str] = []
    figures = run_tree_bench(tree, echo=lines.append, ocr=False)
    assert figures["tree_files"] == 4
    assert abs(figures["tree_text_share"] - 2 / 3) < 1e-9  # the icon carries no text; the broken PDF counts
    assert figures["tree_peak_rss_mb"] > 0 and figures["tree_files_per_s"] > 0
    assert any("text-bearing files in the library: 2 of 3" in line for line in lines)

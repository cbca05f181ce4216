"""`rlm bench library`: ingest throughput, FTS latency and database size on generated corpora.

Figures only (never assertions). ``scale`` shrinks every corpus for a quick run.
Tokens are estimated as characters / 4.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from rlm_desktop.library.library import Library

CHARS_PER_TOKEN = 4
_LEGAL = ("agreement party parties shall governing law indemnify liability termination notice payment invoice "
          "lease tenant landlord warranty breach confidential assignment clause schedule closing purchase price "
          "seller buyer escrow damages jurisdiction arbitration delaware york texas california").split()


def _vocabulary(rng: random.Random, size: int = 30_000) -> tuple[list[str], list[float]]:
    syllables = ["ka", "to", "ri", "mel", "an", "sor", "vi", "den", "lu", "qua", "pre", "ex", "tion", "al", "ment",
                 "ber", "con", "sta", "ri", "mo", "nel", "fi", "gra", "do"]
    words = list(_LEGAL)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(1, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = [1.0 / (rank + 1) for rank in range(len(words))]  # Zipf
    return words, weights


class _TextMaker:
    """Fast plausible text: sentences sampled from a pool built once from a Zipf vocabulary."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.words, weights = _vocabulary(self.rng)
        cumulative = list(itertools.accumulate(weights))
        self.pool = []
        for _ in range(20_000):
            sentence = self.rng.choices(self.words, cum_weights=cumulative, k=self.rng.randint(6, 22))
            self.pool.append(" ".join(sentence).capitalize() + ".")

    def text(self, chars: int) -> str:
        parts: list[str] = []
        total = 0
        while total < chars:
            paragraph = " ".join(self.rng.choices(self.pool, k=self.rng.randint(3, 8)))
            parts.append(paragraph)
            total += len(paragraph) + 1
        return "\n".join(parts) + "\n"


def write_text_corpus(folder: Path, total_bytes: int, maker: _TextMaker, file_bytes: int = 1 << 20) -> int:
    """Mixed text files (txt, md, csv, json, html, py) adding up to about ``total_bytes``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    i = 0
    while written < total_bytes:
        size = min(file_bytes, total_bytes - written)
        kind = ("txt", "md", "csv", "json", "html", "py")[i % 6]
        body = maker.text(max(200, size - 200))
        if kind == "md":
            content = f"# Report {i}\n\n{body}"
        elif kind == "csv":
            content = "id,clause,text\n" + "".join(f'{n},{n % 40},"{line}"\n'
                                                  for n, line in enumerate(body.splitlines()))
        elif kind == "json":
            content = json.dumps({"id": i, "paragraphs": body.splitlines()}, indent=1)
        elif kind == "html":
            content = "<html><body>" + "".join(f"<p>{line}</p>\n" for line in body.splitlines()) + "</body></html>"
        elif kind == "py":
            content = "".join(f"# {line}\ndef f_{n}():\n    return {n}\n" for n, line in enumerate(body.splitlines()))
        else:
            content = body
        path = folder / f"file-{i:05d}.{kind}"
        path.write_text(content, encoding="utf-8")
        written += path.stat().st_size
        i += 1
    return written


def write_pdf_corpus(folder: Path, pages: int, maker: _TextMaker, pages_per_file: int = 50) -> int:
    """PDFs of full text pages (reportlab, from the test extra); returns bytes written."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for start in range(0, pages, pages_per_file):
        path = folder / f"report-{start // pages_per_file:04d}.pdf"
        c = canvas.Canvas(str(path), pagesize=A4)
        for _ in range(min(pages_per_file, pages - start)):
            text = c.beginText(50, 800)
            text.setFont("Helvetica", 9)
            words = maker.text(3200).split()
            line: list[str] = []
            for word in words:
                line.append(word)
                if len(" ".join(line)) > 105:
                    text.textLine(" ".join(line))
                    line = []
            c.drawText(text)
            c.showPage()
        c.save()
        written += path.stat().st_size
    return written


def _timed_ingest(lib: Library, folder: Path) -> tuple[float, int, int]:
    start = time.perf_counter()
    report = lib.ingest([folder])
    seconds = time.perf_counter() - start
    failed = [r for r in report.files if not r.ok]
    if failed:
        raise RuntimeError(f"bench corpus failed to ingest: {failed[0].reason}")
    return seconds, sum(r.pages for r in report.files), sum(r.size for r in report.files)


def _db_bytes(lib: Library) -> int:
    lib.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in lib.path.parent.glob(lib.path.name + "*"))


PARTS = ("text", "pdf", "fts", "dataroom")


def run_library_bench(scale: float = 1.0, workdir: Path | None = None,
                      echo: Callable[[str], None] = print, *, dataroom_mb: float | None = None,
                      parts: tuple[str, ...] = PARTS) -> dict[str, float]:
    """Run the measurements, print them through ``echo`` and return them.

    ``dataroom_mb`` sizes the generated data-room ZIP (default 1024 MB x ``scale``).
    """
    own = workdir is None
    root = Path(tempfile.mkdtemp(prefix="rlm-bench-")) if own else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    maker = _TextMaker()
    try:
        if "dataroom" in parts:
            from rlm_desktop.library.bench_dataroom import run_dataroom_bench

            figures.update(run_dataroom_bench(root / "dataroom", dataroom_mb if dataroom_mb is not None
                                              else 1024 * scale, maker, echo))
            shutil.rmtree(root / "dataroom", ignore_errors=True)
        if "text" not in parts:
            return figures
        # 1. Mixed text files.
        write_text_corpus(root / "text", int(200 * 2**20 * scale), maker)
        with Library.open(root / "text.db") as lib:
            seconds, pages, size = _timed_ingest(lib, root / "text")
        figures.update(text_mb=size / 2**20, text_seconds=seconds, text_mb_s=size / 2**20 / seconds,
                       text_pages_s=pages / seconds)
        echo(f"Ingest, mixed text files: {size / 2**20:.1f} MB ({pages} sections) in {seconds:.1f} s = "
             f"{figures['text_mb_s']:.1f} MB/s, {figures['text_pages_s']:.0f} sections/s")
        shutil.rmtree(root / "text", ignore_errors=True)

        # 2. PDF pages.
        pdf_pages = max(1, int(500 * scale))
        try:
            write_pdf_corpus(root / "pdf", pdf_pages, maker)
        except ImportError:
            echo("Ingest, PDF: skipped (reportlab, from the test extra, is needed to generate the PDFs)")
        else:
            with Library.open(root / "pdf.db") as lib:
                seconds, pages, size = _timed_ingest(lib, root / "pdf")
            figures.update(pdf_pages=pages, pdf_seconds=seconds, pdf_pages_s=pages / seconds,
                           pdf_mb_s=size / 2**20 / seconds)
            echo(f"Ingest, PDF: {pages} pages ({size / 2**20:.1f} MB) in {seconds:.1f} s = "
                 f"{figures['pdf_pages_s']:.0f} pages/s, {figures['pdf_mb_s']:.2f} MB/s")

        # 3. FTS latency and size over a ~10-million-token library.
        target_chars = int(10_000_000 * CHARS_PER_TOKEN * scale)
        fts_folder = root / "fts"
        fts_folder.mkdir()
        chars = 0
        i = 0
        while chars < target_chars:
            body = maker.text(min(2 << 20, target_chars - chars))
            (fts_folder / f"doc-{i:04d}.txt").write_text(body, encoding="utf-8")
            chars += len(body)
            i += 1
        with Library.open(root / "fts.db") as lib:
            _timed_ingest(lib, fts_folder)
            rng = random.Random(11)
            queries = [" ".join(rng.sample(maker.words[20:3000], rng.randint(1, 3))) for _ in range(150)]
            queries += [" ".join(rng.sample(_LEGAL, 2)) for _ in range(50)]
            lib.search(queries[0])  # warm the page cache
            latencies = []
            for query in queries:
                start = time.perf_counter()
                lib.search(query, 10)
                latencies.append((time.perf_counter() - start) * 1000)
            db_bytes = _db_bytes(lib)
        text_size = sum(p.stat().st_size for p in fts_folder.iterdir())
        figures.update(fts_tokens=chars / CHARS_PER_TOKEN, fts_median_ms=statistics.median(latencies),
                       fts_p95_ms=sorted(latencies)[int(len(latencies) * 0.95) - 1],
                       db_to_text=db_bytes / text_size)
        echo(f"FTS search over {chars / CHARS_PER_TOKEN / 1e6:.1f}M tokens ({text_size / 2**20:.0f} MB of text), "
             f"{len(queries)} queries, top 10: median {figures['fts_median_ms']:.1f} ms, "
             f"p95 {figures['fts_p95_ms']:.1f} ms")
        echo(f"Database size: {db_bytes / 2**20:.0f} MB for {text_size / 2**20:.0f} MB of text = "
             f"{figures['db_to_text']:.2f}x (text stored once + FTS5 index)")
    finally:
        if own:
            shutil.rmtree(root, ignore_errors=True)
    return figures

"""`rlm bench library` part 4: a generated data-room ZIP (mixed formats, nested folders, e-mails
with attachments, a nested archive, a few scans): ingest MB/s, peak RSS, and resume after SIGKILL.

The ingest runs in a child process so that its peak RSS is its own; the OCR worker processes it
starts are measured apart (their peak RSS: the largest of them). Figures only, never assertions.
PDF members need reportlab (the test extra); without it the room has no PDFs and says so.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

CHILD = r"""
import json, os, sys, time
from pathlib import Path
from rlm_desktop.library import IngestLimits, Library
from rlm_desktop.library.ocr import ocr_engine

def peak_rss(who="self"):
    # Peak RSS of this process, or ("children") of the largest child it waited for (the OCR workers).
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except ImportError:  # Windows: no figure for ended children
        import psutil
        return psutil.Process().memory_info().peak_wset if who == "self" else None

def show(event):
    if event.stage == "done" and event.name:
        print("member", flush=True)

start = time.perf_counter()
with Library.open(Path(sys.argv[1]), limits=IngestLimits(ocr=sys.argv[3] == "ocr")) as lib:
    report = lib.ingest([Path(sys.argv[2])], collection="room", on_progress=show)
seconds = time.perf_counter() - start
counts = {}
for result in report.files:
    counts[result.status] = counts.get(result.status, 0) + 1
times = os.times()
engine = ocr_engine()
print("result " + json.dumps({"seconds": seconds, "cpu": times.user + times.system, "peak_rss": peak_rss(),
                              "ocr_peak_rss": peak_rss("children"), "ocr_cpu": times.children_user + times.children_system,
                              "ocr_workers": engine.workers_started if engine is not None else 0,
                              "engine_in_app": any(m.split(".")[0] in ("rapidocr_onnxruntime", "onnxruntime", "cv2")
                                                   for m in sys.modules),
                              "counts": counts, "failed": [r.reason for r in report.files if r.status == "failed"][:5]}),
      flush=True)
"""


_MARK = re.compile(r"@@(\d+)@@")


class _OfficeTemplates:
    """Word, Excel and PowerPoint files built once with @@n@@ markers, then filled with new text per
    member by rewriting their XML parts: the members differ (no duplicates) and cost little to make."""

    def __init__(self) -> None:
        import docx
        import openpyxl
        from pptx import Presentation

        document = docx.Document()
        for n in range(30):
            document.add_paragraph(f"@@{n}@@")
        self.docx = _saved(document)
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "Ledger"
        sheet.append(["Invoice", "Party", "Amount", "Due", "Note"])
        for n in range(1000):
            sheet.append([f"INV-{n}", f"Party {n % 97}", (n * 37) % 10_000, f"2025-{n % 12 + 1:02d}-15", f"@@{n}@@"])
        self.xlsx = _saved(workbook)
        deck = Presentation()
        for n in range(12):
            slide = deck.slides.add_slide(deck.slide_layouts[1])
            slide.shapes.title.text = f"Slide {n + 1}"
            slide.placeholders[1].text = f"@@{n}@@"
            slide.notes_slide.notes_text_frame.text = f"@@{n + 12}@@"
        self.pptx = _saved(deck)

    @staticmethod
    def fill(template: bytes, texts: list[str]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(template)) as source, \
                zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for info in source.infolist():
                data = source.read(info)
                if b"@@" in data:
                    data = _MARK.sub(lambda m: escape(texts[int(m.group(1)) % len(texts)]), data.decode()).encode()
                target.writestr(info.filename, data)
        return out.getvalue()


def _saved(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pdf(pages: list[str]) -> bytes | None:
    try:
        from reportlab.pdfgen import canvas
    except ImportError:
        return None
    out = io.BytesIO()
    c = canvas.Canvas(out)
    for page in pages:
        text = c.beginText(50, 800)
        text.setFont("Helvetica", 9)
        words = page.split()
        for start in range(0, len(words), 16):
            text.textLine(" ".join(words[start:start + 16]))
        c.drawText(text)
        c.showPage()
    c.save()
    return out.getvalue()


def _scan(lines: list[str]) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (1240, 200 + 90 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for i, line in enumerate(lines):
        draw.text((60, 80 + 90 * i), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _email(subject: str, body: str, attachments: list[tuple[str, str, bytes]]) -> bytes:
    message = EmailMessage()
    message["From"] = "Ann Lee <ann@heron.example>"
    message["To"] = "Bo Chen <bo@buyer.example>"
    message["Date"] = "Tue, 04 Mar 2025 09:15:00 +0100"
    message["Subject"] = subject
    message.set_content(body)
    for name, mime, data in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def write_dataroom(path: Path, total_bytes: int, maker: Any) -> dict[str, int]:
    """A ZIP whose members add up to about ``total_bytes`` (uncompressed); returns counts by kind."""
    counts: dict[str, int] = {}
    written = 0
    i = 0
    next_scan = 0  # one scan per 200 MB of members (OCR takes seconds a page)
    office = _OfficeTemplates()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as room:
        def add(name: str, data: bytes | None, kind: str) -> None:
            nonlocal written
            if data is None:
                return
            room.writestr(name, data)
            written += len(data)
            counts[kind] = counts.get(kind, 0) + 1

        while written < total_bytes:
            deal = f"{i % 7:02d} Deal {i % 7}"
            add(f"{deal}/Minutes/minutes-{i:04d}.txt", maker.text(2_000_000).encode(), "txt")
            add(f"{deal}/Finance/ledger-{i:04d}.csv", ("id,party,amount,note\n" + "".join(
                f'{n},Party {n % 97},{n * 37 % 10000},"{line}"\n'
                for n, line in enumerate(maker.text(1_200_000).splitlines()))).encode(), "csv")
            add(f"{deal}/Finance/ledger-{i:04d}.xlsx", office.fill(office.xlsx, [maker.text(40).strip() for _ in range(1000)]), "xlsx")
            add(f"{deal}/Contracts/contract-{i:04d}.docx", office.fill(office.docx, [maker.text(10_000) for _ in range(30)]), "docx")
            add(f"{deal}/Contracts/contract-{i:04d}.pdf", _pdf([maker.text(3000) for _ in range(20)]), "pdf")
            add(f"{deal}/Management/deck-{i:04d}.pptx", office.fill(office.pptx, [maker.text(600) for _ in range(24)]), "pptx")
            add(f"{deal}/Reports/report-{i:04d}.html", ("<html><body>" + "".join(
                f"<p>{line}</p>" for line in maker.text(500_000).splitlines()) + "</body></html>").encode(), "html")
            attachments = [(f"schedule-{i}.docx", "application/vnd.openxmlformats-officedocument."
                            "wordprocessingml.document", office.fill(office.docx, [maker.text(3_000) for _ in range(30)])),
                           (f"notes-{i}.txt", "text/plain", maker.text(200_000).encode())]
            add(f"{deal}/Mail/thread-{i:04d}.eml", _email(f"Deal {i % 7} update {i}", maker.text(20_000),
                                                          attachments), "eml")
            if i % 5 == 0:
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as nested:
                    nested.writestr("side-letters/letter.txt", maker.text(200_000))
                add(f"{deal}/Archive/older-{i:04d}.zip", inner.getvalue(), "nested zip")
            if written >= next_scan:
                next_scan += 200 * 2**20
                add(f"{deal}/Scans/scan-{i:04d}.png", _scan([f"Certificate {i}", "Registered office Oslo",
                                                             "Share capital NOK 1 000 000"]), "png")
            i += 1
    return counts


def _child(db: Path, archive: Path, kill_after: int | None = None, ocr: bool = True) -> dict[str, Any] | None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(archive), "ocr" if ocr else "no-ocr"],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    done = 0
    result = None
    for line in proc.stdout:
        if line.startswith("member"):
            done += 1
            if kill_after is not None and done >= kill_after:
                proc.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
                break
        elif line.startswith("result "):
            result = json.loads(line[len("result "):])
    proc.wait()
    if kill_after is None and (proc.returncode != 0 or result is None):
        raise RuntimeError(f"the ingest child failed (exit {proc.returncode})")
    return result if kill_after is None else {"killed_after": done}


def _consistency(db_path: Path) -> dict[str, int]:
    """Half-stored leftovers: stored documents whose pages do not add up, orphan pages; FTS checked."""
    from rlm_desktop.library import IngestLimits, Library

    with Library.open(db_path) as lib:
        bad = lib.db.execute(
            "SELECT count(*) FROM documents d WHERE d.status = 'stored' AND (d.pages = 0 OR d.pages != "
            "(SELECT count(*) FROM pages p WHERE p.doc_id = d.id) OR d.chars != "
            "(SELECT coalesce(sum(length(p.text)), 0) FROM pages p WHERE p.doc_id = d.id))").fetchone()[0]
        orphans = lib.db.execute("SELECT count(*) FROM pages WHERE doc_id NOT IN (SELECT id FROM documents)"
                                 ).fetchone()[0]
        lib.db.execute("INSERT INTO pages_fts(pages_fts, rank) VALUES ('integrity-check', 1)")
        stored = lib.db.execute("SELECT count(*) FROM documents WHERE status = 'stored'").fetchone()[0]
    return {"half_stored": bad, "orphan_pages": orphans, "stored": stored}


def run_dataroom_bench(root: Path, megabytes: float, maker: Any, echo: Callable[[str], None]) -> dict[str, float]:
    """Generate the room, ingest it once (MB/s, peak RSS), then kill an ingest halfway and resume it."""
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "dataroom.zip"
    start = time.perf_counter()
    counts = write_dataroom(archive, int(megabytes * 2**20), maker)
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
    content = sum(m.file_size for m in members)
    echo(f"Data-room ZIP: {len(members)} files, {content / 2**20:.0f} MB of members, "
         f"{archive.stat().st_size / 2**20:.0f} MB zipped ({', '.join(f'{n} {k}' for k, n in counts.items())}); "
         f"generated in {time.perf_counter() - start:.0f} s")

    full = _child(root / "room.db", archive)
    assert full is not None
    figures = {"room_mb": content / 2**20, "room_zip_mb": archive.stat().st_size / 2**20,
               "room_seconds": full["seconds"], "room_mb_s": content / 2**20 / full["seconds"],
               "room_mb_per_cpu_s": content / 2**20 / (full["cpu"] + full["ocr_cpu"]),
               "room_peak_rss_mb": full["peak_rss"] / 2**20, "room_ocr_workers": full["ocr_workers"]}
    if full["ocr_peak_rss"] is not None and full["ocr_workers"]:
        figures["room_ocr_worker_peak_rss_mb"] = full["ocr_peak_rss"] / 2**20
    ocr_note = (f"OCR of {counts.get('png', 0)} scans in {full['ocr_workers']} worker process"
                f"{'es' if full['ocr_workers'] != 1 else ''}, "
                + (f"their peak RSS {figures['room_ocr_worker_peak_rss_mb']:.0f} MB, apart"
                   if "room_ocr_worker_peak_rss_mb" in figures else "their peak RSS not measured here")
                + ("; WARNING: the OCR engine was loaded in the ingest process" if full["engine_in_app"] else ""))
    echo(f"Ingest, data-room ZIP: {content / 2**20:.0f} MB in {full['seconds']:.1f} s = "
         f"{figures['room_mb_s']:.1f} MB/s of members ({archive.stat().st_size / 2**20 / full['seconds']:.1f} MB/s "
         f"of ZIP; {figures['room_mb_per_cpu_s']:.1f} MB per CPU-second, OCR workers' CPU included); "
         f"peak RSS of the ingest process {figures['room_peak_rss_mb']:.0f} MB ({ocr_note}); results {full['counts']}")
    if full["failed"]:
        echo(f"  failed members (first 5): {full['failed']}")

    resume_db = root / "resume.db"
    total_members = sum(full["counts"].values()) - 1  # every result but the archive's own
    # Without OCR here: the scans would only add time to what measures the archive pipeline.
    killed = _child(resume_db, archive, kill_after=max(1, total_members // 2), ocr=False)
    before = _consistency(resume_db)
    again = _child(resume_db, archive, ocr=False)
    assert again is not None and killed is not None
    after = _consistency(resume_db)
    figures.update(resume_unchanged=again["counts"].get("unchanged", 0), resume_stored=again["counts"].get("stored", 0),
                   resume_seconds=again["seconds"], resume_half_stored=before["half_stored"] + before["orphan_pages"])
    echo(f"SIGKILL after {killed['killed_after']} of {total_members} member results: {before['stored']} documents "
         f"committed, {before['half_stored']} half-stored, {before['orphan_pages']} orphan pages (FTS index intact). "
         f"Resume: {figures['resume_unchanged']} unchanged (not read again), {figures['resume_stored']} stored, "
         f"{again['seconds']:.1f} s; then {after['stored']} documents, {after['half_stored']} half-stored "
         f"(the full ingest stored {_consistency(root / 'room.db')['stored']}; these runs had OCR off, so "
         f"{counts.get('png', 0)} scans failed); peak RSS without OCR {again['peak_rss'] / 2**20:.0f} MB")
    figures["resume_peak_rss_mb"] = again["peak_rss"] / 2**20
    return figures

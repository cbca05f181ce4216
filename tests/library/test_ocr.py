"""OCR in its own worker process: same text, the app never loads the engine, a crash or a hang
fails only that file (naming it and the cause), the next page gets a fresh worker, and the worker
ends with the batch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

import pytest

from rlm_desktop.errors import OCRError, OCRUnavailable
from rlm_desktop.library import Library
from rlm_desktop.library.extract import extract_file
from rlm_desktop.library.ocr import PAGE_TIMEOUT_S, OCRWorkerClient, ocr_available, ocr_engine
from rlm_desktop.library.pages import NO_TEXT_FLAG

from .conftest import make_scanned_pdf
from .dataroom_files import make_png, text_image

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="OCR (rapidocr-onnxruntime) is not installed")
posix_signals = pytest.mark.skipif(sys.platform == "win32", reason="kills and freezes the worker with POSIX signals")

INGEST_AND_REPORT = r"""
import json, sys
from pathlib import Path
from rlm_desktop.library import Library
from rlm_desktop.library.ocr import ocr_engine

with Library.open(Path(sys.argv[1])) as lib:
    report = lib.ingest([Path(p) for p in sys.argv[2:]])
    texts = [lib.load_context(doc_ids=[r.doc_id])[0].text if r.doc_id else r.reason for r in report.files]
    results = [(r.status, r.ocr_pages) for r in report.files]
print(json.dumps({"texts": texts, "results": results, "worker_pid_after": ocr_engine().worker_pid,
                  "workers_started": ocr_engine().workers_started,
                  "engine_modules": sorted(m for m in sys.modules
                                           if m.split(".")[0] in ("rapidocr_onnxruntime", "onnxruntime", "cv2"))}))
"""


def _when_busy(client: OCRWorkerClient, act: Callable[[int], None]) -> threading.Thread:
    """Once, as soon as the worker is reading a page, ``act(pid)``."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            pid = client.busy_pid
            if pid is not None:
                act(pid)
                return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    thread.done = done  # type: ignore[attr-defined]
    return thread


@pytest.mark.slow
@needs_ocr
def test_ocr_runs_in_a_worker_the_app_never_loads_the_engine(tmp_path: Path):
    png = make_png(tmp_path / "scan.png", ["LEASE TERMINATES 2031"])
    pdf = make_scanned_pdf(tmp_path / "scan.pdf", ["Governing law: Delaware", "Invoice total 4471"])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", INGEST_AND_REPORT, str(tmp_path / "lib.db"), str(png), str(pdf)],
                         capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["results"] == [["stored", 1], ["stored", 1]]
    assert "LEASE" in out["texts"][0].upper() and "TERMINATES" in out["texts"][0].upper()
    assert "Governing law: Delaware" in out["texts"][1] and "4471" in out["texts"][1]
    assert out["engine_modules"] == []       # rapidocr, onnxruntime and OpenCV stayed in the worker
    assert out["workers_started"] == 1       # one worker for the batch's two scans
    assert out["worker_pid_after"] is None   # ended with the batch: its memory is returned


@pytest.mark.slow
@needs_ocr
def test_worker_reads_the_same_text_as_the_engine_in_this_process():
    import numpy as np

    from rlm_desktop.library.ocr_worker import load_engine, reading_order

    image = text_image(["Governing law: Delaware", "Invoice total 4471"])
    client = OCRWorkerClient()
    try:
        through_worker = client(image)
    finally:
        client.close()
    result, _elapsed = load_engine()(np.asarray(image.convert("RGB")))
    assert through_worker == reading_order(result)
    assert "Delaware" in through_worker and "4471" in through_worker


@pytest.mark.slow
@needs_ocr
@posix_signals
def test_killed_worker_fails_that_file_with_the_cause_and_the_next_file_gets_a_fresh_worker(tmp_path: Path):
    first = make_png(tmp_path / "first.png", ["FIRST SCAN 111"])
    second = make_png(tmp_path / "second.png", ["SECOND SCAN 222"])
    client = ocr_engine()
    assert isinstance(client, OCRWorkerClient)
    started = client.workers_started
    killer = _when_busy(client, lambda pid: os.kill(pid, signal.SIGKILL))
    with Library.open(tmp_path / "lib.db") as lib:
        report = lib.ingest([first, second])
        killer.done.set()  # type: ignore[attr-defined]
        failed, stored = report.files
        assert failed.status == "failed"
        assert failed.reason == ("first.png: OCR failed on page 1 (the OCR worker was killed "
                                 "(SIGKILL; out of memory?) while reading the page)")
        assert stored.status == "stored" and stored.ocr_pages == 1
        assert "222" in lib.load_context(doc_ids=[stored.doc_id])[0].text
    assert client.workers_started == started + 2
    assert client.worker_pid is None  # ended with the batch


@pytest.mark.slow
@needs_ocr
@posix_signals
def test_hung_worker_is_stopped_after_the_page_timeout_and_the_next_page_works():
    client = OCRWorkerClient(page_timeout_s=3)
    image = text_image(["HUNG PAGE 333"])
    try:
        freezer = _when_busy(client, lambda pid: os.kill(pid, signal.SIGSTOP))
        with pytest.raises(OCRError, match=r"did not finish the page within 3 s and was stopped"):
            client(image)
        freezer.done.set()  # type: ignore[attr-defined]
        assert client.worker_pid is None
        client.page_timeout_s = PAGE_TIMEOUT_S
        assert "333" in client(image)
        assert client.workers_started == 2
    finally:
        client.close()


@pytest.mark.slow
def test_engine_that_cannot_load_flags_pages_ocr_not_available(tmp_path: Path, monkeypatch):
    broken = tmp_path / "site"
    (broken / "rapidocr_onnxruntime").mkdir(parents=True)
    (broken / "rapidocr_onnxruntime" / "__init__.py").write_text(
        "raise ImportError('libonnxruntime.so: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(broken))  # the spawned worker gets the same sys.path
    client = OCRWorkerClient()
    try:
        with pytest.raises(OCRUnavailable, match="libonnxruntime.so"):
            client(text_image(["ANY"]))
        pdf = make_scanned_pdf(tmp_path / "scan.pdf", ["Governing law: Delaware"])
        page = extract_file(pdf, ocr=lambda: client).pages[0]
        assert page.source == "none" and page.flag == f"{NO_TEXT_FLAG}; OCR is not available"
        assert client.workers_started == 1  # it is not retried for every page
        assert client.worker_pid is None
    finally:
        client.close()


@pytest.mark.slow
@needs_ocr
def test_idle_worker_ends_and_its_process_is_gone():
    import psutil

    client = OCRWorkerClient(idle_timeout_s=1)
    try:
        assert "444" in client(text_image(["IDLE PAGE 444"]))
        pid = client.worker_pid
        assert pid is not None
        ended = threading.Event()
        for _ in range(600):  # the idle timer ends it after 1 s without a page; allow a slow machine
            if client.worker_pid is None and not psutil.pid_exists(pid):
                ended.set()
                break
            ended.wait(0.1)
        assert ended.is_set()
        assert "444" in client(text_image(["IDLE PAGE 444"]))  # a later page starts a fresh worker
        assert client.workers_started == 2
    finally:
        client.close()

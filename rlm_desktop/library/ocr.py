"""Offline OCR for scanned pages (PDF pages without a text layer, images), in a worker process.

The engine (rapidocr-onnxruntime, whose ONNX models ship inside its wheel: nothing is fetched at
run time) runs in a short-lived child process (ocr_worker.py), never in the app's own: its text
detector peaks at several hundred MB on a page and would keep that memory for the life of the
app. The worker is started on the first page that needs OCR, kept for the pages of the ingest
batch (loading the models takes seconds), and ended when the batch ends or after
:data:`IDLE_TIMEOUT_S` without a page, so its memory goes back to the operating system.

A worker that crashes, is killed (out of memory) or hangs past :data:`PAGE_TIMEOUT_S` on a page
raises :class:`~rlm_desktop.errors.OCRError` for that page; the next page gets a fresh worker.
Where rapidocr is not installed (or cannot load), :func:`ocr_engine` returns None and such
pages are flagged "no text (scanned?)" instead.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from rlm_desktop.child_process import spawn_worker, stop_worker
from rlm_desktop.errors import OCRError, OCRUnavailable
from rlm_desktop.library.ocr_worker import ocr_worker_main

OCR_SCALE = 2.0
"""Render scale for OCR (PDF points * 2 = 144 dpi): legible for the detector; 2.5 was ~1.6x slower."""
PAGE_TIMEOUT_S = 300.0
"""A page the worker has not read in this time ends it (a page takes seconds, even on a busy machine)."""
START_TIMEOUT_S = 180.0
"""Starting the worker and loading the models; more than this and OCR fails for the page."""
IDLE_TIMEOUT_S = 60.0
"""A worker left without a page this long is ended, its memory returned (also between the scans of a batch)."""
_POLL_S = 0.1


class PageOCR(Protocol):
    def __call__(self, image: Any) -> str: ...


def ocr_available() -> bool:
    """Whether the OCR engine is installed (checked without importing it)."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


class OCRWorkerClient:
    """Text of a PIL image, lines in reading order, read by the OCR worker process.

    Thread-safe (one page at a time). ``batch()`` keeps the worker for a run of pages and ends it
    after the last holder leaves; ``close()`` ends it now.
    """

    def __init__(self, *, page_timeout_s: float = PAGE_TIMEOUT_S, start_timeout_s: float = START_TIMEOUT_S,
                 idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        self.page_timeout_s = page_timeout_s
        self.start_timeout_s = start_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.unavailable: str | None = None   # why the engine cannot load here, once a worker said so
        self.workers_started = 0
        self.busy_pid: int | None = None      # the worker's pid while it reads a page
        self._lock = threading.Lock()         # one page (or start, or stop) at a time
        self._holders_lock = threading.Lock()
        self._holders = 0
        self._process: Any = None
        self._conn: Any = None
        self._last_used = 0.0
        self._idle_timer: threading.Timer | None = None

    # --- pages ------------------------------------------------------------------------
    def __call__(self, image: Any) -> str:
        picture = image if image.mode == "RGB" else image.convert("RGB")
        width, height = picture.size
        pixels = picture.tobytes()
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            try:
                return self._read(width, height, pixels)
            finally:
                self._last_used = time.monotonic()
                if self._process is not None:
                    self._arm_idle_timer()

    def _read(self, width: int, height: int, pixels: bytes) -> str:
        if self.unavailable is not None:
            raise OCRUnavailable(f"OCR is not available ({self.unavailable})")
        if self._process is None or not self._process.is_alive():
            self._start()
        try:
            self._conn.send_bytes(json.dumps({"type": "page", "width": width, "height": height}).encode())
            self._conn.send_bytes(pixels)
        except (OSError, ValueError):  # broken pipe: the worker ended before it took the page
            raise OCRError(self._lost("before it took the page")) from None
        self.busy_pid = self._process.pid
        try:
            reply = self._reply(self.page_timeout_s, "while reading the page")
        finally:
            self.busy_pid = None
        if reply is None:
            self._stop()
            raise OCRError(f"the OCR worker did not finish the page within {self.page_timeout_s:.0f} s "
                           f"and was stopped")
        if reply.get("type") == "error":
            raise OCRError(f"the OCR engine could not read the page ({reply.get('error')})")
        return str(reply.get("text", ""))

    def _reply(self, timeout_s: float, during: str) -> dict[str, Any] | None:
        """The worker's next message; None after ``timeout_s``; OCRError when the worker ends first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self._conn.poll(_POLL_S):
                    return json.loads(self._conn.recv_bytes())
            except (EOFError, OSError):
                raise OCRError(self._lost(during)) from None
            if not self._process.is_alive() and not self._conn.poll(0):
                raise OCRError(self._lost(during))
        return None

    def _lost(self, during: str) -> str:
        """Stop what is left of a worker that ended on its own; say how it ended."""
        code = self._stop()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = "; out of memory?" if name == "SIGKILL" else ""
            return f"the OCR worker was killed ({name}{hint}) {during}"
        return f"the OCR worker ended unexpectedly (exit code {code}) {during}"

    # --- the worker process -------------------------------------------------------------
    def _start(self) -> None:
        self._stop()
        self._process, self._conn = spawn_worker(ocr_worker_main, (), "rlm-ocr")
        self.workers_started += 1
        ready = self._reply(self.start_timeout_s, "while starting")
        if ready is None:
            self._stop()
            raise OCRError(f"the OCR worker did not start within {self.start_timeout_s:.0f} s")
        if ready.get("type") == "unavailable":
            self._stop()
            self.unavailable = str(ready.get("error"))
            raise OCRUnavailable(f"OCR is not available ({self.unavailable})")

    @property
    def worker_pid(self) -> int | None:
        """Process id of the running worker (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def _stop(self) -> int | None:
        """End the worker (asked first, killed if need be), release the pipe; return its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        return stop_worker(process, conn, goodbye=b'{"type": "close"}', grace_s=2.0)

    def _arm_idle_timer(self) -> None:
        timer = threading.Timer(self.idle_timeout_s, self._end_if_idle)
        timer.daemon = True
        self._idle_timer = timer
        timer.start()

    def _end_if_idle(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a page is being read; its call arms a new timer
        try:
            if self._process is not None and time.monotonic() - self._last_used >= self.idle_timeout_s - _POLL_S:
                self._stop()
        finally:
            self._lock.release()

    # --- lifetime ---------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator["OCRWorkerClient"]:
        """Keep the worker (once started) for the pages of a batch; end it when the last batch ends."""
        with self._holders_lock:
            self._holders += 1
        try:
            yield self
        finally:
            with self._holders_lock:
                self._holders -= 1
                last = self._holders == 0
            if last:
                with self._lock:
                    if self._holders == 0:
                        self._stop()

    def close(self) -> None:
        """End the worker now (a later page starts a fresh one)."""
        with self._lock:
            self._stop()


_client: OCRWorkerClient | None = None
_client_lock = threading.Lock()


def ocr_engine() -> PageOCR | None:
    """The process-wide OCR client (its worker starts on the first page); None where OCR is unavailable."""
    global _client
    with _client_lock:
        if _client is None and ocr_available():
            _client = OCRWorkerClient()
        if _client is None or _client.unavailable is not None:
            return None
        return _client


@contextmanager
def ocr_batch() -> Iterator[None]:
    """Around an ingest batch: its pages share one OCR worker, which ends with the batch."""
    client = ocr_engine()
    if not isinstance(client, OCRWorkerClient):
        yield
        return
    with client.batch():
        yield

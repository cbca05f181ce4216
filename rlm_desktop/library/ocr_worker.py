"""The OCR worker: a short-lived child process that holds the OCR engine and reads page images.

Started by :class:`rlm_desktop.library.ocr.OCRWorkerClient` (a multiprocessing *spawn* child, as the
sandbox worker is), so rapidocr, onnxruntime and OpenCV are imported here and never in the app's own
process, and their memory (the text detector peaks at several hundred MB on a page) goes back to
the operating system when the worker ends.

Protocol, JSON headers and raw bytes only: the worker first sends ``{"type": "ready"}`` (or
``{"type": "unavailable", "error": ...}`` when the engine cannot load). Then, per page, the client
sends ``{"type": "page", "width": w, "height": h}`` followed by the page's RGB pixels (w * h * 3
bytes, rows top to bottom) and gets back ``{"type": "text", "text": ...}`` or
``{"type": "error", "error": ...}``; ``{"type": "close"}`` (or the pipe closing) ends the worker.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any


def _send(conn: Any, message: dict[str, Any]) -> None:
    conn.send_bytes(json.dumps(message).encode("utf-8"))


def load_engine() -> Any:
    """rapidocr's engine; its models ship inside its wheel, nothing is fetched."""
    # opencv-python (pulled in by rapidocr) points QT_QPA_* at its own bundled Qt 5 plugins when
    # imported. This process never shows Qt, but keep the environment as it was all the same.
    saved = {k: v for k, v in os.environ.items() if k.startswith("QT_QPA_")}
    try:
        from rapidocr_onnxruntime import RapidOCR
    finally:
        for key in [k for k in os.environ if k.startswith("QT_QPA_")]:
            if key not in saved:
                del os.environ[key]
        os.environ.update(saved)
    return RapidOCR()


def reading_order(result: Any) -> str:
    """rapidocr's boxes as lines in reading order (top to bottom, left to right)."""
    if not result:
        return ""
    boxes = []
    for box, text, _score in result:
        top = min(point[1] for point in box)
        left = min(point[0] for point in box)
        height = max(point[1] for point in box) - top
        boxes.append((top, left, height, text))
    boxes.sort()
    lines: list[list[tuple[float, str]]] = []
    line_top = None
    for top, left, height, text in boxes:
        if line_top is None or top - line_top > max(height, 1.0) * 0.6:
            lines.append([])
            line_top = top
        lines[-1].append((left, text))
    return "\n".join(" ".join(t for _, t in sorted(line)) for line in lines)


def ocr_worker_main(conn: Any) -> None:
    """Entry point of the worker process (multiprocessing spawn target)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is the app's to handle
    try:
        _serve(conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the app went away or closed the pipe: nothing left to do


def _serve(conn: Any) -> None:
    try:
        engine = load_engine()
    except Exception as exc:  # ImportError, missing native libs, a broken model file
        _send(conn, {"type": "unavailable", "error": f"{type(exc).__name__}: {exc}"})
        return
    import numpy as np

    _send(conn, {"type": "ready", "pid": os.getpid()})
    while True:
        request = json.loads(conn.recv_bytes())
        if request.get("type") != "page":
            return
        width, height = int(request["width"]), int(request["height"])
        pixels = conn.recv_bytes()
        try:
            image = np.frombuffer(pixels, dtype=np.uint8).reshape(height, width, 3)
            result, _elapsed = engine(image)
            reply = {"type": "text", "text": reading_order(result)}
        except Exception as exc:  # a page the engine cannot read; the worker stays usable
            reply = {"type": "error", "error": f"{type(exc).__name__}: {exc}"}
        del pixels
        _send(conn, reply)

"""Offline OCR for PDF pages without a text layer.

Uses rapidocr-onnxruntime, whose ONNX models ship inside its wheel: nothing is
fetched at run time. Where it is not installed, :func:`ocr_engine` returns None and
such pages are flagged "no text (scanned?)" instead.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Protocol

log = logging.getLogger(__name__)

OCR_SCALE = 2.0
"""Render scale for OCR (PDF points * 2 = 144 dpi): legible for the detector; 2.5 was ~1.6x slower."""


class PageOCR(Protocol):
    def __call__(self, image: Any) -> str: ...


class RapidPageOCR:
    """Text of a PIL image, lines in reading order (top to bottom, left to right)."""

    def __init__(self) -> None:
        # opencv-python (pulled in by rapidocr) points QT_QPA_* at its own bundled Qt 5 plugins
        # when imported; inside the desktop app that would break Qt 6. Keep the environment as it was.
        saved = {k: v for k, v in os.environ.items() if k.startswith("QT_QPA_")}
        try:
            from rapidocr_onnxruntime import RapidOCR  # heavy import, only when a page needs it
        finally:
            for key in [k for k in os.environ if k.startswith("QT_QPA_")]:
                if key not in saved:
                    del os.environ[key]
            os.environ.update(saved)

        self._engine = RapidOCR()
        self._lock = threading.Lock()  # one onnxruntime session, not re-entrant

    def __call__(self, image: Any) -> str:
        import numpy as np

        with self._lock:
            result, _elapsed = self._engine(np.asarray(image.convert("RGB")))
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


_engine: RapidPageOCR | None = None
_engine_failed = False
_engine_lock = threading.Lock()


def ocr_engine() -> PageOCR | None:
    """The process-wide OCR engine, loaded on first use; None where OCR is unavailable."""
    global _engine, _engine_failed
    with _engine_lock:
        if _engine is None and not _engine_failed:
            try:
                _engine = RapidPageOCR()
            except Exception as exc:  # ImportError, missing native libs, broken model file
                log.warning("OCR unavailable: %s", exc)
                _engine_failed = True
        return _engine

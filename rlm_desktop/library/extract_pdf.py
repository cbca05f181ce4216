"""PDF text per page with pypdfium2; OCR for pages that have no text layer."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any, Callable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from rlm_desktop.errors import ExtractionError, OCRError, OCRUnavailable
from rlm_desktop.library.ocr import OCR_SCALE, PageOCR
from rlm_desktop.library.pages import NO_TEXT_FLAG, Extracted, ExtractedPage, HiddenText, with_page_breaks

MIN_TEXT_CHARS = 3
"""A page with fewer visible characters than this is treated as having no text layer."""
TINY_POINTS = 2.0
"""Text set smaller than this is not read by a person (it still is by a text extractor)."""


def _check_structure(path: Path) -> None:
    with path.open("rb") as f:
        head = f.read(1024)
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - 2048))
        tail = f.read()
    if b"%PDF-" not in head:
        raise ExtractionError(f"{path.name}: not a PDF file (no %PDF header)")
    if b"%%EOF" not in tail:
        raise ExtractionError(f"{path.name}: truncated or damaged PDF (no end-of-file marker)")


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise ExtractionError(f"{path.name}: encrypted PDF (a password is needed to open it)") from exc
        raise ExtractionError(f"{path.name}: damaged PDF ({message})") from exc


def _page_text(page: Any, number: int = 0, hidden: list[HiddenText] | None = None) -> str:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        if hidden is not None:
            hidden.extend(_hidden_text(page, textpage, number))
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _hidden_text(page: Any, textpage: Any, number: int) -> list[HiddenText]:
    """Text objects a reader does not see: white, tiny, or drawn invisible (on a white page, as most are)."""
    found: list[HiddenText] = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT], max_depth=2):
        why = _unseen(obj.raw)
        if why is None:
            continue
        length = pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
        if length <= 2:
            continue
        buffer = ctypes.create_string_buffer(length)
        pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)),
                                     length)
        text = buffer.raw.decode("utf-16-le", errors="replace").replace("\x00", "").strip()
        if len("".join(text.split())) >= MIN_TEXT_CHARS:
            if found and found[-1].why == why:
                found[-1] = HiddenText(f"{found[-1].text} {text}", why, number)
            else:
                found.append(HiddenText(text, why, number))
    return found


def _unseen(obj: Any) -> str | None:
    """Why a text object is not seen, or None."""
    if pdfium_c.FPDFTextObj_GetTextRenderMode(obj) == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
        return "invisible text in the PDF"
    r, g, b, a = (ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint())
    if pdfium_c.FPDFPageObj_GetFillColor(obj, r, g, b, a) and a.value > 0 and min(r.value, g.value, b.value) >= 245:
        return "white text in the PDF"
    size, matrix = ctypes.c_float(), pdfium_c.FS_MATRIX()
    if pdfium_c.FPDFTextObj_GetFontSize(obj, size) and pdfium_c.FPDFPageObj_GetMatrix(obj, matrix):
        scale = max(abs(matrix.a * matrix.d - matrix.b * matrix.c), 0.0) ** 0.5
        if 0 < size.value * scale < TINY_POINTS:
            return "tiny text in the PDF"
    return None


def _ocr_page(page: Any, ocr: PageOCR) -> str:
    bitmap = page.render(scale=OCR_SCALE)
    try:
        return ocr(bitmap.to_pil()).strip()
    finally:
        bitmap.close()


def extract_pdf(path: Path, *, ocr: Callable[[], PageOCR | None] = lambda: None,
                cancelled: Callable[[], bool] = lambda: False) -> Extracted:
    """Every page's text; pages without text are OCR'd, or flagged when OCR finds nothing.

    ``ocr`` gives the OCR engine (None where unavailable); it is asked only when a page needs it.
    """
    _check_structure(path)
    pdf = _open(path)
    pages: list[ExtractedPage] = []
    hidden: list[HiddenText] = []
    try:
        count = len(pdf)
        if count == 0:
            raise ExtractionError(f"{path.name}: the PDF has no pages")
        for index in range(count):
            if cancelled():
                raise ExtractionError(f"{path.name}: cancelled")
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                raise ExtractionError(f"{path.name}: page {index + 1} cannot be read ({exc})") from exc
            try:
                text = _page_text(page, index + 1, hidden)
                if len("".join(text.split())) >= MIN_TEXT_CHARS:
                    pages.append(ExtractedPage(text))
                    continue
                engine = ocr()
                try:
                    found = _ocr_page(page, engine) if engine is not None else ""
                except OCRUnavailable:
                    engine, found = None, ""
                except OCRError as exc:
                    raise ExtractionError(f"{path.name}: OCR failed on page {index + 1} ({exc})") from exc
                if found:
                    pages.append(ExtractedPage(found, source="ocr"))
                else:
                    reason = NO_TEXT_FLAG if engine is not None else f"{NO_TEXT_FLAG}; OCR is not available"
                    pages.append(ExtractedPage(f"[page {index + 1}: {reason}]", source="none", flag=reason))
            finally:
                page.close()
    finally:
        pdf.close()
    return Extracted(format="pdf", unit="page", pages=with_page_breaks(pages), hidden=hidden)

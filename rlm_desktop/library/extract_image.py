"""Scanned pages as images (.png, .jpg, .tif with its pages): Pillow to read, the library's OCR for text.

Each image (each TIFF page) becomes a page whose text is what OCR found; a small picture of it
is kept for the viewer. Pages where OCR finds nothing are flagged; an image where OCR finds
nothing on any page, or one too small to hold text, raises NoTextFound: skipped, not failed.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

from rlm_desktop.errors import ExtractionError, NoTextFound, OCRError, OCRUnavailable
from rlm_desktop.library.ocr import PageOCR
from rlm_desktop.library.pages import NO_TEXT_FLAG, Extracted, ExtractedPage, with_page_breaks

PREVIEW_PIXELS = 1400
"""Longest side of the picture kept for the viewer."""
OCR_MAX_PIXELS = 3000
"""Longer sides are scaled down before OCR (the detector gains nothing past this, and time grows)."""
MAX_PAGES = 500
MIN_TEXT_PIXELS = 48
"""An image whose shorter side is below this cannot hold a line of readable text (icons, bullets)."""


def _preview(image: Any) -> bytes:
    from PIL import Image

    picture = image.convert("RGB")
    picture.thumbnail((PREVIEW_PIXELS, PREVIEW_PIXELS), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _for_ocr(image: Any) -> Any:
    from PIL import Image

    picture = image.convert("RGB")
    if max(picture.size) > OCR_MAX_PIXELS:
        picture.thumbnail((OCR_MAX_PIXELS, OCR_MAX_PIXELS), Image.Resampling.LANCZOS)
    return picture


def extract_image(path: Path, *, ocr: Callable[[], PageOCR | None] = lambda: None,
                  cancelled: Callable[[], bool] = lambda: False) -> Extracted:
    """OCR text of every frame of the image; raises ExtractionError when none has any text."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(path)
    except UnidentifiedImageError as exc:
        raise ExtractionError(f"{path.name}: not a readable image (damaged, or not the format its name says)") from exc
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"{path.name}: refused, the image is too large to decode ({exc})") from exc
    if min(image.size) < MIN_TEXT_PIXELS:
        width, height = image.size
        image.close()
        raise NoTextFound(f"{path.name}: no text, the image is too small to hold any ({width}x{height} pixels)")
    engine = ocr()
    pages: list[ExtractedPage] = []
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index >= MAX_PAGES:
                break
            if cancelled():
                raise ExtractionError(f"{path.name}: cancelled")
            frame.load()
            try:
                text = engine(_for_ocr(frame)).strip() if engine is not None else ""
            except OCRUnavailable:
                engine, text = None, ""
            except OCRError as exc:
                raise ExtractionError(f"{path.name}: OCR failed on page {index + 1} ({exc})") from exc
            preview = _preview(frame)
            if text:
                pages.append(ExtractedPage(text, source="ocr", image=preview))
            else:
                reason = NO_TEXT_FLAG if engine is not None else f"{NO_TEXT_FLAG}; OCR is not available"
                pages.append(ExtractedPage(f"[image page {index + 1}: {reason}]", source="none", flag=reason,
                                           image=preview))
    except ExtractionError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged image data
        raise ExtractionError(f"{path.name}: damaged image ({exc})") from exc
    except Image.DecompressionBombError as exc:
        raise ExtractionError(f"{path.name}: refused, the image is too large to decode ({exc})") from exc
    finally:
        image.close()
    if not pages:
        raise ExtractionError(f"{path.name}: the image has no pages")
    if all(page.source == "none" for page in pages):
        why = "OCR is not available" if engine is None else "OCR found no text in it"
        raise NoTextFound(f"{path.name}: no text in the image ({why})")
    return Extracted(format="image", unit="page", pages=with_page_breaks(pages))

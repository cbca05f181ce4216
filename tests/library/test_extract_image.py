"""Scanned pages as images: OCR text per page (TIFF pages too), the picture kept for the viewer."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library import Library
from rlm_desktop.library.extract import extract_file
from rlm_desktop.library.ocr import ocr_available, ocr_engine

from .dataroom_files import make_blank_jpg, make_png, make_tiff

needs_ocr = pytest.mark.skipif(not ocr_available(), reason="OCR (rapidocr-onnxruntime) is not installed")


@pytest.mark.slow
@needs_ocr
def test_png_text_by_ocr_and_picture_kept(library: Library, tmp_path: Path):
    png = make_png(tmp_path / "scan.png", ["LEASE TERMINATES 2031"])
    report = library.ingest([png])
    result = report.files[0]
    assert result.status == "stored" and result.ocr_pages == 1
    text = library.load_context(doc_ids=[result.doc_id])[0].text
    assert "TERMINATES" in text.upper() and "LEASE" in text.upper()
    picture = library.page_images(result.doc_id)[1]
    assert picture[:2] == b"\xff\xd8"  # a JPEG for the viewer


@pytest.mark.slow
@needs_ocr
def test_multi_page_tiff_is_one_page_per_frame(tmp_path: Path):
    extracted = extract_file(make_tiff(tmp_path / "scan.tif", [["FIRST PAGE 111"], ["SECOND PAGE 222"]]),
                             ocr=ocr_engine)
    assert extracted.unit == "page" and len(extracted.pages) == 2
    assert "111" in extracted.pages[0].text and "222" in extracted.pages[1].text
    assert all(p.image for p in extracted.pages)


@pytest.mark.slow
@needs_ocr
def test_image_without_text_is_skipped_not_failed(library: Library, tmp_path: Path):
    blank = make_blank_jpg(tmp_path / "blank.jpg")
    result = library.ingest([blank]).files[0]
    assert result.status == "skipped"
    assert result.reason == "blank.jpg: no text in the image (OCR found no text in it)"


def test_damaged_image(tmp_path: Path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ExtractionError, match="bad.png: "):
        extract_file(bad, ocr=ocr_engine)


def test_image_without_ocr_says_so(tmp_path: Path):
    png = make_png(tmp_path / "scan.png", ["TEXT"])
    with pytest.raises(ExtractionError, match="OCR is not available"):
        extract_file(png)  # no OCR engine given

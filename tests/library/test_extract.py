from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library import Library
from rlm_desktop.library.extract import extract_file
from rlm_desktop.library.extract_office import ZipLimits, check_zip
from rlm_desktop.library.ocr import ocr_available
from rlm_desktop.library.pages import NO_TEXT_FLAG, split_sections

from .conftest import PDF_PAGES, make_pdf, make_scanned_pdf


def test_pdf_text_is_kept_per_page(good_files):
    extracted = extract_file(good_files["pdf"])
    assert extracted.unit == "page"
    assert len(extracted.pages) == 3
    for page, expected in zip(extracted.pages, PDF_PAGES):
        assert expected in page.text
        assert page.source == "text"


def test_docx_keeps_paragraphs_and_table_rows(good_files):
    text = "".join(p.text for p in extract_file(good_files["docx"]).pages)
    assert "The purchase price is payable at closing." in text
    assert "Gamma GmbH | Seller" in text
    assert "Delta SA | Buyer" in text
    assert text.index("payable at closing") < text.index("Gamma GmbH") < text.index("1 March 2025")


def test_xlsx_keeps_sheets_and_rows(good_files):
    extracted = extract_file(good_files["xlsx"])
    text = "".join(p.text for p in extracted.pages)
    assert "# Sheet: Leases\nProperty | Tenant | Rent\n12 High Street | Omega Ltd | 4500\n" in text
    assert "# Sheet: Loans\nLender | Amount\nFirst Bank | 1000000\n" in text
    assert extracted.pages[1].text.startswith("# Sheet: Loans")  # each sheet starts a section


def test_html_gives_readable_text_without_markup(good_files):
    text = extract_file(good_files["html"]).pages[0].text
    assert "Board minutes" in text and "The board approved the" in text and "merger" in text
    assert "<" not in text and "hidden script" not in text and "color:red" not in text


def test_latin1_text_is_decoded(good_files):
    assert "Mémo: la société Zéta a résilié le contrat à Genève." in extract_file(good_files["latin1"]).pages[0].text


def test_csv_keeps_one_line_per_record(good_files):
    assert extract_file(good_files["csv"]).pages[0].text == "id | party | amount\n1 | Acme, Inc. | 100\n2 | Beta | 200\n"


@pytest.mark.parametrize("key, expected", [("md", "# Data room"), ("json", '"term": "five years"'),
                                           ("code", "return x * 0.02")])
def test_text_formats_are_kept_verbatim(good_files, key, expected):
    assert expected in extract_file(good_files[key]).pages[0].text


def test_sections_concatenate_back_to_the_text():
    text = "".join(f"line {i} " + "word " * (i % 30) + "\n" for i in range(2000))
    pieces = split_sections(text, 1000)
    assert "".join(pieces) == text
    assert all(len(p) <= 1000 for p in pieces)
    assert all(p.endswith("\n") for p in pieces)


@pytest.mark.slow
def test_scanned_page_is_ocrd(tmp_path: Path):
    if not ocr_available():
        pytest.skip("OCR (rapidocr-onnxruntime) is not installed")
    path = make_scanned_pdf(tmp_path / "scan.pdf", ["Governing law: Delaware", "Invoice total 4471"])
    with Library.open(tmp_path / "lib.db") as lib:
        result = lib.ingest([path]).files[0]
        assert (result.status, result.ocr_pages, result.empty_pages) == ("stored", 1, 0)
        page = lib.pages(result.doc_id)[0]
        assert page["source"] == "ocr"
        assert "Governing law: Delaware" in page["text"]
        assert "4471" in page["text"]
        assert lib.search("Delaware")[0]["doc_id"] == result.doc_id


def test_page_without_text_is_flagged_never_silently_empty(tmp_path: Path):
    path = make_pdf(tmp_path / "blank.pdf", ["Cover page text", ""])
    extracted = extract_file(path, ocr=lambda: None)  # OCR unavailable
    blank = extracted.pages[1]
    assert blank.source == "none"
    assert blank.flag and blank.flag.startswith(NO_TEXT_FLAG)
    assert NO_TEXT_FLAG in blank.text


def test_blank_page_where_ocr_finds_nothing_is_flagged(tmp_path: Path):
    path = make_pdf(tmp_path / "blank.pdf", ["Cover page text", ""])
    extracted = extract_file(path, ocr=lambda: (lambda image: ""))
    assert extracted.pages[1].flag == NO_TEXT_FLAG


def test_zip_bomb_refused_from_declared_sizes(broken_files):
    with pytest.raises(ExtractionError, match="zip bomb"):
        check_zip(broken_files["bomb"], "Word (.docx)")
    check_zip(broken_files["bomb"], "Word (.docx)", ZipLimits(max_ratio=10_000))  # the limits are settings


def test_damaged_office_file_is_a_clear_error(tmp_path: Path):
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExtractionError, match="fake.xlsx: not a valid Excel"):
        extract_file(fake)


def test_legacy_office_formats_name_the_fix(tmp_path: Path):
    old = tmp_path / "old.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ExtractionError, match=r"save it as \.docx"):
        extract_file(old)

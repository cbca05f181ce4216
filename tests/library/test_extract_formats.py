"""PowerPoint, OpenDocument, RTF, legacy Excel and images: real files, good and broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library import Library
from rlm_desktop.library.extract import extract_file

from .dataroom_files import make_odp, make_ods, make_odt, make_pptx, make_rtf, make_xls


def test_pptx_one_page_per_slide_with_tables_and_notes(tmp_path: Path):
    extracted = extract_file(make_pptx(tmp_path / "deck.pptx"))
    assert (extracted.format, extracted.unit, len(extracted.pages)) == ("pptx", "slide", 2)
    first, second = (p.text for p in extracted.pages)
    assert first.startswith("# Slide 1\nProject Heron\nAcquisition of Halvard Systems")
    assert "Notes: Mention the escrow of 4,850,000 only if asked." in first
    lines = second.splitlines()
    assert lines[:2] == ["# Slide 2", "Key terms"]
    assert lines.index("Purchase price | 48,500,000") < lines.index("Signing expected in Q2.")  # reading order


def test_truncated_pptx_is_a_clear_error(tmp_path: Path):
    whole = make_pptx(tmp_path / "whole.pptx").read_bytes()
    cut = tmp_path / "cut.pptx"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ExtractionError, match="cut.pptx: not a valid PowerPoint"):
        extract_file(cut)


def test_opendocument_text_spreadsheet_and_presentation(tmp_path: Path):
    odt = "".join(p.text for p in extract_file(make_odt(tmp_path / "supply.odt")).pages)
    assert "Supply Agreement\nThe supplier delivers widgets monthly.\tNet 30." in odt
    assert "Widget | 12.50" in odt and "laws of Norway" in odt
    ods = extract_file(make_ods(tmp_path / "leases.ods"))
    assert ods.pages[0].text.splitlines()[:3] == ["# Sheet: Leases", "Property | Rent", "12 High Street | 4500"]
    assert ods.chars < 200  # a million repeated empty rows are not expanded
    odp = extract_file(make_odp(tmp_path / "board.odp"))
    assert odp.unit == "slide" and len(odp.pages) == 2
    assert "Board update" in odp.pages[0].text and "Notes: Speak slowly." in odp.pages[0].text
    assert odp.pages[1].text.startswith("# Slide 2\nRevenue grew 12%")


def test_damaged_opendocument(tmp_path: Path):
    bad = tmp_path / "bad.odt"
    bad.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ExtractionError, match="bad.odt: not a valid OpenDocument text"):
        extract_file(bad)


def test_rtf(tmp_path: Path):
    text = extract_file(make_rtf(tmp_path / "side.rtf")).pages[0].text
    assert "Side letter" in text and "Société Générale's favour" in text and "\\par" not in text
    fake = tmp_path / "fake.rtf"
    fake.write_text("plain words", encoding="utf-8")
    with pytest.raises(ExtractionError, match="fake.rtf: not an RTF file"):
        extract_file(fake)


def test_legacy_xls(tmp_path: Path):
    text = extract_file(make_xls(tmp_path / "loans.xls")).pages[0].text
    assert text.splitlines()[:3] == ["# Sheet: Loans", "Lender | Amount | Maturity", "First Bank | 1000000 | 2029-06-30"]
    fake = tmp_path / "fake.xls"
    fake.write_bytes(b"\xd0\xcf\x11\xe0 truncated")
    with pytest.raises(ExtractionError, match="fake.xls: "):
        extract_file(fake)


@pytest.mark.parametrize("name, fix", [("old.doc", ".docx"), ("old.ppt", ".pptx")])
def test_doc_and_ppt_are_refused_with_the_reason(tmp_path: Path, name: str, fix: str):
    old = tmp_path / name
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ExtractionError, match=rf"no permissively licensed reader.*save it as \{fix}"):
        extract_file(old)


def test_all_formats_in_one_batch(library: Library, tmp_path: Path):
    paths = [make_pptx(tmp_path / "deck.pptx"), make_odt(tmp_path / "supply.odt"), make_ods(tmp_path / "l.ods"),
             make_odp(tmp_path / "board.odp"), make_rtf(tmp_path / "side.rtf"), make_xls(tmp_path / "loans.xls")]
    report = library.ingest(paths)
    assert [r.status for r in report.files] == ["stored"] * len(paths)
    deck = next(d for d in library.documents() if d.name == "deck.pptx")
    assert deck.unit == "slide" and deck.pages == 2

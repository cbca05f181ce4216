"""OpenDocument text, spreadsheets and presentations (.odt, .ods, .odp) from content.xml.

Read with the standard library's zipfile and ElementTree (the format is a zip of XML), behind
the same zip-bomb guard as the Office formats; no extra dependency.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.extract_office import ZipLimits, check_zip
from rlm_desktop.tables import CELL_SEPARATOR, SHEET_HEADING
from rlm_desktop.library.pages import Extracted, ExtractedPage, sections, with_page_breaks

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
}
MAX_REPEAT = 1000
"""Repeated rows/cells (ODF compresses runs of equal cells) are expanded at most this often."""


def _tag(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


P, H, SPACE, TAB, BREAK = _tag("text", "p"), _tag("text", "h"), _tag("text", "s"), _tag("text", "tab"), \
    _tag("text", "line-break")
TABLE, ROW, CELL, COVERED = _tag("table", "table"), _tag("table", "table-row"), _tag("table", "table-cell"), \
    _tag("table", "covered-table-cell")
PAGE, NOTES = _tag("draw", "page"), _tag("presentation", "notes")
NAME = _tag("table", "name")


def _inline(element: ElementTree.Element) -> str:
    """The text of a paragraph with its spans, links, spaces, tabs and line breaks."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == SPACE:
            parts.append(" " * int(child.get(_tag("text", "c"), "1")))
        elif child.tag == TAB:
            parts.append("\t")
        elif child.tag == BREAK:
            parts.append("\n")
        elif child.tag in (P, H):
            parts.append(" " + _inline(child))
        else:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _repeat(element: ElementTree.Element, attribute: str) -> int:
    try:
        return max(1, min(MAX_REPEAT, int(element.get(_tag("table", attribute), "1"))))
    except ValueError:
        return 1


def _table_lines(table: ElementTree.Element) -> list[str]:
    lines: list[str] = []
    for row in table.iter(ROW):
        cells: list[str] = []
        for cell in row:
            if cell.tag not in (CELL, COVERED):
                continue
            text = " ".join(" ".join(_inline(p).split()) for p in cell.iter(P)).strip()
            cells.extend([text] * (_repeat(cell, "number-columns-repeated") if text else 1))
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.extend([CELL_SEPARATOR.join(cells)] * _repeat(row, "number-rows-repeated"))
    return lines


def _blocks(element: ElementTree.Element, lines: list[str]) -> None:
    """Paragraphs, headings and tables in document order."""
    for child in element:
        if child.tag in (P, H):
            lines.append(_inline(child))
        elif child.tag == TABLE:
            lines.append("")
            lines.extend(_table_lines(child))
            lines.append("")
        elif child.tag != NOTES:
            _blocks(child, lines)


def _content(path: Path, kind: str, limits: ZipLimits) -> ElementTree.Element:
    check_zip(path, kind, limits)
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("content.xml")
        return ElementTree.fromstring(data)
    except KeyError as exc:
        raise ExtractionError(f"{path.name}: not a valid {kind} file (no content.xml)") from exc
    except ElementTree.ParseError as exc:
        raise ExtractionError(f"{path.name}: damaged {kind} file ({exc})") from exc


def extract_odf(path: Path, limits: ZipLimits = ZipLimits()) -> Extracted:
    """.odt: sections of text; .ods: a section per sheet; .odp: a page per slide with its notes."""
    ext = path.suffix.lower()
    kind = {".odt": "OpenDocument text (.odt)", ".ods": "OpenDocument spreadsheet (.ods)",
            ".odp": "OpenDocument presentation (.odp)"}[ext]
    root = _content(path, kind, limits)
    body = root.find("office:body", NS)
    if body is None:
        raise ExtractionError(f"{path.name}: not a valid {kind} file (no document body)")
    if ext == ".odp":
        pages: list[ExtractedPage] = []
        for number, slide in enumerate(body.iter(PAGE), start=1):
            lines = [f"# Slide {number}"]
            _blocks(slide, lines)
            notes = [_inline(p) for n in slide.iter(NOTES) for p in n.iter(P) if _inline(p).strip()]
            if notes:
                lines += ["", "Notes: " + "\n".join(notes)]
            pages.append(ExtractedPage("\n".join(lines)))
        if not pages:
            raise ExtractionError(f"{path.name}: the presentation has no slides")
        return Extracted(format="odp", unit="slide", pages=with_page_breaks(pages))
    if ext == ".ods":
        pages = []
        for table in body.iter(TABLE):
            lines = [f"{SHEET_HEADING}{table.get(NAME, '')}", *_table_lines(table)]
            pages.extend(sections("\n".join(lines) + "\n\n"))
        if not any(page.text.count("\n") > 2 for page in pages):
            raise ExtractionError(f"{path.name}: the spreadsheet has no cells with values")
        return Extracted(format="ods", unit="section", pages=pages)
    lines: list[str] = []
    _blocks(body, lines)
    text = "\n".join(lines).strip()
    if not text:
        raise ExtractionError(f"{path.name}: the document has no text")
    return Extracted(format="odt", unit="section", pages=sections(text + "\n"))

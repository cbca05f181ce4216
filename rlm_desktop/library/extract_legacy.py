"""RTF (striprtf, BSD-3) and Excel 97-2003 .xls (xlrd, BSD).

.doc and .ppt are not read: every well-kept reader of them is GPL (antiword, catdoc, wvWare)
or needs LibreOffice, so they are refused with a suggestion to save them as .docx / .pptx.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from rlm_desktop.errors import ExtractionError
from rlm_desktop.tables import CELL_SEPARATOR, SHEET_HEADING
from rlm_desktop.library.pages import Extracted, ExtractedPage, sections


def extract_rtf(path: Path) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    data = path.read_bytes()
    if not data.lstrip().startswith(b"{\\rtf"):
        raise ExtractionError(f"{path.name}: not an RTF file (no {{\\rtf header)")
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding="cp1252", errors="replace")
    except Exception as exc:  # striprtf raises plain errors on malformed groups
        raise ExtractionError(f"{path.name}: damaged RTF ({type(exc).__name__}: {exc})") from exc
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ExtractionError(f"{path.name}: the RTF document has no text")
    return Extracted(format="rtf", unit="section", pages=sections(text + "\n"))


def _xls_cell(cell: object, datemode: int) -> str:
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_DATE:
        try:
            when = xlrd.xldate.xldate_as_datetime(value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(value)
        return when.date().isoformat() if when.time() == datetime.time() else when.isoformat(sep=" ")
    if kind == xlrd.XL_CELL_NUMBER and float(value).is_integer():
        return str(int(value))
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERR")
    return " ".join(str(value).split())


def extract_xls(path: Path) -> Extracted:
    """Each sheet starts a section headed by its name; one line per non-empty row."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except xlrd.XLRDError as exc:
        message = str(exc)
        if "encrypt" in message.lower():
            raise ExtractionError(f"{path.name}: encrypted workbook (a password is needed to open it)") from exc
        raise ExtractionError(f"{path.name}: not a valid Excel 97-2003 workbook ({message})") from exc
    except Exception as exc:  # truncated OLE streams and the like
        raise ExtractionError(f"{path.name}: damaged Excel 97-2003 workbook ({type(exc).__name__}: {exc})") from exc
    pages: list[ExtractedPage] = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            lines = [f"{SHEET_HEADING}{sheet.name}"]
            for row in range(sheet.nrows):
                cells = [_xls_cell(cell, book.datemode) for cell in sheet.row(row)]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append(CELL_SEPARATOR.join(cells))
            book.unload_sheet(index)
            pages.extend(sections("\n".join(lines) + "\n\n"))
    except Exception as exc:
        raise ExtractionError(f"{path.name}: the workbook cannot be read ({type(exc).__name__}: {exc})") from exc
    finally:
        book.release_resources()
    if not any(page.text.count("\n") > 2 for page in pages):
        raise ExtractionError(f"{path.name}: the workbook has no cells with values")
    return Extracted(format="xls", unit="section", pages=pages)

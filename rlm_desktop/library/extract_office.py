"""DOCX (python-docx, tables included) and XLSX (openpyxl read-only), behind a zip-bomb guard."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.pages import Extracted, ExtractedPage, HiddenText, sections
from rlm_desktop.tables import CELL_SEPARATOR, SHEET_HEADING


@dataclass(frozen=True)
class ZipLimits:
    """What an Office file may declare before it is refused as a likely zip bomb."""

    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 100.0           # uncompressed / compressed, checked above ratio_floor_bytes
    ratio_floor_bytes: int = 50 * 1024 * 1024
    max_members: int = 20_000


def check_zip(path: Path, kind: str, limits: ZipLimits = ZipLimits()) -> None:
    """Refuse non-zips and zip bombs from the central directory, before anything is inflated.

    zipfile never inflates a member past its declared size, so the declared sizes bound the work.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExtractionError(f"{path.name}: not a valid {kind} file (not a zip archive: {exc})") from exc
    if len(members) > limits.max_members:
        raise ExtractionError(f"{path.name}: refused, the archive holds {len(members)} parts (zip bomb?)")
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if total > limits.max_uncompressed_bytes:
        raise ExtractionError(
            f"{path.name}: refused, it would unpack to {total / 2**20:.0f} MB (zip bomb?)")
    if total > limits.ratio_floor_bytes and total / packed > limits.max_ratio:
        raise ExtractionError(
            f"{path.name}: refused, it would unpack to {total / 2**20:.0f} MB from "
            f"{packed / 2**20:.1f} MB (compression ratio {total / packed:.0f}:1, zip bomb?)")


def _docx_blocks(document: Any) -> list[str]:
    """Paragraphs and tables in body order; a table row becomes one line of cells."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            lines.append(item.text)
        elif isinstance(item, Table):
            lines.append("")
            for row in item.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if not cells or cells[-1] != text:  # merged cells repeat; keep one
                        cells.append(text)
                lines.append(CELL_SEPARATOR.join(cells))
            lines.append("")
    return lines


def extract_docx(path: Path, limits: ZipLimits = ZipLimits()) -> Extracted:
    check_zip(path, "Word (.docx)", limits)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
        lines = _docx_blocks(document)
        hidden = _hidden_runs(document)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ExtractionError(f"{path.name}: not a valid Word document ({exc})") from exc
    text = "\n".join(lines).strip() + "\n"
    if not text.strip():
        raise ExtractionError(f"{path.name}: the Word document has no text")
    return Extracted(format="docx", unit="section", pages=sections(text), hidden=hidden)


def _hidden_runs(document: Any) -> list[HiddenText]:
    """Runs marked hidden (Word shows them only with formatting marks on), joined per paragraph."""
    found: list[HiddenText] = []
    for paragraph in document.paragraphs:
        text = "".join(run.text for run in paragraph.runs if run.font.hidden)
        if text.strip():
            found.append(HiddenText(text.strip(), "a hidden run in the Word document"))
    return found


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != datetime.min.time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def extract_xlsx(path: Path, limits: ZipLimits = ZipLimits()) -> Extracted:
    """Each sheet starts a new section headed by its name; one line per non-empty row."""
    check_zip(path, "Excel (.xlsx)", limits)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise ExtractionError(f"{path.name}: not a valid Excel workbook ({exc})") from exc
    pages: list[ExtractedPage] = []
    try:
        for sheet in workbook.worksheets:
            lines = [f"{SHEET_HEADING}{sheet.title}"]
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append(CELL_SEPARATOR.join(cells))
            pages.extend(sections("\n".join(lines) + "\n\n"))
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError(f"{path.name}: the workbook cannot be read ({exc})") from exc
    finally:
        workbook.close()
    return Extracted(format="xlsx", unit="section", pages=pages)

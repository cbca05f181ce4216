"""PowerPoint (.pptx) with python-pptx: one page per slide, text, tables and speaker notes."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Iterator

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.extract_office import ZipLimits, check_zip
from rlm_desktop.tables import CELL_SEPARATOR
from rlm_desktop.library.pages import Extracted, ExtractedPage, with_page_breaks


def _reading_order(shapes: Any) -> list[Any]:
    """Shapes top to bottom, then left to right (placeholders without a position last)."""
    def key(shape: Any) -> tuple[int, int]:
        top, left = shape.top, shape.left
        return (top if top is not None else 1 << 40, left if left is not None else 0)
    return sorted(shapes, key=key)


def _shape_lines(shape: Any) -> Iterator[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        for inner in _reading_order(shape.shapes):
            yield from _shape_lines(inner)
        return
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                yield CELL_SEPARATOR.join(cells)
        return
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        for paragraph in shape.text_frame.paragraphs:
            text = "".join(run.text for run in paragraph.runs) or paragraph.text
            if text.strip():
                yield text.rstrip()
        return
    if getattr(shape, "has_chart", False) and shape.has_chart:
        chart = shape.chart
        if chart.has_title and chart.chart_title.has_text_frame:
            yield "Chart: " + chart.chart_title.text_frame.text


def extract_pptx(path: Path, limits: ZipLimits = ZipLimits()) -> Extracted:
    """Every slide becomes a page: '# Slide N', its text and tables in reading order, then its notes."""
    check_zip(path, "PowerPoint (.pptx)", limits)
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    try:
        presentation = Presentation(str(path))
        pages: list[ExtractedPage] = []
        for number, slide in enumerate(presentation.slides, start=1):
            lines = [f"# Slide {number}"]
            for shape in _reading_order(slide.shapes):
                lines.extend(_shape_lines(shape))
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    lines.append("")
                    lines.append("Notes: " + notes.text.strip())
            pages.append(ExtractedPage("\n".join(lines)))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
        raise ExtractionError(f"{path.name}: not a valid PowerPoint presentation ({exc})") from exc
    except Exception as exc:  # lxml raises its own errors for damaged XML parts
        raise ExtractionError(f"{path.name}: damaged PowerPoint presentation ({type(exc).__name__}: {exc})") from exc
    if not pages:
        raise ExtractionError(f"{path.name}: the presentation has no slides")
    if all(page.text.count("\n") == 0 for page in pages):
        raise ExtractionError(f"{path.name}: the presentation has no text on any slide")
    return Extracted(format="pptx", unit="slide", pages=with_page_breaks(pages))

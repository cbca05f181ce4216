"""File -> text, per format. PDF, Office, OpenDocument, e-mail and image formats live in their own modules.

ZIP archives are not extracted here: the ingest walks them (archive.py) and sends each member
back through :func:`extract_file`. E-mails carry their attachments in ``Extracted.attachments``.

:func:`extract_file` raises :class:`ExtractionError` naming the file and the cause
(unsupported type, binary data, damaged, encrypted, zip bomb); it never returns an
empty document.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

from rlm_desktop.errors import ExtractionError
from rlm_desktop.library.extract_office import ZipLimits, extract_docx, extract_xlsx
from rlm_desktop.tables import CELL_SEPARATOR
from rlm_desktop.library.extract_email import extract_eml, extract_msg
from rlm_desktop.library.extract_image import extract_image
from rlm_desktop.library.extract_legacy import extract_rtf, extract_xls
from rlm_desktop.library.extract_odf import extract_odf
from rlm_desktop.library.extract_pdf import extract_pdf
from rlm_desktop.library.extract_pptx import extract_pptx
from rlm_desktop.library.ocr import PageOCR
from rlm_desktop.library.pages import Extracted, sections

SOURCE_EXTENSIONS = frozenset(
    ".py .pyi .js .mjs .cjs .ts .tsx .jsx .java .kt .kts .scala .c .h .cc .cpp .cxx .hpp .hh .cs .go "
    ".rs .rb .php .swift .m .mm .r .jl .lua .pl .pm .sh .bash .zsh .ps1 .bat .sql .css .scss .less "
    ".vue .svelte .dart .ex .exs .erl .hs .ml .clj .groovy .gradle .cmake .proto .graphql .tf "
    ".yaml .yml .toml .ini .cfg .conf .env .properties .xml .svg .ipynb .dockerfile .mk".split()
)
TEXT_EXTENSIONS = frozenset(".txt .text .log .rst .tex .srt .vtt".split())
IMAGE_EXTENSIONS = frozenset(".png .jpg .jpeg .tif .tiff".split())
ODF_EXTENSIONS = frozenset(".odt .ods .odp".split())
MARKDOWN_EXTENSIONS = frozenset(".md .markdown .mdown".split())
HTML_EXTENSIONS = frozenset(".html .htm .xhtml".split())
LEGACY_OFFICE = {".doc": ".docx", ".ppt": ".pptx"}
"""Not read: every well-kept reader of these is GPL or needs LibreOffice."""
INLINE_TAGS = "a abbr b bdi big cite code em font i kbd mark q s small span strong sub sup time u var".split()
TEXT_FILENAMES = frozenset("readme license licence copying makefile dockerfile changelog notice authors".split())


def file_format(path: Path) -> str | None:
    """The format name for ``path`` from its extension, or None when unsupported."""
    ext = path.suffix.lower()
    if ext == ".pdf":
        return "pdf"
    if ext == ".zip":
        return "zip"
    if ext in (".eml", ".msg"):
        return "email"
    if ext == ".pptx":
        return "pptx"
    if ext in ODF_EXTENSIONS:
        return ext[1:]
    if ext == ".rtf":
        return "rtf"
    if ext == ".xls":
        return "xls"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    if ext == ".docx":
        return "docx"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext in (".csv", ".tsv"):
        return "csv"
    if ext in HTML_EXTENSIONS:
        return "html"
    if ext in MARKDOWN_EXTENSIONS:
        return "markdown"
    if ext == ".json" or ext == ".jsonl":
        return "json"
    if ext in SOURCE_EXTENSIONS:
        return "code"
    if ext in TEXT_EXTENSIONS or (not ext and path.name.lower() in TEXT_FILENAMES):
        return "text"
    return None


def decode_text(data: bytes, name: str) -> str:
    """Bytes -> str: UTF-8 (with or without BOM), UTF-16 with BOM, else charset-normalizer's guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"{name}: damaged UTF-16 text ({exc.reason})") from exc
    if b"\x00" in data[:8192]:
        raise ExtractionError(f"{name}: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ExtractionError(f"{name}: not readable as text in any common encoding")
    return str(best)


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_text(text: str, delimiter: str | None) -> str:
    """One line per record (newlines inside quoted fields become spaces), cells joined by ' | '."""
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        lines = [CELL_SEPARATOR.join(" ".join(cell.split()) for cell in row) for row in rows if row]
    except csv.Error as exc:
        raise ExtractionError(f"malformed CSV ({exc})") from exc
    return "\n".join(lines) + "\n"


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")
    for tag in soup(INLINE_TAGS):
        tag.unwrap()  # "the <b>merger</b> with" stays one line of text
    soup.smooth()
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        if tag.name == "head":
            title = tag.find("title")
            tag.replace_with(title.get_text(" ", strip=True) + "\n" if title else "")
        else:
            tag.decompose()
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() + "\n"


def extract_file(path: Path, *, ocr: Callable[[], PageOCR | None] = lambda: None, zip_limits: ZipLimits = ZipLimits(),
                 cancelled: Callable[[], bool] = lambda: False) -> Extracted:
    """Text of one file, cut into pages (PDF) or sections; raises ExtractionError with the cause.

    ``ocr`` gives the OCR engine for PDF pages without a text layer (asked only when needed).
    """
    fmt = file_format(path)
    if fmt is None:
        suggestion = LEGACY_OFFICE.get(path.suffix.lower())
        if suggestion:
            raise ExtractionError(f"{path.name}: legacy {path.suffix} files are not supported (no permissively "
                                  f"licensed reader exists); save it as {suggestion} and add that")
        raise ExtractionError(f"{path.name}: unsupported file type {path.suffix or '(no extension)'}")
    if fmt == "pdf":
        return extract_pdf(path, ocr=ocr, cancelled=cancelled)
    if fmt == "docx":
        return extract_docx(path, zip_limits)
    if fmt == "xlsx":
        return extract_xlsx(path, zip_limits)
    if fmt == "zip":
        raise ExtractionError(f"{path.name}: a ZIP archive is read member by member by the ingest")
    if fmt == "email":
        if path.suffix.lower() == ".msg":
            return extract_msg(path, _html_text)
        return extract_eml(path, _html_text)
    if fmt == "pptx":
        return extract_pptx(path, zip_limits)
    if fmt in ("odt", "ods", "odp"):
        return extract_odf(path, zip_limits)
    if fmt == "rtf":
        return extract_rtf(path)
    if fmt == "xls":
        return extract_xls(path)
    if fmt == "image":
        return extract_image(path, ocr=ocr, cancelled=cancelled)
    data = path.read_bytes()
    if fmt == "html":
        text = _html_text(data)
    else:
        text = _normalise_newlines(decode_text(data, path.name))
        if fmt == "csv":
            try:
                text = _csv_text(text, "\t" if path.suffix.lower() == ".tsv" else None)
            except ExtractionError as exc:
                raise ExtractionError(f"{path.name}: {exc}") from exc
    if not text.strip():
        raise ExtractionError(f"{path.name}: no text in the file")
    return Extracted(format=fmt, unit="section", pages=sections(text))

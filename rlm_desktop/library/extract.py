"""File -> text, per format. PDF, Office, OpenDocument, e-mail and image formats live in their own modules.

ZIP and tar archives and compressed files are not extracted here: the ingest opens them
(archive.py, archive_tar.py) and sends each member back through :func:`extract_file`. E-mails carry their attachments in ``Extracted.attachments``.

:func:`extract_file` raises :class:`ExtractionError` naming the file and the cause
(unsupported type, binary data, damaged, encrypted, zip bomb); it never returns an
empty document.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable

from rlm_desktop.errors import ExtractionError, NoTextFound
from rlm_desktop.library.extract_office import ZipLimits, extract_docx, extract_xlsx
from rlm_desktop.tables import CELL_SEPARATOR
from rlm_desktop.library.extract_email import extract_eml, extract_msg
from rlm_desktop.library.extract_image import extract_image
from rlm_desktop.library.extract_legacy import extract_rtf, extract_xls
from rlm_desktop.library.extract_odf import extract_odf
from rlm_desktop.library.extract_pdf import extract_pdf
from rlm_desktop.library.extract_pptx import extract_pptx
from rlm_desktop.library.ocr import PageOCR
from rlm_desktop.library.hidden_html import hidden_html_text
from rlm_desktop.library.pages import Extracted, HiddenText, sections
from rlm_desktop.library.sniff import text_encoding

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


TAR_SUFFIXES = (".tar", ".tgz", ".tbz", ".tbz2", ".txz", ".tar.gz", ".tar.bz2", ".tar.xz")
COMPRESSED_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}
CONTAINER_FORMATS = frozenset("zip tar gzip bzip2 xz 7z".split())
"""Opened by the ingest, never by :func:`extract_file`."""


def file_format(path: Path) -> str | None:
    """The format name for ``path`` from its extension, or None when unsupported."""
    ext = path.suffix.lower()
    if path.name.lower().endswith(TAR_SUFFIXES):
        return "tar"
    if ext in COMPRESSED_SUFFIXES:
        return COMPRESSED_SUFFIXES[ext]
    if ext == ".7z":
        return "7z"
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
    """Bytes -> str: UTF-8 (with or without BOM), UTF-16 (with or without BOM), else charset-normalizer's guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:8192]:
        codec = text_encoding(data[:8192])
        if codec is None or not codec.startswith("utf-16"):
            raise ExtractionError(f"{name}: binary data, not text")
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"{name}: damaged UTF-16 text ({exc.reason})") from exc
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


HTML_TREE_MAX_BYTES = 2 * 1024 * 1024
"""Larger pages are read flat: a parse tree costs ~50 bytes of memory per byte of HTML (an 8 MB manual: 400 MB)."""


def _html_text(data: bytes) -> str:
    if len(data) > HTML_TREE_MAX_BYTES:
        return _flat_html_text(data)
    try:
        return _soup_text(data)
    except RecursionError:  # thousands of unclosed tags nest too deep for the tree builder
        return _flat_html_text(data)


def _flat_html_text(data: bytes) -> str:
    """Text of an HTML page without building its tree: data outside script and style, one line per block."""
    from html.parser import HTMLParser

    parts: list[str] = []
    hidden = 0

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: object) -> None:
            nonlocal hidden
            hidden += tag in ("script", "style")
            if tag not in INLINE_TAGS:
                parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            nonlocal hidden
            hidden -= tag in ("script", "style") and hidden > 0

        def handle_data(self, text: str) -> None:
            if not hidden:
                parts.append(text)

    collector = Collector(convert_charrefs=True)
    collector.feed(data.decode("utf-8", errors="replace"))
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line) + "\n"


def _soup_text(data: bytes) -> str:
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
                 cancelled: Callable[[], bool] = lambda: False, fmt: str | None = None) -> Extracted:
    """Text of one file, cut into pages (PDF) or sections; raises ExtractionError with the cause.

    ``ocr`` gives the OCR engine for PDF pages without a text layer (asked only when needed);
    ``fmt`` the format found from the content (default: from the name).
    """
    fmt = fmt or file_format(path)
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
    if fmt in CONTAINER_FORMATS:
        raise ExtractionError(f"{path.name}: a {fmt} archive or compressed file is opened by the ingest")
    if fmt == "email":
        with path.open("rb") as f:
            outlook = f.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a .msg, whatever its name
        if outlook or path.suffix.lower() == ".msg":
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
    hidden: list[HiddenText] = []
    if fmt == "html":
        text = _html_text(data)
        hidden = hidden_html_text(data) if len(data) <= HTML_TREE_MAX_BYTES else []
    else:
        text = _normalise_newlines(decode_text(data, path.name))
        if fmt == "csv":
            try:
                text = _csv_text(text, "\t" if path.suffix.lower() == ".tsv" else None)
            except ExtractionError as exc:
                raise ExtractionError(f"{path.name}: {exc}") from exc
    if not text.strip():
        raise NoTextFound(f"{path.name}: no text in the file (only blanks)")
    return Extracted(format=fmt, unit="section", pages=sections(text), hidden=hidden)

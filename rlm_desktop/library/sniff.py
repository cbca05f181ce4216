"""What a file is, from its first bytes: document formats, containers, known binaries, and text.

Used when a name does not say (no extension, an unknown one) or may lie (a ``.pdf`` that is HTML).
Stdlib only: signatures are a short table, and text is judged by encoding and printable share.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 8192
OLE_SCAN_BYTES = 1 << 20
PRINTABLE_SHARE = 0.95

COMPRESSED = {"gzip": (b"\x1f\x8b", gzip.open), "bzip2": (b"BZh", bz2.open), "xz": (b"\xfd7zXZ\x00", lzma.open)}
READABLE_IMAGES = ("PNG image", "JPEG image", "TIFF image")

# Binaries that are not documents, named so the user sees what was left out.
_BINARIES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x7fELF", 0, "ELF executable"),
    (b"MZ", 0, "Windows executable"),
    (b"\xcf\xfa\xed\xfe", 0, "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", 0, "Java class or Mach-O file"),
    (b"SQLite format 3\x00", 0, "SQLite database"),
    (b"\x00asm", 0, "WebAssembly module"),
    (b"Rar!\x1a\x07", 0, "RAR archive"),
    (b"\x28\xb5\x2f\xfd", 0, "Zstandard-compressed file"),
    (b"GIF8", 0, "GIF image"),
    (b"BM", 0, "BMP image"),
    (b"\x00\x00\x01\x00", 0, "icon image"),
    (b"ID3", 0, "MP3 audio"),
    (b"OggS", 0, "Ogg audio or video"),
    (b"fLaC", 0, "FLAC audio"),
    (b"ftyp", 4, "MP4 or QuickTime video"),
    (b"\x00\x01\x00\x00\x00", 0, "TrueType font"),
    (b"OTTO", 0, "OpenType font"),
    (b"wOFF", 0, "WOFF font"),
    (b"wOF2", 0, "WOFF2 font"),
    (b"\xde\x12\x04\x95", 0, "gettext translation catalogue"),
    (b"\x95\x04\x12\xde", 0, "gettext translation catalogue"),
    (b"!<arch>\n", 0, "ar archive (Debian package or static library)"),
)
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_STREAMS = (("__substg1.0_", "email", "Outlook message"), ("Workbook", "xls", "Excel 97-2003 workbook"),
                ("Book", "xls", "Excel 5 workbook"), ("WordDocument", None, "legacy Word .doc document"),
                ("PowerPoint Document", None, "legacy PowerPoint .ppt presentation"))
_ODF = {"application/vnd.oasis.opendocument.text": "odt", "application/vnd.oasis.opendocument.spreadsheet": "ods",
        "application/vnd.oasis.opendocument.presentation": "odp"}
_HEADER = re.compile(rb"^(from|to|subject|date|received|return-path|message-id|mime-version|delivered-to|"
                     rb"reply-to|cc|x-[a-z0-9-]+): ", re.I | re.M)
_HTML = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])",
                   re.I | re.S)


@dataclass(frozen=True)
class Sniffed:
    """A file's format name as the extractors know it (None when not read) and what it is in words."""

    format: str | None
    kind: str
    encoding: str | None = None     # for text: the codec that reads it


def sniff_file(path: Path) -> Sniffed:
    """What ``path`` holds, from its content; raises OSError when it cannot be read."""
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    return sniff_bytes(head, path)


def sniff_bytes(head: bytes, path: Path | None = None) -> Sniffed:
    """What a file starting with ``head`` is; ``path`` lets containers be looked inside."""
    if not head:
        return Sniffed(None, "empty file")
    if b"%PDF-" in head[:1024]:
        return Sniffed("pdf", "PDF document")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path) if path is not None else Sniffed("zip", "ZIP archive")
    if head.startswith(OLE_SIGNATURE):
        return _ole_kind(path)
    if head.startswith(b"\x89PNG"):
        return Sniffed("image", "PNG image")
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "JPEG image")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed("image", "TIFF image")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniffed(None, "WebP image")
    if head.startswith(b"{\\rtf"):
        return Sniffed("rtf", "RTF document")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return Sniffed("7z", "7z archive")
    if len(head) > 262 and head[257:262] == b"ustar":
        return Sniffed("tar", "tar archive")
    for name, (magic, opener) in COMPRESSED.items():
        if head.startswith(magic):
            return _compressed_kind(name, opener, path)
    for magic, offset, kind in _BINARIES:
        if head[offset:offset + len(magic)] == magic:
            return Sniffed(None, kind)
    encoding = text_encoding(head)
    if encoding is None:
        return Sniffed(None, "unknown binary")
    sample = head.decode(encoding, errors="replace").encode("utf-8", errors="replace")
    if _HTML.match(sample):
        return Sniffed("html", "HTML", encoding)
    if _is_email(sample):
        return Sniffed("email", "e-mail message", encoding)
    return Sniffed("text", "text", encoding)


def _is_email(sample: bytes) -> bool:
    """A header block first ('Name: value' lines up to a blank line), naming From or Received and two more."""
    lines = sample.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox file's separator line
    names: set[bytes] = set()
    for line in lines[:200]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        match = _HEADER.match(line)
        if match is None:
            if not re.match(rb"^[A-Za-z0-9-]+: ", line):
                return False
            continue
        names.add(match.group(1).lower())
    else:
        return False
    return len(names) >= 3 and bool(names & {b"from", b"received", b"return-path", b"delivered-to"})


def text_encoding(head: bytes) -> str | None:
    """The codec that reads ``head`` as text (UTF-8, UTF-16 with or without BOM, CP-1252, Latin-1), or None."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        return _utf16_without_bom(head)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut last character is fine
        return "utf-8" if _printable(text) else None
    except UnicodeDecodeError:
        pass
    for codec in ("cp1252", "latin-1"):
        try:
            text = head.decode(codec)
        except UnicodeDecodeError:
            continue
        if _printable(text):
            return codec
        break
    return _guessed_encoding(head)


def _guessed_encoding(head: bytes) -> str | None:
    """Other legacy encodings (Shift-JIS, GB18030, KOI8-R...): charset-normalizer's guess, if it reads cleanly."""
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None or best.encoding is None:
        return None
    text = head.decode(best.encoding, errors="replace")
    return best.encoding if _printable(text[:-1]) else None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly ASCII, so one byte of each pair is NUL."""
    even, odd = head[0::2], head[1::2]
    for codec, zeros in (("utf-16-le", odd), ("utf-16-be", even)):
        if zeros.count(0) >= 0.4 * len(zeros):
            try:
                text = head[:len(head) // 2 * 2].decode(codec)
            except UnicodeDecodeError:
                continue
            if _printable(text):
                return codec
    return None


def _printable(text: str) -> bool:
    if not text:
        return True
    bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b") or 0x7f <= ord(ch) < 0xa0
              or ch == "\ufffd")
    return bad <= (1 - PRINTABLE_SHARE) * len(text)


def _zip_kind(path: Path) -> Sniffed:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return Sniffed("zip", "ZIP archive (damaged?)")
    if "word/document.xml" in names:
        return Sniffed("docx", "Word document")
    if "xl/workbook.xml" in names:
        return Sniffed("xlsx", "Excel workbook")
    if "ppt/presentation.xml" in names:
        return Sniffed("pptx", "PowerPoint presentation")
    if mimetype in _ODF:
        return Sniffed(_ODF[mimetype], "OpenDocument file")
    return Sniffed("zip", "ZIP archive")


def _ole_kind(path: Path | None) -> Sniffed:
    """An OLE compound file: which one, from the stream names in its directory (UTF-16 names)."""
    data = b""
    if path is not None:
        with path.open("rb") as f:
            data = f.read(OLE_SCAN_BYTES)
    for stream, fmt, kind in _OLE_STREAMS:
        if stream.encode("utf-16-le") in data:
            return Sniffed(fmt, kind)
    return Sniffed(None, "OLE compound file (legacy Office or Outlook)")


def _compressed_kind(name: str, opener: object, path: Path | None) -> Sniffed:
    """A gzip, bzip2 or xz file: a compressed tar archive, or one compressed file."""
    inner = b""
    if path is not None:
        try:
            with opener(path, "rb") as f:  # type: ignore[operator]
                inner = f.read(1024)
        except (OSError, EOFError, lzma.LZMAError):
            return Sniffed(name, f"{name}-compressed file (damaged?)")
    if len(inner) > 262 and inner[257:262] == b"ustar":
        return Sniffed("tar", f"{name}-compressed tar archive")
    return Sniffed(name, f"{name}-compressed file")

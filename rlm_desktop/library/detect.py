"""A file's format from its name and its content together: the name when the content agrees.

A name that says nothing (no extension, an unknown one) is decided by the content; a name that
lies (a ``.pdf`` holding HTML) is read as what the content is, with a note saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rlm_desktop.library.extract import LEGACY_OFFICE, file_format
from rlm_desktop.library.sniff import sniff_file

TEXT_FORMATS = frozenset("text code markdown csv json html".split())
"""Formats read as text: the decoder judges the content, so no signature is checked."""
_ZIP_FAMILY = frozenset("zip docx xlsx pptx odt ods odp".split())
_LEGACY_KINDS = {".doc": "legacy Word .doc document", ".ppt": "legacy PowerPoint .ppt presentation"}
_ADVICE = {
    "7z": "7z archives are not read (the one maintained Python reader, py7zr, is LGPL-2.1 and pulls in "
          "further compression modules; it is left out of the Apache-2.0 installers); convert it to "
          ".zip or .tar.gz and add that",
    "legacy Word .doc document": "legacy .doc files are not supported (no permissively licensed reader exists); "
                                 "save it as .docx and add that",
    "legacy PowerPoint .ppt presentation": "legacy .ppt files are not supported (no permissively licensed reader "
                                           "exists); save it as .pptx and add that",
}


@dataclass(frozen=True)
class Detected:
    """The format to read ``path`` as (None: not read), what it is in words, and a note when the name lied."""

    format: str | None
    kind: str
    note: str | None = None

    def skip_reason(self, name: str) -> str:
        """Why a file of this kind is not read, naming it."""
        if self.kind in _ADVICE:
            return f"{name}: {_ADVICE[self.kind]}"
        if self.format == "7z":
            return f"{name}: {_ADVICE['7z']}"
        return f"{name}: not a document ({self.kind})"


def detect_format(path: Path, name: str | None = None) -> Detected:
    """How to read ``path`` (named ``name``, default its own): raises OSError when it cannot be read."""
    named = file_format(Path(name or path.name))
    sniffed = sniff_file(path)
    if named in TEXT_FORMATS or (named == "email" and not str(name or path.name).lower().endswith(".msg")):
        # Text is judged by its decoder (the sniffer knows fewer encodings); only a document or a binary
        # whose kind is known overrides a text name.
        if sniffed.format not in (None, "text", "html", "email", "7z"):
            return Detected(sniffed.format, sniffed.kind, note=_lie(name or path.name, sniffed.kind))
        if sniffed.format is None and sniffed.kind not in ("unknown binary", "empty file"):
            return Detected(None, sniffed.kind)
        return Detected(named, named)
    if named is None:
        suffix = Path(name or path.name).suffix.lower()
        if sniffed.format is None and suffix in LEGACY_OFFICE:
            return Detected(None, _LEGACY_KINDS[suffix])
        return Detected(sniffed.format, sniffed.kind)
    if sniffed.format == named or (named in _ZIP_FAMILY and sniffed.format == "zip") \
            or (named in ("gzip", "bzip2", "xz") and sniffed.format == "tar"):
        return Detected(sniffed.format if named in ("gzip", "bzip2", "xz") else named, sniffed.kind)
    if sniffed.format is not None and sniffed.format != "7z":
        return Detected(sniffed.format, sniffed.kind, note=_lie(name or path.name, sniffed.kind))
    return Detected(named, sniffed.kind)  # damaged or unknown content: the reader for its name says why


def _lie(name: str, kind: str) -> str:
    return f"named {Path(name).suffix} but its content is {kind}; read as that"

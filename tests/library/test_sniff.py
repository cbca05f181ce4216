"""Files recognised by their content when the name says nothing, or lies."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import sqlite3
import tarfile
from pathlib import Path

from rlm_desktop.library.detect import detect_format
from rlm_desktop.library.sniff import sniff_bytes, sniff_file, text_encoding

from .conftest import make_docx, make_pdf


def test_text_in_every_common_encoding():
    assert text_encoding("Grüße, naïve café\n".encode("utf-8")) == "utf-8"
    assert text_encoding("\ufeffUTF-16 with a BOM\n".encode("utf-16-le")) == "utf-16"
    assert text_encoding("UTF-16 without a BOM, little end\n".encode("utf-16-le")) == "utf-16-le"
    assert text_encoding("UTF-16 without a BOM, big end\n".encode("utf-16-be")) == "utf-16-be"
    assert text_encoding("Copyright \u00a9 1999 Société Générale\n".encode("latin-1")) == "cp1252"
    assert text_encoding(bytes(range(256)) * 4) is None


def test_binaries_are_named_by_their_kind(tmp_path: Path):
    db = tmp_path / "data"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    assert sniff_file(db).kind == "SQLite database"
    assert sniff_bytes(b"\x7fELF\x02\x01\x01" + bytes(200)).kind == "ELF executable"
    assert sniff_bytes(bytes([7, 200, 3, 0, 1, 255, 0, 0]) * 100).kind == "unknown binary"
    assert sniff_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04").format == "7z"


def test_documents_without_extension(tmp_path: Path):
    (tmp_path / "pdf").write_bytes(make_pdf(tmp_path / "a.pdf", ["Hello"]).read_bytes())
    (tmp_path / "word").write_bytes(make_docx(tmp_path / "a.docx").read_bytes())
    (tmp_path / "page").write_text("<!DOCTYPE html><html><body><p>Hi</p></body></html>", encoding="utf-8")
    (tmp_path / "mail").write_text("From: a@example.com\nTo: b@example.com\nSubject: Hello\n\nBody\n",
                                   encoding="utf-8")
    (tmp_path / "README").write_text("Subject: not a mail, a readme\n\nJust text.\n", encoding="utf-8")
    found = {name: detect_format(tmp_path / name).format for name in ("pdf", "word", "page", "mail", "README")}
    assert found == {"pdf": "pdf", "word": "docx", "page": "html", "mail": "email", "README": "text"}


def test_licence_names_with_a_dot_are_text(tmp_path: Path):
    for name in ("GPL-3", "MPL-2.0", "LGPL-2.1", "GFDL-1.3"):
        (tmp_path / name).write_text(f"{name} licence text\n", encoding="utf-8")
        assert detect_format(tmp_path / name).format == "text"


def test_a_misleading_extension_is_read_as_what_it_is(tmp_path: Path):
    fake = tmp_path / "report.pdf"
    fake.write_text("<html><body><h1>Quarterly report</h1></body></html>", encoding="utf-8")
    detected = detect_format(fake)
    assert detected.format == "html"
    assert detected.note == "named .pdf but its content is HTML; read as that"


def test_a_damaged_file_keeps_the_format_of_its_name(tmp_path: Path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes([7, 200, 3, 0, 1, 255, 0, 0]) * 100)
    assert detect_format(broken).format == "pdf"  # its reader then says why it cannot be read


def test_compressed_files_and_tars(tmp_path: Path):
    (tmp_path / "changelog.gz").write_bytes(gzip.compress(b"version 1.0\n"))
    (tmp_path / "NEWS.bz2").write_bytes(bz2.compress(b"news\n"))
    (tmp_path / "notes.xz").write_bytes(lzma.compress(b"notes\n"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    (tmp_path / "bundle").write_bytes(buffer.getvalue())
    assert [detect_format(tmp_path / n).format for n in ("changelog.gz", "NEWS.bz2", "notes.xz", "bundle")] \
        == ["gzip", "bzip2", "xz", "tar"]


def test_a_text_name_over_a_document_or_a_known_binary(tmp_path: Path):
    pdf = tmp_path / "minutes.txt"
    pdf.write_bytes(make_pdf(tmp_path / "m.pdf", ["Minutes"]).read_bytes())
    assert detect_format(pdf).format == "pdf" and detect_format(pdf).note.startswith("named .txt but")
    elf = tmp_path / "notes.md"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(300))
    assert detect_format(elf).format is None and detect_format(elf).kind == "ELF executable"


def test_legacy_encodings_are_text(tmp_path: Path):
    japanese = tmp_path / "README.ja"
    japanese.write_bytes(("これは日本語の説明書です。インストール方法は次のとおりです。\n" * 20).encode("shift_jis"))
    assert detect_format(japanese).format == "text"

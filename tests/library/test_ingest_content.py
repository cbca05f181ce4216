"""A real folder as it comes: files without extensions, compressed files, tars, icons and binaries."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import tempfile
from pathlib import Path

from PIL import Image

from rlm_desktop.library import Library


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz", extra: list[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return path


def _folder(root: Path) -> Path:
    docs = root / "doc" / "pkg"
    docs.mkdir(parents=True)
    (docs / "copyright").write_text("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
                                    "License: GPL-2+\n", encoding="utf-8")
    (docs / "README.Debian").write_text("Notes for Debian users of pkg.\n", encoding="utf-8")
    (docs / "GPL-3").write_text("GNU GENERAL PUBLIC LICENSE Version 3\n", encoding="utf-8")
    (docs / "notes.pdf").write_text("<html><body><p>Not a PDF at all, but a web page.</p></body></html>",
                                    encoding="utf-8")
    (docs / "utf16.txt").write_bytes("\ufeffWide text with a BOM: déjà vu\n".encode("utf-16-le"))
    (docs / "LATIN").write_bytes("Straße and façade, written in Latin-1\n".encode("latin-1"))
    (docs / "changelog.gz").write_bytes(gzip.compress(b"pkg (1.2-1) unstable; urgency=low\n  * New upstream.\n"))
    (docs / "NEWS.bz2").write_bytes(bz2.compress(b"News: the frobnicator is faster.\n"))
    (docs / "TODO.xz").write_bytes(lzma.compress(b"To do: write the manual.\n"))
    _tar(docs / "examples.tar.gz", {"examples/a/one.txt": b"Example one.\n",
                                    "examples/a/b/two.md": b"# Example two\n",
                                    "examples/data.csv.gz": gzip.compress(b"x,y\n1,2\n")})
    Image.new("RGB", (16, 16), "blue").save(docs / "icon.png")
    (docs / "tool").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(500))
    (docs / "blob.dat").write_bytes(bytes([7, 200, 3, 0, 1, 255, 0, 0]) * 200)
    return root / "doc"


def test_a_folder_of_unnamed_compressed_and_archived_files(library: Library, tmp_path: Path):
    report = library.ingest([_folder(tmp_path)], collection="docs")
    by_label = {r.label: r for r in report.files}
    for name in ("copyright", "README.Debian", "GPL-3", "notes.pdf", "utf16.txt", "LATIN", "changelog.gz",
                 "NEWS.bz2", "TODO.xz", "examples.tar.gz/examples/a/one.txt", "examples.tar.gz/examples/a/b/two.md",
                 "examples.tar.gz/examples/data.csv"):
        assert by_label[name].status == "stored", by_label[name]
    assert by_label["examples.tar.gz"].status == "archive"
    assert by_label["notes.pdf"].reason == "notes.pdf: named .pdf but its content is HTML; read as that"
    assert by_label["icon.png"].status == "skipped"
    assert by_label["icon.png"].reason == "icon.png: no text, the image is too small to hold any (16x16 pixels)"
    assert by_label["tool"].reason == "tool: not a document (ELF executable)"
    assert by_label["blob.dat"].reason == "blob.dat: not a document (unknown binary)"
    assert report.count("failed") == 0

    texts = {d.name: d.text for d in library.load_context("docs")}
    assert "changelog" in texts and "New upstream" in texts["changelog"]  # the document the .gz holds
    assert "frobnicator" in texts["NEWS"] and "manual" in texts["TODO"]
    assert "déjà vu" in texts["utf16.txt"] and "Straße and façade" in texts["LATIN"]
    assert "a web page" in texts["notes.pdf"]
    assert "1 | 2" in texts["examples.tar.gz/examples/data.csv"]
    assert library.search("frobnicator")[0]["document"] == "NEWS"


def test_rerun_finds_compressed_files_unchanged(library: Library, tmp_path: Path):
    folder = _folder(tmp_path)
    library.ingest([folder])
    again = library.ingest([folder])
    statuses = {r.label: r.status for r in again.files}
    assert statuses["changelog.gz"] == "unchanged"
    assert statuses["examples.tar.gz"] == "unchanged"


def test_a_tar_with_a_link_and_a_traversal_writes_nothing_outside(library: Library, tmp_path: Path, monkeypatch):
    link = tarfile.TarInfo("docs/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    escape = tarfile.TarInfo("../../escaped.txt")
    escape.size = 5
    device = tarfile.TarInfo("docs/null")
    device.type = tarfile.CHRTYPE
    (tmp_path / "upload").mkdir()
    evil = _tar(tmp_path / "upload" / "evil.tar", {"docs/ok.txt": b"A fine member.\n"}, mode="w",
                extra=[link, escape, device])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work))  # the ingest's private temporary folder goes here

    by_label = {r.label: r for r in library.ingest([evil]).files}
    assert by_label["evil.tar/docs/ok.txt"].status == "stored"
    assert by_label["evil.tar/docs/passwd"].status == "skipped"
    assert "link member refused" in by_label["evil.tar/docs/passwd"].reason
    assert by_label["evil.tar/docs/null"].status == "skipped"
    traversal = by_label["evil.tar/../../escaped.txt"]
    assert traversal.status == "failed" and "'..'" in traversal.reason
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file() and p.name != "library.db"
                  and not p.name.startswith("library.db")) == ["evil.tar"]
    assert list(work.iterdir()) == []  # the private temporary folder is gone too
    assert not (tmp_path.parent / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()


def test_a_tar_bomb_is_refused_by_ratio(library: Library, tmp_path: Path):
    bomb = _tar(tmp_path / "bomb.tar.xz", {"big.txt": b"A" * (40 * 1024 * 1024), "small.txt": b"fine\n"},
                mode="w:xz")
    by_label = {r.label: r for r in library.ingest([bomb]).files}
    assert by_label["bomb.tar.xz/small.txt"].status == "stored"
    assert "zip bomb" in by_label["bomb.tar.xz/big.txt"].reason


def test_a_gzip_bomb_is_refused(library: Library, tmp_path: Path):
    bomb = tmp_path / "huge.log.gz"
    with gzip.open(bomb, "wb") as f:
        for _ in range(40):
            f.write(b"\n" * (1024 * 1024))
    result = library.ingest([bomb]).files[0]
    assert result.status == "failed" and "zip bomb" in result.reason


def test_7z_is_skipped_with_what_to_do(library: Library, tmp_path: Path):
    archive = tmp_path / "room.7z"
    archive.write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(100))
    result = library.ingest([archive]).files[0]
    assert result.status == "skipped"
    assert "convert it to .zip or .tar.gz" in result.reason


def test_html_nested_too_deep_for_a_tree_is_still_read(library: Library, tmp_path: Path):
    page = tmp_path / "report.html"
    page.write_text("<table>" + "<tr><td>cell <b>bold</b>" * 5000 + "</table><script>skip()</script>",
                    encoding="utf-8")
    result = library.ingest([page], collection="r").files[0]
    assert result.status == "stored", result.reason
    text = library.load_context("r")[0].text
    assert "cell bold" in text and "skip()" not in text


def test_a_large_html_manual_is_read_without_its_tree(library: Library, tmp_path: Path):
    section = "<h2>fs.readFile(path)</h2><p>Reads the <code>whole</code> file.</p><script>var x = 1;</script>\n"
    page = tmp_path / "all.html"
    page.write_text("<html><body>" + section * 40_000 + "</body></html>", encoding="utf-8")
    assert page.stat().st_size > 3 * 1024 * 1024
    assert library.ingest([page], collection="m").files[0].status == "stored"
    text = "".join(library.load_context("m")[0].text)
    assert "Reads the whole file." in text and "var x" not in text and "fs.readFile(path)" in text

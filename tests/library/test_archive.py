"""ZIP archives: every member a document named by its path in the archive, with per-member limits."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

import pytest

from rlm_desktop.library import ArchiveLimits, IngestLimits, Library
from rlm_desktop.library.archive import normalise_member_name

from .conftest import PDF_PAGES, make_docx, make_pdf
from .dataroom_files import email_message, make_pptx, make_zip, zip_bytes


@pytest.fixture
def dataroom(tmp_path: Path) -> Path:
    parts = tmp_path / "parts"
    parts.mkdir()
    inner = zip_bytes({"side-letter.txt": b"Side letter: the escrow is released after 18 months.\n"})
    mail = email_message("Signed MSA", "The signed MSA is attached.",
                         attachments=[("msa-signed.pdf", "application/pdf",
                                       make_pdf(parts / "signed.pdf", ["Signed copy of the MSA."]).read_bytes())])
    return make_zip(tmp_path / "dataroom.zip", {
        "01 Corporate/minutes.txt": b"Board minutes: the board approved the sale to Buyer plc.\n",
        "02 Contracts/msa.pdf": make_pdf(parts / "msa.pdf", PDF_PAGES),
        "02 Contracts/spa.docx": make_docx(parts / "spa.docx"),
        "03 Management/deck.pptx": make_pptx(parts / "deck.pptx"),
        "04 Mail/signed msa.eml": mail.as_bytes(),
        "05 Nested/more.zip": inner,
        "06 Other/photo.bmp": b"BM" + os.urandom(64),
        "__MACOSX/._minutes.txt": b"resource fork",
    })


def test_every_member_becomes_a_document_named_by_its_path(library: Library, dataroom: Path):
    report = library.ingest([dataroom], collection="heron")
    by_label = {r.label: r for r in report.files}
    assert by_label["dataroom.zip"].status == "archive"
    for member in ("01 Corporate/minutes.txt", "02 Contracts/msa.pdf", "02 Contracts/spa.docx",
                   "03 Management/deck.pptx", "04 Mail/signed msa.eml", "05 Nested/more.zip/side-letter.txt",
                   "04 Mail/signed msa.eml/msa-signed.pdf"):
        assert by_label[f"dataroom.zip/{member}"].status == "stored", by_label[f"dataroom.zip/{member}"]
    assert by_label["dataroom.zip/06 Other/photo.bmp"].status == "skipped"
    assert not any("__MACOSX" in label for label in by_label)

    names = {d.name: d for d in library.documents("heron")}
    msa = names["dataroom.zip/02 Contracts/msa.pdf"]
    assert msa.pages == 3 and msa.unit == "page"
    archive = names["dataroom.zip"]
    assert archive.status == "archive" and msa.parent_id == archive.id
    assert names["dataroom.zip/05 Nested/more.zip/side-letter.txt"].parent_id == names["dataroom.zip/05 Nested/more.zip"].id
    assert dict((m, d.name) for m, d in library.members(archive.id))["02 Contracts/msa.pdf"] == msa.name
    # The archive is not text for the RLM; its members are.
    context = {d.name for d in library.load_context("heron")}
    assert "dataroom.zip" not in context and "dataroom.zip/02 Contracts/msa.pdf" in context
    # Selecting the archive means selecting its members.
    selected = {d.name for d in library.load_context(doc_ids=[archive.id])}
    assert "dataroom.zip/01 Corporate/minutes.txt" in selected and "dataroom.zip/05 Nested/more.zip/side-letter.txt" in selected


def test_search_and_grep_cite_the_member_path_and_page(library: Library, dataroom: Path):
    library.ingest([dataroom], collection="heron")
    hit = library.search("indemnifies third party claims", collection="heron")[0]
    assert (hit["document"], hit["page"]) == ("dataroom.zip/02 Contracts/msa.pdf", 3)
    slide = library.grep(r"48,500,000", collection="heron")[0]
    assert (slide["document"], slide["page"]) == ("dataroom.zip/03 Management/deck.pptx", 2)


def test_rerun_reads_no_stored_member_again(library: Library, dataroom: Path, monkeypatch):
    library.ingest([dataroom], collection="heron")
    again = library.ingest([dataroom], collection="deal")
    assert [(r.label, r.status) for r in again.files] == [("dataroom.zip", "unchanged")]
    assert {d.name for d in library.documents("deal")} == {d.name for d in library.documents("heron")}

    # A member changed: only that member is read; the others are known by size and CRC-32.
    read: list[str] = []
    from rlm_desktop.library import ingest as ingest_module
    real_copy = ingest_module.copy_member
    monkeypatch.setattr(ingest_module, "copy_member",
                        lambda archive, member, *a, **k: (read.append(member.name), real_copy(archive, member, *a, **k))[1])
    with zipfile.ZipFile(dataroom, "a") as archive:
        archive.writestr("01 Corporate/resolution.txt", "Resolution: the sale is approved.\n")
    statuses = {r.label: r.status for r in library.ingest([dataroom], collection="heron").files}
    assert read == ["01 Corporate/resolution.txt"]
    assert statuses["dataroom.zip/01 Corporate/resolution.txt"] == "stored"
    assert statuses["dataroom.zip/02 Contracts/msa.pdf"] == "unchanged"
    assert statuses["dataroom.zip/05 Nested/more.zip"] == "unchanged"


def test_removing_the_archive_removes_its_members(library: Library, dataroom: Path):
    library.ingest([dataroom], collection="heron")
    archive = next(d for d in library.documents() if d.name == "dataroom.zip")
    library.remove_document(archive.id)
    assert library.documents() == []
    assert library.db.execute("SELECT count(*) FROM pages").fetchone()[0] == 0


def test_archive_inside_a_dropped_folder(library: Library, dataroom: Path, tmp_path: Path):
    folder = tmp_path / "export"
    folder.mkdir()
    dataroom.rename(folder / "dataroom.zip")
    report = library.ingest([folder])
    assert any(r.label == "dataroom.zip/02 Contracts/msa.pdf" and r.status == "stored" for r in report.files)


def _bad_names_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("good.txt", "This member is fine.\n")
        archive.writestr("../escape.txt", "tries to leave the archive\n")
        archive.writestr("/etc/evil.txt", "absolute path\n")
        archive.writestr("folder/../../up.txt", "more escaping\n")
        archive.writestr("Report.txt", "first report\n")
        archive.writestr("report.TXT", "collides with the first one on a case-insensitive disk\n")
    return path


def test_names_that_escape_or_collide_are_refused_and_nothing_is_written_outside(
        library: Library, tmp_path: Path, monkeypatch):
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp_root))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    work = tmp_path / "work"
    work.mkdir()
    archive = _bad_names_zip(work / "names.zip")
    before = {p for p in tmp_path.rglob("*")}
    report = library.ingest([archive])
    by_label = {r.label: r for r in report.files}
    assert by_label["names.zip/good.txt"].status == "stored"
    assert "outside the archive" in by_label["names.zip/../escape.txt"].reason
    assert "absolute path" in by_label["names.zip//etc/evil.txt"].reason
    assert "outside the archive" in by_label["names.zip/folder/../../up.txt"].reason
    assert by_label["names.zip/Report.txt"].status == "stored"
    assert "collides" in by_label["names.zip/report.TXT"].reason
    after = {p for p in tmp_path.rglob("*")}
    created = {p for p in after - before if not p.name.startswith("library.db")}
    assert created == set()  # the private temporary folder is gone and nothing escaped it
    assert not (tmp_path / "escape.txt").exists() and not Path("/etc/evil.txt").exists()


def test_zip_bomb_members_are_refused_by_ratio_and_total(library: Library, tmp_path: Path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("readme.txt", "An honest member.\n")
        with archive.open("zeros.txt", "w", force_zip64=True) as member:
            for _ in range(40):
                member.write(b"\0" * (1 << 20))
    report = library.ingest([path])
    by_label = {r.label: r for r in report.files}
    assert by_label["bomb.zip/readme.txt"].status == "stored"
    assert "compression ratio" in by_label["bomb.zip/zeros.txt"].reason
    assert "zip bomb" in by_label["bomb.zip/zeros.txt"].reason

    small = Library.open(tmp_path / "small.db", limits=IngestLimits(
        archive=ArchiveLimits(max_total_bytes=10, max_members=5)))
    with small:
        many = make_zip(tmp_path / "many.zip", {f"n{i}.txt": b"note %d\n" % i for i in range(7)})
        by_label = {r.label: r for r in small.ingest([many]).files}
        assert by_label["many.zip/n0.txt"].status == "stored"
        assert "more than 10 bytes" in by_label["many.zip/n1.txt"].reason
        assert "more than 5 files" in by_label["many.zip/n6.txt"].reason


def test_nesting_depth_is_bounded(library: Library, tmp_path: Path):
    data = zip_bytes({"deep.txt": b"four levels down\n"})
    for level in range(3):
        data = zip_bytes({f"level{level}.zip": data})
    path = tmp_path / "nested.zip"
    path.write_bytes(data)
    report = library.ingest([path])
    failed = [r for r in report.files if r.status == "failed"]
    assert len(failed) == 1
    assert failed[0].label == "nested.zip/level2.zip/level1.zip/level0.zip"
    assert "nested more than 3 deep" in failed[0].reason


def _encrypted_zip(path: Path) -> Path:
    """A zip whose second member has the 'encrypted' flag set (traditional PKWARE encryption)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("open.txt", "Readable member.\n")
        archive.writestr("secret.txt", "x" * 40)
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature, data.find(signature) + 1)  # the second member's headers
        flags = struct.unpack_from("<H", data, position + flag_offset)[0]
        struct.pack_into("<H", data, position + flag_offset, flags | 0x1)
    path.write_bytes(bytes(data))
    return path


def test_encrypted_member_and_corrupt_archive(library: Library, tmp_path: Path):
    encrypted = _encrypted_zip(tmp_path / "locked.zip")
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04" + os.urandom(3000))
    good = tmp_path / "memo.txt"
    good.write_text("A memo that is fine.\n", encoding="utf-8")
    report = library.ingest([encrypted, corrupt, good])
    by_label = {r.label: r for r in report.files}
    assert by_label["locked.zip/open.txt"].status == "stored"
    assert "encrypted" in by_label["locked.zip/secret.txt"].reason
    assert by_label["corrupt.zip"].status == "failed"
    assert by_label["corrupt.zip"].reason.startswith("corrupt.zip: not a valid ZIP archive")
    assert by_label["memo.txt"].status == "stored"


def test_damaged_member_data_fails_that_member_only(library: Library, tmp_path: Path):
    path = make_zip(tmp_path / "damaged.zip", {"a.txt": b"First member text.\n" * 50,
                                               "b.txt": b"Second member text.\n" * 50})
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x03\x04")
    header_len = 30 + struct.unpack_from("<H", data, start + 26)[0] + struct.unpack_from("<H", data, start + 28)[0]
    for i in range(start + header_len + 2, start + header_len + 12):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    by_label = {r.label: r for r in library.ingest([path]).files}
    assert by_label["damaged.zip/a.txt"].status == "failed"
    assert by_label["damaged.zip/a.txt"].reason.startswith("damaged.zip/a.txt: ")
    assert by_label["damaged.zip/b.txt"].status == "stored"


def test_member_names_are_normalised():
    assert normalise_member_name("a\\b/./c.txt") == ("a/b/c.txt", None)
    assert normalise_member_name("C:/x.txt")[1] is not None
    assert normalise_member_name("a/../../b")[1] is not None

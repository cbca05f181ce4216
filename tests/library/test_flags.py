"""Ingest flags documents that carry passages written to steer an AI, and text a reader cannot see."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import sqlite_utils

from rlm_desktop.cli import main
from rlm_desktop.library import Library
from rlm_desktop.library.db import MIGRATIONS
from rlm_desktop.eval.injection_corpus import CLOSING_MEMO, variants, write_variant_file

REALDOCS = Path(__file__).resolve().parents[2] / "resources" / "eval" / "realdocs" / "documents"
FILE_VARIANTS = [v for v in variants() if v.family == "carrier"] + [v for v in variants() if v.family != "carrier"][::4]


@pytest.mark.parametrize("v", FILE_VARIANTS, ids=lambda v: v.name)
def test_every_planted_file_is_flagged_with_its_passage(tmp_path: Path, v):
    path = write_variant_file(v, tmp_path / "room")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([path])
        (doc,) = lib.documents()
        flags = lib.document_flags(doc.id)
        assert doc.flags == len(flags) >= 1
        assert any(f.is_instruction for f in flags)
        text = "".join(p["text"] for p in lib.pages(doc.id))
        passages = [text[f.start:f.end] if f.start is not None else f.excerpt for f in flags]
        assert any(v.demanded in p for p in passages), passages


@pytest.mark.parametrize("carrier, why", [("pdf-white", "white text in the PDF"),
                                          ("docx-hidden", "a hidden run in the Word document"),
                                          ("html-comment", "an HTML comment"),
                                          ("html-hidden", "a hidden HTML element"),
                                          ("zero-width", "invisible characters")])
def test_text_a_reader_cannot_see_is_flagged_as_hidden(tmp_path: Path, carrier, why):
    v = next(v for v in variants() if v.carrier == carrier)
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([write_variant_file(v, tmp_path / "room")])
        flags = lib.document_flags(lib.documents()[0].id)
    assert any(why in f.reason for f in flags), [f.reason for f in flags]


def test_a_passage_split_over_a_pdf_page_break_is_one_flag_from_page_one(tmp_path: Path):
    v = next(v for v in variants() if v.name == "pages-split")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([write_variant_file(v, tmp_path / "room")])
        doc = lib.documents()[0]
        flags = [f for f in lib.document_flags(doc.id) if f.is_instruction]
        text = "".join(p["text"] for p in lib.pages(doc.id))
    assert doc.pages == 2 and len(flags) == 1 and flags[0].page == 1
    assert v.demanded in text[flags[0].start:flags[0].end]


def test_white_text_that_gives_no_order_is_still_flagged_hidden(tmp_path: Path):
    from rlm_desktop.eval.injection_corpus import _write_pdf

    path = tmp_path / "memo.pdf"
    _write_pdf(path, pages=[["Closing memo. The escrow is set out in clause 10."]], hidden="The escrow is EUR 1.")
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([path])
        (flag,) = lib.document_flags(lib.documents()[0].id)
    assert flag.kind == "hidden_text" and "white text" in flag.reason and flag.excerpt == "The escrow is EUR 1."


def test_the_real_licence_files_are_stored_without_a_flag(tmp_path: Path):
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([REALDOCS])
        documents = lib.documents()
        assert len(documents) >= 40
        assert {d.name: lib.document_flags(d.id) for d in documents if d.flags} == {}


def test_rlm_library_list_and_show_warn_about_a_flagged_document(tmp_path: Path, capsys):
    db = str(tmp_path / "lib.db")
    room = tmp_path / "room"
    write_variant_file(variants()[0], room)
    (room / "closing_memo.md").write_text(CLOSING_MEMO, encoding="utf-8")
    main(["ingest", str(room), "--library", db, "-q"])
    capsys.readouterr()
    assert main(["library", "list", "--library", db]) == 0
    listing = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(listing) if "vendor_notice.md" in line)
    assert "WARNING: 1 passage written to steer an AI" in listing[at + 1]
    assert "IMPORTANT INSTRUCTION TO ANY AI SYSTEM" in listing[at + 2]
    memo = next(i for i, line in enumerate(listing) if "closing_memo.md" in line)
    assert memo + 1 == len(listing) or "WARNING" not in listing[memo + 1]
    assert main(["library", "show", "vendor_notice.md", "--library", db]) == 0
    assert "WARNING" in capsys.readouterr().out


def _old_library(path: Path) -> None:
    """A library as the release before flags wrote it: schema 3, one planted and one clean document."""
    db = sqlite_utils.Database(sqlite3.connect(str(path)))
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied REAL NOT NULL)")
    for version, migration in enumerate(MIGRATIONS[:3], start=1):
        migration(db)
        db.execute("INSERT INTO schema_version (version, applied) VALUES (?, ?)", [version, time.time()])
    for name, text in [("vendor_notice.md", variants()[0].passage), ("closing_memo.md", CLOSING_MEMO)]:
        doc_id = db["documents"].insert({"name": name, "path": f"/old/{name}", "sha256": name, "size": len(text),
                                         "format": "markdown", "unit": "section", "pages": 1, "chars": len(text),
                                         "status": "stored", "ingested": time.time()}).last_pk
        db.execute("INSERT INTO pages (doc_id, page, start, text) VALUES (?, 1, 0, ?)", [doc_id, text])
    db.conn.commit()
    db.conn.close()


def test_an_existing_library_migrates_keeping_its_documents_and_is_flagged_from_their_text(tmp_path: Path):
    path = tmp_path / "old.db"
    _old_library(path)
    with Library.open(path) as lib:
        names = sorted(d.name for d in lib.documents())
        assert names == ["closing_memo.md", "vendor_notice.md"]
        assert lib.search("escrow", 5)  # the full-text index came along
        assert lib.check_flags() == 2 and lib.check_flags() == 0
        flagged = {d.name: d.flags for d in lib.documents()}
    assert flagged == {"closing_memo.md": 0, "vendor_notice.md": 1}

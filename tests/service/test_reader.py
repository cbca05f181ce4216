"""What the servers' read tools hand a client's model: a passage written to steer it, quoted as data."""

from __future__ import annotations

from pathlib import Path

from rlm_desktop.instructions import QUOTE_OPEN
from rlm_desktop.library import Library
from rlm_desktop.service.reader import LibraryReader
from rlm_desktop.eval.injection_corpus import CLOSING_MEMO, variants, write_variant_file


def _reader(tmp_path: Path) -> tuple[Library, LibraryReader]:
    planted = write_variant_file(variants()[0], tmp_path / "room")
    memo = tmp_path / "room" / "closing_memo.md"
    memo.write_text(CLOSING_MEMO, encoding="utf-8")
    library = Library.open(tmp_path / "lib.db")
    library.ingest([planted, memo], collection="room")
    return library, LibraryReader(library)


def test_read_page_and_search_quote_the_passage_and_documents_warn(tmp_path: Path):
    library, reader = _reader(tmp_path)
    with library:
        page = reader.read_page("vendor_notice.md", 1)
        assert f"{QUOTE_OPEN}IMPORTANT INSTRUCTION TO ANY AI SYSTEM" in page["text"]
        assert page["warnings"] and "page 1" in page["warnings"][0]
        clean = reader.read_page("closing_memo.md", 1)
        assert QUOTE_OPEN not in clean["text"] and clean["warnings"] == []
        hits = reader.search("room", "escrow", 5)
        assert any(QUOTE_OPEN in h["snippet"] for h in hits if h["document"] == "vendor_notice.md")
        listed = {d["name"]: d["warnings"] for d in reader.documents("room")}
        assert listed["closing_memo.md"] == [] and listed["vendor_notice.md"]

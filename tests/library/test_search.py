from __future__ import annotations

from rlm_desktop.library import Library

from .conftest import PDF_PAGES


def test_search_finds_the_right_page_with_a_span_into_the_document(library: Library, good_files):
    library.ingest(list(good_files.values()), collection="deal")
    hits = library.search("indemnifies third party claims", k=3)
    top = hits[0]
    assert (top["document"], top["page"]) == ("msa.pdf", 3)
    document = next(d for d in library.load_context("deal") if d.name == "msa.pdf")
    assert document.text[top["start"]:top["end"]].lower() == "indemnifies"
    assert document.page_at(top["start"]) == 3
    assert "indemnifies the customer" in top["snippet"]
    assert top["score"] > 0


def test_search_ranks_by_bm25_and_falls_back_to_any_word(library: Library, tmp_path):
    (tmp_path / "a.txt").write_text("escrow escrow escrow release conditions\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("escrow mentioned once among many other words here\n", encoding="utf-8")
    library.ingest([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert [h["document"] for h in library.search("escrow")] == ["a.txt", "b.txt"]
    # No page holds both words: the OR fallback still answers.
    assert {h["document"] for h in library.search("escrow nonexistentword")} == {"a.txt", "b.txt"}


def test_search_is_safe_with_fts_syntax_and_can_be_scoped(library: Library, good_files):
    ids = {r.path.name: r.doc_id for r in library.ingest(list(good_files.values())).files}
    assert library.search('payment AND "terms" OR (NEAR') != []
    assert library.search("") == []
    assert library.search("merger", doc_ids=[ids["msa.pdf"]]) == []
    assert library.search("merger", doc_ids=[ids["notes.html"]])[0]["document"] == "notes.html"
    assert library.search("Gen*")[0]["document"] == "memo-latin1.txt"  # prefix query


def test_grep_returns_the_right_page(library: Library, good_files):
    library.ingest([good_files["pdf"], good_files["xlsx"]], collection="deal")
    hits = library.grep(r"thirty\s+days")
    assert [(h["document"], h["page"]) for h in hits] == [("msa.pdf", 2)]
    document = library.load_context(doc_ids=[hits[0]["doc_id"]])[0]
    assert document.text[hits[0]["start"]:hits[0]["end"]] == "thirty days"
    assert document.page_text(2).startswith(PDF_PAGES[1])
    sheet_hits = library.grep("First Bank", collection="deal")
    assert [(h["document"], h["page"]) for h in sheet_hits] == [("schedule.xlsx", 2)]


def test_removed_document_leaves_search_and_context(library: Library, good_files):
    report = library.ingest([good_files["pdf"], good_files["docx"]], collection="deal")
    library.remove_document(report.files[0].doc_id)
    assert library.search("indemnifies") == []
    assert [d.name for d in library.load_context("deal")] == ["spa.docx"]

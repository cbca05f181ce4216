"""The aggregation questions: the RLM's context holds every document, whole, with page boundaries."""

from __future__ import annotations

import re

from rlm_desktop.library import Library


def test_load_context_gives_all_60_contracts_with_their_text(library: Library, write_contracts):
    folder, counts = write_contracts(60)
    report = library.ingest([folder], collection="contracts")
    assert report.count("stored") == 60

    context = library.load_context("contracts")
    assert len(context) == 60
    assert [d.name for d in context] == sorted(p.name for p in folder.iterdir())
    for document in context:
        assert document.text == (folder / document.name).read_text(encoding="utf-8")
        assert document.doc_id is not None
        assert document.page_starts[0] == 0 and len(document.page_starts) >= 1
    # Counting over the context answers what top-k retrieval cannot.
    law = re.compile(r"governed by the laws of the State of ([A-Z][a-z]+(?: [A-Z][a-z]+)?)")
    found: dict[str, int] = {}
    for document in context:
        state = law.search(document.text).group(1)
        found[state] = found.get(state, 0) + 1
    assert found == counts


def test_long_documents_have_page_boundaries_that_match_their_pages(library: Library, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("".join(f"Paragraph {i}: " + "text " * 40 + "\n" for i in range(500)), encoding="utf-8")
    doc_id = library.ingest([path]).files[0].doc_id
    document = library.load_context(doc_ids=[doc_id])[0]
    pages = library.pages(doc_id)
    assert len(pages) > 10 and document.page_count == len(pages)
    for page in pages:
        assert document.page_text(page["page"]) == page["text"]
    offset = document.text.index("Paragraph 321:")
    assert "Paragraph 321:" in pages[document.page_at(offset) - 1]["text"]

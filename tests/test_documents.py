"""Citation labels name the document (an archive member by its path) and the page or slide."""

from __future__ import annotations

from rlm_desktop.documents import Citation, Document


def test_citation_label_names_member_path_and_page_or_slide():
    assert Citation("room.zip/02 Contracts/msa.pdf", 3, 0, 5).label() == "room.zip/02 Contracts/msa.pdf, page 3"
    assert Citation("room.zip/deck.PPTX", 2, 0, 5).label() == "room.zip/deck.PPTX, slide 2"
    assert Citation("board.odp", 1, 0, 5).label() == "board.odp, slide 1"


def test_context_texts_gives_one_text_per_document():
    from rlm_desktop.documents import context_texts
    assert context_texts("one text") == ["one text"]
    assert context_texts(["a", "b"]) == ["a", "b"]
    assert context_texts([Document("x.md", "first"), Document("y.md", "second")]) == ["first", "second"]

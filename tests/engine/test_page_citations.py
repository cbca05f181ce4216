"""Page numbers in a written answer's source notes are checked against the documents and the run's hits."""

from __future__ import annotations

from rlm_desktop.documents import Document
from rlm_desktop.engine.page_citations import correct_page_citations

SPA = Document("01_spa.md", "3.2 The Buyer shall pay EUR 43,650,000 to the Seller and EUR 4,850,000 into escrow.")
MSA = Document("02_msa.md", "4.1 Minimum Annual Purchase of EUR 6,000,000 in each Contract Year.")
LEASE = Document.from_pages("lease.pdf", ["Parties: Granite Quay.", "Rent: GBP 212,000 a year.",
                                          "Deposit: GBP 53,000.", "Signed in Aberdeen."])


def hit(document: str, page: int) -> dict:
    return {"document": document, "page": page, "snippet": "", "source": "grep"}


def test_a_page_of_a_one_page_document_becomes_page_1():
    answer = ("No. The escrow, EUR 4,850,000 (01_spa.md, page 3), is smaller than the minimum annual purchase, "
              "EUR 6,000,000 (02_msa.md, page 4).")
    fixed = correct_page_citations(answer, [SPA, MSA], [hit("01_spa.md", 1), hit("02_msa.md", 1)])
    assert fixed == answer.replace("page 3", "page 1").replace("page 4", "page 1")


def test_the_page_holding_the_quoted_figure_wins():
    answer = "The rent is GBP 212,000 a year (lease.pdf, page 3)."
    assert correct_page_citations(answer, [LEASE], [hit("lease.pdf", 3)]) == answer.replace("page 3", "page 2")


def test_a_page_past_the_end_becomes_the_one_page_the_hits_showed():
    answer = "The tenant is Granite Quay (lease.pdf, page 9)."
    assert correct_page_citations(answer, [LEASE], [hit("lease.pdf", 1)]).endswith("(lease.pdf, page 1).")


def test_a_right_or_undecidable_page_is_left_as_written():
    right = "The deposit is GBP 53,000 (lease.pdf, page 3)."
    assert correct_page_citations(right, [LEASE], [hit("lease.pdf", 3)]) == right
    unknown = "It was signed in Aberdeen (lease.pdf, page 2)."  # two pages shown, no figure: nothing to go on
    assert correct_page_citations(unknown, [LEASE], [hit("lease.pdf", 1), hit("lease.pdf", 4)]) == unknown
    other = "See (unknown.md, page 7)."
    assert correct_page_citations(other, [LEASE], []) == other


def test_without_documents_nothing_changes():
    answer = "42 (context, page 5)"
    assert correct_page_citations(answer, "a single string", []) == answer
    assert correct_page_citations(answer, ["one", "two"], []) == answer


def test_a_note_naming_two_documents_fixes_each():
    answer = "Both (01_spa.md, page 2, 02_msa.md, page 5)."
    fixed = correct_page_citations(answer, [SPA, MSA], [])
    assert fixed == "Both (01_spa.md, page 1, 02_msa.md, page 1)."


def test_a_figure_cited_to_the_wrong_document_points_to_the_one_that_holds_it():
    answer = ("The escrow, EUR 4,850,000 (02_msa.md, page 1), is smaller than the minimum, "
              "EUR 6,000,000 (01_spa.md, page 4).")
    fixed = correct_page_citations(answer, [SPA, MSA], [])
    assert fixed == ("The escrow, EUR 4,850,000 (01_spa.md, page 1), is smaller than the minimum, "
                     "EUR 6,000,000 (02_msa.md, page 1).")

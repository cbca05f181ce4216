"""Documents a question names by their file names, and the block a check question is given to run first."""

from __future__ import annotations

from rlm_desktop.documents import Document
from rlm_desktop.engine.named_documents import key_words, name_words, named_documents
from rlm_desktop.engine.prompts import check_program, first_messages

MEMO = Document(name="05_diligence_memo.md", text="1.1 Based on the 2023 accounts, Kestrel represents roughly a "
                "quarter of Halvard's revenue.\n2. Confirm Kestrel's share of revenue against the 2024 schedule.")
SPA = Document(name="01_share_purchase_agreement.md", text="The Escrow Amount is EUR 4,850,000. Kestrel consent.")
LEASE = Document(name="04_office_lease_harbour_point.md", text="The annual rent is EUR 212,000.")
TABLE = Document(name="06_revenue_by_customer_2024.csv", text="customer | revenue_eur_2024\n"
                 "Kestrel Shipping A/S | 7420000\nNordhavn Distribution | 3100000\nOthers | 12960000")
DOCS = [SPA, LEASE, MEMO, TABLE]


def test_name_words_drop_numbers_and_the_extension() -> None:
    assert name_words("05_diligence_memo.md") == ["diligence", "memo"]
    assert name_words("reports/Q3-Board-Minutes.PDF") == ["q", "board", "minute"]


def test_a_document_is_named_by_two_words_of_its_name_together_not_by_a_generic_word() -> None:
    assert named_documents("Does the diligence memo state the revenue share correctly?", DOCS) == [(2, MEMO)]
    assert named_documents("Is the escrow in the share purchase agreement larger?", DOCS) == [(0, SPA)]
    assert named_documents("When does the office lease end?", DOCS) == [(1, LEASE)]
    assert named_documents("What share of the revenue is Kestrel's?", DOCS) == []   # "share" alone names nothing
    assert named_documents("Which agreement has an escrow?", DOCS) == []
    assert named_documents("Does the memo say so?", "plain text context") == []


def test_key_words_are_the_question_words_the_document_holds_names_first() -> None:
    assert key_words("Does the diligence memo state the Kestrel revenue share correctly?", MEMO) == [
        "Kestrel", "revenue", "share"]
    assert key_words("Is the escrow in the share purchase agreement larger than the rent?", SPA) == ["escrow"]


def test_a_check_question_on_a_named_document_gets_a_block_that_reads_it_and_a_second_source() -> None:
    name, block = check_program("Does the diligence memo state the Kestrel revenue share correctly?", DOCS)
    assert name == "05_diligence_memo.md"
    assert 'grep(r"Kestrel|revenue|share", context[2])' in block
    assert "print(share_of(context[3], 'Kestrel'))" in block  # the share, from the table that mentions Kestrel
    name, block = check_program("Does the diligence memo state the Kestrel consent correctly?", DOCS)
    assert "search('Kestrel consent', k=6)" in block and "h.document != '05_diligence_memo.md'" in block
    assert check_program("What does the diligence memo say about Kestrel?", DOCS) is None  # not a check
    message = first_messages("Does the diligence memo state the Kestrel revenue share correctly?", DOCS, "S")[-1]
    assert "Run this block first" in message["content"] and "print(share_of(context[3], 'Kestrel'))" in message["content"]

"""Parties by their defined terms, and which questions ask for them."""

from __future__ import annotations

from rlm_desktop.sandbox.parties import defined_party, defined_term, party_request

AGREEMENT = ('This Licence Agreement (the "Agreement") is made on 5 April 2022 (the "Effective Date") between Kenmare '
             'Textiles plc (the "Company") and Rydal Foods S.A. (the "Counterparty").\n\n7. Change of control. The '
             "Counterparty may terminate this Agreement with immediate effect if the Company undergoes a change of control.")
LEASE = ("OFFICE LEASE\nBetween Granite Quay Properties AS (\u201cLandlord\u201d) and Halvard Holding AS, "
         "(the \u201cTenant\u201d). The Tenant may sublet with consent.")
SUPPLY = ('This Supply Agreement is made between Kenmare Textiles plc (the "Company") and Orwell Foods Ltd '
          '(the "Counterparty").\n\n7. Assignment. Neither party may assign this Agreement.')


def test_the_party_a_document_defines_as_a_term_is_read_up_to_the_definition() -> None:
    party = defined_party(AGREEMENT, "Counterparty")
    assert party is not None and party.name == "Rydal Foods S.A."
    assert AGREEMENT[party.start:party.end] == 'Rydal Foods S.A. (the "Counterparty")'
    assert defined_party(AGREEMENT, "company").name == "Kenmare Textiles plc"
    assert defined_party(LEASE, "Landlord").name == "Granite Quay Properties AS"
    assert defined_party(LEASE, "Tenant").name == "Halvard Holding AS"
    assert defined_party(AGREEMENT, "Buyer") is None


def test_a_term_counts_as_defined_when_two_documents_define_it() -> None:
    assert defined_term([AGREEMENT, SUPPLY], "counterparties") == "Counterparty"
    assert defined_term([AGREEMENT, LEASE], "counterparties") is None


def test_a_which_parties_question_gives_the_term_and_the_longest_run_of_its_words_the_documents_write() -> None:
    texts = [AGREEMENT, SUPPLY]
    asked = party_request("Which counterparties may terminate their agreement if the company undergoes a change of "
                          "control? List their names.", texts)
    assert (asked.term, asked.phrase) == ("Counterparty", "company undergoes a change of control")
    assert asked.pattern == r"company\s+undergoes\s+a\s+change\s+of\s+control"
    assert party_request("List the counterparties that may terminate on a change of control.", texts).phrase == \
        "change of control"
    # a negated question, a second question, another form, or no run of words written: no request
    assert party_request("Which counterparties may not terminate on a change of control?", texts) is None
    assert party_request("Which counterparty may terminate on a change of control, and what is its fee?", texts) is None
    assert party_request("What is the escrow amount agreed with the buyer?", texts) is None
    assert party_request("Which counterparties hold a patent licence?", texts) is None

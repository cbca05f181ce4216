"""The starter pair over documents no generator wrote, asked in a user's own words.

Real Qwen2.5-Coder 1.5B (root) and 0.5B (sub) on llama.cpp, temperature 0, over real licence texts
(resources/eval/realdocs) and over short realistic contracts written here with the variety of real
drafting (amounts before or after the word, per year or annual, one lease in another currency,
distractors that mention rent without charging it).
"""

from __future__ import annotations

import re

import pytest

from rlm_desktop.documents import Document
from rlm_desktop.engine import RLM, RLMConfig

pytestmark = pytest.mark.slow

LEASES = [
    Document("lease_harbour_street.md",
             "LEASE AGREEMENT\n\n1. Parties. Northwind Estates Ltd (the Landlord) and Quillon Software GmbH (the "
             "Tenant).\n\n2. Premises. Third floor, 12 Harbour Street, Hamburg.\n\n3. Rent. The Tenant shall pay "
             "an annual rent of EUR 212,000, payable quarterly in advance.\n\n4. Term. Five years from 1 April "
             "2025.\n\n5. Termination. Either party may terminate on six months' written notice after the second "
             "year."),
    Document("lease_canal_offices.md",
             "OFFICE LEASE\n\nBetween Brightwater Property BV (Landlord) and Quillon Software GmbH (Tenant).\n\n"
             "Clause 4 - Payment. The Tenant pays rent of EUR 540,000 per year, in twelve equal monthly "
             "instalments.\n\nClause 7 - Change of control. If the Tenant is acquired by, or merges with, another "
             "company, the Landlord may terminate this lease on three months' notice.\n\nClause 9 - Term. Ten "
             "years."),
    Document("warehouse_lease_leeds.md",
             "WAREHOUSE LEASE\n\nLandlord: Pennine Logistics Parks plc. Tenant: Quillon Software GmbH.\n\n"
             "Yearly rent: GBP 96,500, reviewed every third year in line with inflation.\n\nThe lease runs until "
             "31 December 2031. The Tenant may not assign the lease without consent."),
    Document("board_minutes_june.md",
             "MINUTES OF THE BOARD, 12 JUNE 2025\n\nThe board discussed whether rent levels in Hamburg justify a "
             "move. The CFO noted that no rent is payable for the Munich showroom, which the founder lends to "
             "the company free of charge. The audit of the 2024 accounts was carried out by Holm & Partner."),
    Document("supply_agreement_nordic.md",
             "SUPPLY AGREEMENT\n\nBetween Nordic Mills AS (Supplier) and Quillon Software GmbH (Customer).\n\n"
             "Fees: EUR 18,000 per month.\n\nTermination: the Supplier may terminate this agreement if the "
             "Customer undergoes a change of control.\n\nGoverning law: Norway."),
    Document("holm_partner_profile.md",
             "HOLM & PARTNER - FIRM PROFILE\n\nHolm & Partner is an audit firm based in Bremen. Its managing "
             "partner is Dr. Katrin Vogel, who has led the firm since 2019. The firm audits about forty "
             "mid-sized companies."),
]


def run(pair, question, context):
    root, sub = pair
    return RLM(root, sub, RLMConfig(max_iterations=6, max_seconds=600)).run(question, context)


def test_a_question_the_documents_do_not_answer_is_said_to_be_not_stated(pair):
    result = run(pair, "What is the liability cap in the warehouse lease?", LEASES)
    assert "not stated" in result.answer.casefold(), result.answer


def real_documents(*names):
    """Files of the real-document corpus (licence texts nobody on this project wrote; resources/eval/realdocs)."""
    from rlm_desktop.eval.tasks import realdocs

    by_name = {document.name: document for document in realdocs.documents()}
    return [by_name[name] for name in names]


def test_a_list_over_real_licence_texts_names_each_one_that_answers_and_no_other(pair):
    texts = real_documents("GPL-1", "GPL-2", "GPL-3", "LGPL-2.1", "LGPL-3")
    result = run(pair, "Which of these GNU licences date from 2007?", texts)
    answer = result.answer
    assert re.search(r"(?<![L\w])GPL-3|(?<!Lesser )General Public License,? [Vv]ersion 3", answer), answer
    assert re.search(r"LGPL-3|Lesser General Public License,? [Vv]ersion 3", answer), answer
    assert not any(wrong in answer for wrong in ("GPL-1", "GPL-2", "2.1", "1989", "1991", "1999")), answer

"""extract() and filter() in the real sandbox, with a scripted sub-model answering in their JSON."""

from __future__ import annotations

import json

from rlm_desktop.documents import Document
from rlm_desktop.sandbox import SandboxSession

LEASES = [
    Document("lease_berlin.md", "Lease of the Berlin office. The Tenant pays a rent of EUR 540,000 per year, "
             "payable monthly in advance. Either party may end the lease on six months' notice."),
    Document("lease_leeds.md", "Lease of the Leeds warehouse. Annual rent: GBP 310,000. The landlord insures."),
    Document("lease_lyon.md", "Bail commercial, Lyon. The yearly rent is EUR 120,000 and is indexed each year."),
    Document("minutes.md", "Board minutes. The board noted the office move and thanked the staff."),
]


def _answers(by_document: dict[str, object], seen: list) -> dict:
    """A sub-model that answers each passage with the JSON given for its document (a str is sent as it is)."""
    def llm_extract(mode: str, question: str, passages: list[str]) -> list:
        seen.append((mode, question, passages))
        out = []
        for passage in passages:
            name = passage.split("\n", 1)[0].removeprefix("Document: ").split(",")[0]
            answer = by_document.get(name, {"quote": "", "value": "", "unit": ""} if mode == "extract"
                                     else {"quote": "", "answer": "no"})
            out.append(answer if answer is None or isinstance(answer, str) else json.dumps(answer))
        return out
    return {"llm_extract": llm_extract}


def _run(code: str, answers: dict, seen: list | None = None, docs=LEASES):
    with SandboxSession(docs, host_functions=_answers(answers, seen if seen is not None else [])) as session:
        return session.run(code)


def test_extract_keeps_rows_whose_quote_is_on_the_page_and_totals_per_currency_in_code():
    answers = {
        "lease_berlin.md": {"quote": "The Tenant pays a rent of EUR 540,000 per year", "value": "540,000", "unit": "EUR"},
        "lease_leeds.md": {"quote": "annual rent: GBP 310,000.", "value": "GBP 310,000", "unit": ""},
        "lease_lyon.md": {"quote": "The yearly rent is EUR 120,000 and is indexed each year.", "value": "120,000",
                          "unit": "EUR"},
    }
    result = _run("rows = extract('What is the annual rent?', context)\nprint(rows)\nprint(rows.total())\n"
                  "print(len(rows), rows.documents(), rows.max().document)", answers)
    assert result.error is None, result.error
    lines = result.output.splitlines()
    assert lines[0] == "[extract: read 4 passages of 4 documents; 3 rows kept; 1 do not state it]"
    assert lines[1] == 'lease_berlin.md p1: 540,000 EUR | "The Tenant pays a rent of EUR 540,000 per year"'
    assert "EUR 660,000 (2 documents); GBP 310,000 (1 document)" in result.output
    assert "3 ['lease_berlin.md', 'lease_leeds.md', 'lease_lyon.md'] lease_berlin.md" in result.output
    cited = [hit for hit in result.hits if hit["source"] == "extract" and hit.get("total")]
    assert {hit["document"] for hit in cited} == {"lease_berlin.md", "lease_leeds.md", "lease_lyon.md"}
    berlin = next(hit for hit in result.hits if hit["document"] == "lease_berlin.md")
    assert LEASES[0].text[berlin["start"]:berlin["end"]] == "The Tenant pays a rent of EUR 540,000 per year"


def test_an_invented_quote_and_a_value_not_in_its_quote_are_dropped_and_counted():
    answers = {
        "lease_berlin.md": {"quote": "The Tenant pays EUR 900,000 each year.", "value": "900,000", "unit": "EUR"},
        "lease_leeds.md": {"quote": "Annual rent: GBP 310,000.", "value": "GBP 410,000", "unit": ""},
        "lease_lyon.md": {"quote": "the YEARLY   rent is eur 120,000", "value": "EUR 120,000", "unit": ""},
    }
    result = _run("rows = extract('What is the annual rent?', context)\nprint(rows)", answers)
    assert result.error is None, result.error
    assert result.output.splitlines()[0] == ("[extract: read 4 passages of 4 documents; 1 rows kept; 1 do not state "
                                             "it; dropped: 1 quote not on the page, 1 value not in its quote]")
    assert "lease_lyon.md p1: EUR 120,000" in result.output  # case and spacing aside, the quote is on the page
    assert "900,000" not in result.output


def test_an_answer_that_is_not_json_and_a_failed_sub_call_fail_their_row_not_the_run():
    answers = {"lease_berlin.md": "The rent is EUR 540,000.", "lease_leeds.md": None,
               "lease_lyon.md": {"quote": "The yearly rent is EUR 120,000", "value": "EUR 120,000", "unit": ""}}
    result = _run("rows = extract('What is the annual rent?', context)\nprint(rows)", answers)
    assert result.error is None, result.error
    assert "dropped: 1 not JSON, 1 answer failed" in result.output.splitlines()[0]
    assert "lease_lyon.md p1: EUR 120,000" in result.output


def test_an_operator_given_no_documents_says_so():
    result = _run("rows = extract('What is the rent?', [d for d in context if d.name == 'none.md'])", {})
    assert result.error is not None and "documents is empty; an earlier step found nothing to read" in result.error
    result = _run("print(filter('is a lease', grep('no such words anywhere')))", {})
    assert result.error is not None and "documents is empty" in result.error


def test_filter_keeps_the_documents_it_holds_for_with_a_checked_quote_and_composes_with_extract():
    seen: list = []
    answers = {"lease_berlin.md": {"quote": "Lease of the Berlin office.", "answer": "yes"},
               "lease_leeds.md": {"quote": "Lease of the Leeds warehouse.", "answer": "no"},
               "lease_lyon.md": {"quote": "A lease of offices in Lyon.", "answer": "yes"}}  # not on the page
    result = _run("offices = filter('the document is a lease of an office', context)\nprint(offices)\n"
                  "print(len(offices))\nprint(list(filter(None, [0, 1, 2])))", answers, seen)
    assert result.error is None, result.error
    lines = result.output.splitlines()
    assert lines[0] == ("[filter: read 4 passages of 4 documents; 1 documents where it holds; 3 said no; dropped: "
                        "1 quote not on the page]")
    assert lines[1].startswith("lease_berlin.md p1: yes")
    assert lines[2:] == ["1", "[1, 2]"]  # Python's own filter still works
    assert seen[0][0] == "filter" and seen[0][1] == "the document is a lease of an office"


def test_filter_rows_given_to_extract_read_those_documents_only():
    seen: list = []
    answers = {"lease_berlin.md": {"quote": "Lease of the Berlin office.", "answer": "yes"}}
    result = _run("offices = filter('is a lease of an office', context)\n"
                  "rows = extract('What is the annual rent?', offices)\nprint(rows.summary())", answers, seen)
    assert result.error is None, result.error
    assert [len(passages) for _, _, passages in seen] == [4, 1]
    assert seen[1][2][0].startswith("Document: lease_berlin.md, page 1\n<text>\n")


def test_extract_over_hits_reads_the_text_around_each_hit_on_its_page():
    pages = "Page one is about parking." + " filler" * 200 + "\fThe deposit is EUR 75,000 on signing."
    doc = Document("lease.md", pages.replace("\f", ""), page_starts=(0, pages.index("\f")))
    seen: list = []
    answers = {"lease.md": {"quote": "The deposit is EUR 75,000 on signing.", "value": "75,000", "unit": "EUR"}}
    result = _run("rows = extract('How much is the deposit?', grep('deposit'))\nprint(rows)", answers, seen,
                  docs=[doc])
    assert result.error is None, result.error
    assert seen[0][2] == ["Document: lease.md, page 2\n<text>\nThe deposit is EUR 75,000 on signing.\n</text>"]
    assert "lease.md p2: 75,000 EUR" in result.output


def test_documents_sharing_no_word_with_the_question_are_left_out_and_the_output_says_so():
    seen: list = []
    result = _run("rows = extract('What is the yearly rent?')\nprint(rows.summary())", {}, seen)
    assert result.error is None, result.error
    assert [p.split(",")[0] for p in seen[0][2]] == ["Document: lease_berlin.md", "Document: lease_leeds.md",
                                                     "Document: lease_lyon.md"]  # the minutes never say rent
    assert "1 documents share no word with the question and were not read" in result.output


def test_an_amount_is_read_from_its_quote_wherever_the_currency_stands_in_the_sentence():
    docs = [Document("lease_canal.md", "Clause 4 - Payment. The Tenant pays annual rent of EUR 540,000 per year, "
                     "in twelve equal monthly instalments.")]
    answers = {"lease_canal.md": {"quote": "The Tenant pays annual rent of EUR 540,000 per year", "value": "540,000",
                                  "unit": "per year"}}
    result = _run("rows = extract('What rent is charged?', context)\nprint(rows.total())", answers, docs=docs)
    assert result.error is None, result.error
    assert "EUR 540,000 (1 document)" in result.output


def test_rows_without_money_total_their_numbers_per_unit_written_in_digits_or_words():
    docs = [Document("licence_a.txt", "A Front-Cover Text may be at most five words. Notice must be given "
                     "within 30 days."),
            Document("licence_b.txt", "You have sixty days after notice to comply."),
            Document("licence_c.txt", "A Back-Cover Text may be at most 25 words.")]
    answers = {"licence_a.txt": {"quote": "Notice must be given within 30 days.", "value": "30 days", "unit": ""},
               "licence_b.txt": {"quote": "You have sixty days after notice", "value": "sixty", "unit": "days"},
               "licence_c.txt": {"quote": "at most 25 words", "value": "25", "unit": "words"}}
    result = _run("rows = extract('How long is the period?', context)\nprint(rows.total())\n"
                  "print(rows.max().document, rows[1].number)", answers, docs=docs)
    assert result.error is None, result.error
    assert "90 days (2 documents); 25 words (1 document)" in result.output
    assert "licence_b.txt 60.0" in result.output
    cited = {hit["document"] for hit in result.hits if hit["source"] == "extract" and hit.get("total")}
    assert cited == {"licence_a.txt", "licence_b.txt", "licence_c.txt"}


def test_a_total_of_rows_with_money_leaves_out_rows_that_give_only_a_number():
    answers = {"lease_berlin.md": {"quote": "The Tenant pays a rent of EUR 540,000 per year", "value": "540,000",
                                   "unit": "EUR"},
               "lease_leeds.md": {"quote": "The landlord insures.", "value": "none stated", "unit": ""},
               "lease_lyon.md": {"quote": "indexed each year", "value": "1 year", "unit": ""}}
    result = _run("rows = extract('What is the annual rent?', context)\nprint(rows.total())", answers)
    assert result.error is None, result.error
    assert "EUR 540,000 (1 document); 1 row without an amount left out" in result.output

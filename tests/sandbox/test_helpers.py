"""What the REPL offers: Doc objects, grep/search/cite hits with pages, chunk, SHOW_VARS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rlm_desktop.documents import Document
from rlm_desktop.sandbox import HELPER_NAMES, SandboxSession

LEASE = Document.from_pages("lease.pdf", [
    "Lease agreement between Alpha GmbH and Beta Ltd.",
    "The monthly rent is 4,200 EUR, payable in advance.",
    "Termination requires six months notice in writing.",
], doc_id=11)
NOTES = Document("notes.txt", "Call Beta about the rent review in March.", doc_id=12)


@pytest.fixture(scope="module")
def repl() -> Iterator[SandboxSession]:
    with SandboxSession([LEASE, NOTES]) as session:
        yield session


def test_documents_are_str_objects_with_name_and_pages(repl: SandboxSession) -> None:
    result = repl.run(
        "d = context[0]\n"
        "print(isinstance(d, str), isinstance(d, Doc), d.name, d.doc_id, len(d.pages))\n"
        "print(d.count('rent'), d.pages[1].strip())\n"
        "print(d.page_at(d.find('Termination')), d.page(3)[:11])\n"
        "context"
    )
    assert result.error is None, result.error
    lines = result.output.splitlines()
    assert lines[0] == "True True lease.pdf 11 3"
    assert lines[1] == "1 The monthly rent is 4,200 EUR, payable in advance."
    assert lines[2] == "3 Termination"
    assert lines[3] == "[Doc(name='lease.pdf', chars=%d, pages=3), Doc(name='notes.txt', chars=%d, pages=1)]" % (
        len(LEASE.text), len(NOTES.text))


def test_grep_returns_hits_on_the_right_page(repl: SandboxSession) -> None:
    result = repl.run("hits = grep(r'rent')\nhits")
    assert result.error is None
    assert [(h["document"], h["page"], h["source"]) for h in result.hits] == [
        ("lease.pdf", 2, "grep"), ("notes.txt", 1, "grep")]
    first = result.hits[0]
    assert LEASE.text[first["start"]:first["end"]] == "rent"
    assert first["doc_id"] == 11 and "4,200 EUR" in first["snippet"]
    assert "Hit(doc='lease.pdf', page=2, span=(" in result.output


def test_grep_hit_attributes_and_limits(repl: SandboxSession) -> None:
    result = repl.run("h = grep('BETA', context_chars=5)[0]\n"
                      "print(h.document, h.page, h.snippet)\n"
                      "print(len(grep('e', max_hits=3)), len(grep('BETA', ignore_case=False)))")
    assert result.output.splitlines() == ["lease.pdf 1 GmbH and Beta Ltd.", "3 0"]  # whole words


def test_search_ranks_passages_and_reports_pages(repl: SandboxSession) -> None:
    result = repl.run("best = search('termination notice', k=2)\nbest[0].document, best[0].page")
    assert result.error is None
    assert result.output.strip() == "('lease.pdf', 3)"
    assert result.hits[0]["source"] == "search" and result.hits[0]["page"] == 3


def test_search_uses_the_host_search_when_given() -> None:
    calls: list = []

    def library_search(query: str, k: int = 10) -> list[dict]:
        calls.append((query, k))
        return [{"document": "lease.pdf", "doc_id": 11, "page": 2, "start": 5, "end": 9,
                 "snippet": "rent", "score": 3.5}]

    with SandboxSession([LEASE], host_functions={"search": library_search}) as session:
        result = session.run("search('rent', k=3)")
    assert calls == [("rent", 3)]
    assert result.output.strip() == "[Hit(doc='lease.pdf', page=2, span=(5, 9), snippet='rent')]"
    assert result.hits[0]["page"] == 2


def test_cite_records_a_hit(repl: SandboxSession) -> None:
    result = repl.run("c = cite('lease.pdf', 2, quote='4,200 EUR')\n"
                      "h = grep('six months')[0]\n"
                      "cite(h)\n"
                      "c")
    cited = [h for h in result.hits if h["source"] == "cite"]
    assert len(cited) == 2
    assert cited[0]["page"] == 2 and LEASE.text[cited[0]["start"]:cited[0]["end"]] == "4,200 EUR"
    assert cited[1]["page"] == 3
    assert "Hit(doc='lease.pdf', page=2" in result.output


def test_cite_of_an_unknown_document_lists_the_known_ones(repl: SandboxSession) -> None:
    result = repl.run("cite('contract.pdf', 1)")
    assert "no document named 'contract.pdf'" in result.error and "'lease.pdf'" in result.error


def test_chunk_cuts_with_overlap(repl: SandboxSession) -> None:
    result = repl.run("chunk('abcdefghij', 4, overlap=1)")
    assert result.output.strip() == "['abcd', 'defg', 'ghij']"
    whole = repl.run("pieces = chunk(context, 20)\n''.join(pieces[:len(chunk(context[0], 20))]) == context[0]")
    assert whole.output.strip() == "True"
    assert "size must be a positive int" in repl.run("chunk('abc', 0)").error


def test_show_vars_lists_user_variables(repl: SandboxSession) -> None:
    repl.run("rows = [1, 2, 3]\nlabel = 'rent'")
    result = repl.run("SHOW_VARS()")
    assert "rows: list, 3 items" in result.output
    assert "label: str, 4 chars" in result.output
    assert "context" not in result.variables and "rows" in result.variables


def test_list_of_strings_context() -> None:
    with SandboxSession(["alpha beta", "gamma beta"]) as session:
        result = session.run("[(h.document, h.start) for h in grep('beta')]")
    assert result.output.strip() == "[('context[0]', 6), ('context[1]', 6)]"


def test_cite_finds_a_quote_that_runs_over_a_page_break(repl: SandboxSession) -> None:
    result = repl.run("cite('lease.pdf', 1, quote='Beta Ltd.\\n\\nThe monthly rent')")
    cited = result.hits[-1]
    assert result.error is None
    assert cited["page"] == 1 and LEASE.text[cited["start"]:cited["end"]].endswith("The monthly rent")


def local_grep(**texts: str) -> tuple:
    """``grep`` over documents named by keyword (``spa_md=...`` is "spa.md"), and the notes it writes."""
    from rlm_desktop.sandbox.helpers import ReplHelpers, Source

    written: list[str] = []

    class Writer:
        def write(self, text: str) -> None:
            written.append(text)

    sources = [Source(name.replace("_", "."), text, (0,), None) for name, text in texts.items()]
    helpers = ReplHelpers(sources, call_host=lambda *a: None, host_names=[], on_hit=lambda hit: None,
                          on_final=lambda answer: None, namespace={}, writer=Writer)
    return helpers.functions()["grep"], written


def test_grep_returns_one_hit_per_passage():
    grep, _written = local_grep(spa_md="The escrow agent holds the Escrow Amount in an escrow account. "
                                + "filler " * 100 + "escrow again")
    hits = grep("escrow", context_chars=80)
    assert len(hits) == 2 and hits[1].snippet.endswith("escrow again")


def test_grep_snippets_never_cut_a_number_or_word_in_two():
    grep, _written = local_grep(lease_md="2.1 The annual rent is GBP 212,000 payable quarterly in advance on the "
                                         "usual quarter days.")
    snippet = grep("rent", context_chars=13)[0].snippet
    assert snippet == "2.1 The annual rent is GBP 212,000"


def test_a_phrase_found_nowhere_returns_the_passages_that_best_match_its_words():
    memo = ("1.1 The largest customer is Kestrel Shipping. Based on the 2023 accounts, Kestrel represents "
            "roughly a quarter of the revenue. " + "Other findings follow. " * 30)
    grep, written = local_grep(lease_md="The lease of the Aberdeen office runs to 2030. " * 10, memo_md=memo)
    hits = grep("Kestrel revenue share", context_chars=120)
    assert [h.document for h in hits] == ["memo.md"]
    assert "Kestrel represents roughly a quarter of the revenue" in hits[0].snippet
    assert "best match its words" in "".join(written)
    assert grep("zebra crossing") == []  # no word of it anywhere: still nothing


def test_a_few_grep_hits_show_the_clause_around_them_and_many_hits_a_line():
    bsd = ("Redistribution and use in source and binary forms, with or without modification, are permitted "
           "provided that the following conditions are met:\n1. Redistributions of source code must retain the "
           "above copyright notice.\n2. Redistributions in binary form must reproduce the above copyright notice."
           "\n3. Neither the name of the author nor the names of contributors may be used to endorse products.")
    grep, _written = local_grep(bsd_txt=bsd, notes_md="A condition of sale. " * 40)
    few = grep("following conditions")
    assert len(few) == 1 and "3. Neither the name" in few[0].snippet
    assert "3. Neither" not in grep("following conditions", context_chars=80)[0].snippet  # as the call asks
    many = grep("condition")
    assert len(many) > 3 and all(len(h.snippet) <= 2 * 80 + 40 for h in many)


def test_a_word_found_nowhere_is_looked_for_by_its_stem():
    zlib = ("Permission is granted to anyone to use this software for any purpose, and to alter it and "
            "redistribute it freely, subject to the following restrictions:")
    grep, written = local_grep(zlib_copyright=zlib)
    hits = grep("redistribution")
    assert len(hits) == 1 and "redistribute it freely" in hits[0].snippet
    assert "looser pattern 'redistribut\\\\w*'" in "".join(written)


def test_a_phrase_found_nowhere_in_the_documents_given_ranks_their_passages_only():
    other = "The inline size limit of the office sign applies. " * 10  # outranks every passage of lgpl.txt
    lgpl = ("If such an object file uses only numerical parameters, data structure layouts and accessors, "
            "and small macros and small inline functions (ten lines or less in length), then the use of "
            "the object file is unrestricted. ") + "Other terms follow. " * 30
    grep, _written = local_grep(**{f"lease_{i}_md": other for i in range(150)}, lgpl_txt=lgpl)
    hits = grep("inline size limit", documents=["lgpl.txt"])
    assert hits and {h.document for h in hits} == {"lgpl.txt"}
    assert "ten lines or less" in hits[0].snippet


def test_search_snippets_show_the_window_where_the_rarer_query_words_are():
    from rlm_desktop.sandbox.helpers import best_excerpt

    text = ("The shares are held by the Seller. " * 12 + "3.1 The Purchase Price for the shares is EUR 48,500,000. "
            + "The shares carry votes. " * 12)
    excerpt = best_excerpt(text, {"shares": 0.1, "purchase": 2.0, "price": 2.0}, width=120)
    assert "Purchase Price for the shares is EUR 48,500,000" in excerpt
    assert len(excerpt) <= 140  # the width, widened to whole words


def test_each_phrase_of_an_alternation_must_find_something():
    spa = "3.2 The Buyer shall pay EUR 4,850,000 (the Escrow Amount) into the Escrow Account. " * 2
    msa = ("4.1 The Customer shall purchase Products of not less than EUR 6,000,000 in each Contract Year "
           "(the Minimum Annual Purchase). " + "General terms apply. " * 40)
    grep, written = local_grep(spa_md=spa, msa_md=msa)
    hits = grep("escrow|kestrel minimum annual purchase", context_chars=100)
    assert {h.document for h in hits} == {"spa.md", "msa.md"}
    assert any("6,000,000" in h.snippet for h in hits if h.document == "msa.md")
    assert "'kestrel minimum annual purchase'" in "".join(written)
    written.clear()
    assert {h.document for h in grep("escrow|minimum annual")} == {"spa.md", "msa.md"}
    assert written == []  # both matched: no fallback, no note
    assert [h.document for h in grep(r"escrow\s+amount|zzz")] == ["spa.md"]  # a real regex is left alone


def test_grep_in_one_document_given_where_context_chars_goes(repl: SandboxSession) -> None:
    result = repl.run("print([h.document for h in grep('rent', context[1])])\n"
                      "print([h.document for h in grep('rent', documents=['lease.pdf'], context_chars=10)])\n"
                      "print(len(grep('rent', 20)))\n"
                      "grep('rent', 2.5)")
    assert result.output.splitlines()[:3] == ["['notes.txt']", "['lease.pdf']", "2"]
    assert "documents must be a document such as context[0]" in result.error


def test_grep_given_documents_joined_by_plus_searches_each_of_them() -> None:
    with SandboxSession([LEASE, NOTES]) as session:
        result = session.run("print(sorted({h.document for h in grep('rent', context[0] + context[1])}))")
        mixed = session.run("grep('rent', context[0] + 'extra text')")
    assert result.error is None, result.error
    assert result.output.splitlines()[-1] == "['lease.pdf', 'notes.txt']"
    assert "give a list, e.g. [context[3], context[7]]" in result.output
    assert "documents must be a document such as context[0]" in (mixed.error or "")


def test_grep_given_the_whole_context_searches_all_of_it() -> None:
    with SandboxSession("Filler text. The special magic number for hollow-sparrow is 5683113. More filler.") as one:
        result = one.run("print([h.page for h in grep(r'special magic number', context)])")
    assert result.error is None and result.output.strip() == "[1]"
    with SandboxSession([LEASE, NOTES]) as many:
        result = many.run("print(sorted({h.document for h in grep('rent', context)}))")
    assert result.output.strip() == "['lease.pdf', 'notes.txt']"


def test_classify_asks_each_distinct_text_once_and_answers_in_order() -> None:
    calls: list = []

    def llm_classify(texts: list[str], labels: list[str], examples: list) -> list[str]:
        calls.append((list(texts), list(labels)))
        assert examples in ([], [["rent due", "money"]])
        return ["other" if "notice" in text or "Beta" in text else "money" for text in texts]

    with SandboxSession([LEASE, NOTES], host_functions={"llm_classify": llm_classify}) as session:
        result = session.run(
            "items = ['the rent is due', 'call Beta', 'the rent is due', context[1]]\n"
            "print(classify(items, ['money', 'other']))\n"
            "print(classify(grep('notice'), ('money', 'other'), examples=[('rent due', 'money')]))\n")
        refused = session.run("classify('the rent is due', ['money', 'other'])")
    assert result.error is None, result.error
    assert result.output.splitlines() == ["['money', 'other', 'money', 'other']", "['other']"]
    assert calls[0] == (["the rent is due", "call Beta", NOTES.text], ["money", "other"])
    assert len(calls) == 2 and "notice" in calls[1][0][0]  # a hit is classified by its snippet
    assert "texts must be a list" in (refused.error or "")


def test_classify_is_refused_where_the_run_has_no_sub_model(repl: SandboxSession) -> None:
    result = repl.run("classify(['a', 'b'], ['x', 'y'])")
    assert "classify() needs llm_query" in (result.error or "")


def test_grep_and_search_take_documents_after_the_pattern_with_keywords_too(repl: SandboxSession) -> None:
    result = repl.run("print([h.document for h in grep('rent', context[1:], context_chars=10)])\n"
                      "print([h.document for h in search('rent review', context[0])])\n"
                      "print([h.document for h in search('rent', 1)])\n"
                      "grep('rent', context[0], context[1])")
    assert result.output.splitlines()[:3] == ["['notes.txt']", "['lease.pdf']", "['notes.txt']"]
    assert "documents given twice" in result.error


REVENUE = Document("revenue_2024.csv", "customer | country | revenue_eur\nKestrel A/S | Denmark | 7420000\n"
                   "Nordhavn AB | Sweden | 3,915,000\nOther (41) | Various | 2900000.5\n", doc_id=13)
WORKBOOK = Document.from_pages("loans.xlsx", ["# Sheet: Loans\nLender | Amount\nFirst Bank | 1000000\n\n",
                                               "# Sheet: Leases\nProperty | Rent\n12 High Street | 4500\n"])


def test_table_reads_a_stored_table_back_as_rows_with_numbers() -> None:
    with SandboxSession([LEASE, REVENUE, WORKBOOK]) as session:
        result = session.run(
            "rows = table(context[1])\n"
            "total = sum(r['revenue_eur'] for r in rows)\n"
            "kestrel = [r for r in rows if r['customer'].startswith('Kestrel')][0]\n"
            "print(len(rows), total, round(100 * kestrel['revenue_eur'] / total, 1), rows[1]['country'])\n"
            "print(table('loans.xlsx'))")
        refused = session.run("table(context[0])")
        missing = session.run("table(context[1])[0]['supplier']")
    assert result.error is None, result.error
    assert result.output.splitlines() == [
        "3 14235000.5 52.1 Sweden",
        "[{'sheet': 'Loans', 'Lender': 'First Bank', 'Amount': 1000000}, "
        "{'sheet': 'Leases', 'Property': '12 High Street', 'Rent': 4500}]"]
    assert [(h["document"], h["page"], h["source"]) for h in result.hits][:1] == [("revenue_2024.csv", 1, "table")]
    assert "lease.pdf is not a table" in (refused.error or "")
    assert "no column 'supplier'; the columns are 'customer', 'country', 'revenue_eur'" in (missing.error or "")


CHAIN = [Document("audit.txt", "Nordic Mills supplies flour to bakeries. Holm & Co have audited Nordic Mills since 2015.",
                  doc_id=21),
         Document.from_pages("holm.txt", ["Profile: Holm & Co.", "Eva Lind is the managing partner of Holm & Co."],
                             doc_id=22)]


def _reader(calls: list) -> dict:
    """A scripted reader: answers from the sentences it is shown, as a careful model would."""
    def llm_answer(question: str, sentences: str) -> str:
        calls.append((question, sentences))
        if "audits it" in question and "Holm & Co have audited it" in sentences:
            return "Holm & Co."
        if "managing partner of it" in question and "Eva Lind" in sentences:
            return "Eva Lind"
        if "bank" in question:
            return "Fjord Bank"  # a name no sentence holds
        return "NONE"
    return {"llm_answer": llm_answer}


def test_ask_returns_nothing_for_an_answer_the_sentences_do_not_hold_and_says_why() -> None:
    calls: list = []
    with SandboxSession(CHAIN, host_functions=_reader(calls)) as session:
        invented = session.run("print(repr(ask('Which bank lends to Holm & Co?', 'Holm & Co')))")
        missing = session.run("print(repr(ask('Who audits Kranvik?', 'Kranvik')))")
        empty = session.run("ask('Who chairs it?', '')")
        a_document = session.run("ask('Who audits Nordic Mills?', context[0])")
        no_reader_calls = len(calls)
    assert invented.output.splitlines()[-1] == "''"
    assert "do not answer 'Which bank lends to Holm & Co?'" in invented.output
    assert "- Eva Lind is the managing partner of Holm & Co. (holm.txt, page 2)" in invented.output
    assert len([c for c in calls if "bank" in c[0]]) == 2  # tried with the subject written "it", then as written
    assert "no sentence of the documents mentions 'Kranvik'" in missing.output and missing.output.endswith("''\n")
    assert "about is empty" in (empty.error or "")
    assert "use ask_pages(question, [doc])" in (a_document.error or "")
    assert no_reader_calls == 2


def test_ask_is_refused_where_the_run_has_no_sub_model(repl: SandboxSession) -> None:
    result = repl.run("ask('Who pays the rent?', 'rent')")
    assert "ask() needs llm_query" in (result.error or "")


def test_classify_given_no_examples_has_them_written_prints_them_and_uses_them() -> None:
    written: list = []

    def llm_examples(labels: list[str], samples: list[str]) -> list[list[str]]:
        written.append((list(labels), list(samples)))
        return [["rent is late", "money"], ["phone Beta", "other"]]

    def llm_classify(texts: list[str], labels: list[str], examples: list) -> list[str]:
        assert examples in ([["rent is late", "money"], ["phone Beta", "other"]], [["rent due", "money"]])
        return ["money" if "rent" in text else "other" for text in texts]

    host = {"llm_classify": llm_classify, "llm_examples": llm_examples}
    with SandboxSession([LEASE, NOTES], host_functions=host) as session:
        result = session.run("print(classify(['the rent is due', 'call Beta', 'the rent is due'], ['money', 'other']))")
        given = session.run("print(classify(['call Beta'], ['money', 'other'], examples=[('rent due', 'money')]))")
    assert result.error is None, result.error
    assert result.output.splitlines() == [
        "[classify: no examples were given, so these were written: 'rent is late' -> money; "
        "'phone Beta' -> other]", "['money', 'other', 'money']"]
    assert written == [(["money", "other"], ["the rent is due", "call Beta"])]  # distinct texts, spread
    assert given.error is None and given.output.strip() == "['other']" and len(written) == 1  # examples given: none written


def test_helper_names_are_the_repl_functions() -> None:
    with SandboxSession("text") as session:
        pairs = ", ".join(f"({name!r}, {name})" for name in HELPER_NAMES)
        result = session.run(f"print(sorted(n for n, f in [{pairs}] if callable(f)))")
    assert result.error is None and result.output.strip() == repr(sorted(HELPER_NAMES))


"""A "not stated" answer that denies a mention the printed output shows is refused."""

from __future__ import annotations

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Document
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.denied_mentions import denied_but_shown, denied_terms
from rlm_desktop.sandbox import SandboxLimits

OPENSSL = ("Files: *\nCopyright: 1998-2021 The OpenSSL Project\nLicense: Apache-2.0\n\n"
           "Files: external/perl/Text-Template-1.56/*\nCopyright: 2013, Mark Jason Dominus <mjd@cpan.org>.\n"
           "License: Artistic or GPL-1+\n")


def test_the_terms_an_answer_says_are_not_mentioned():
    assert denied_terms("Not stated in the documents: the OpenSSL copyright does not mention Text-Template. "
                        "The Apache-2.0 licence is mentioned.") == ["Text-Template"]
    assert denied_terms('Not stated: the file does not contain the word "redistribution".') == ["redistribution"]
    assert denied_terms("Not stated: there is no mention of an escrow amount in any document.") == ["escrow amount"]
    assert denied_terms("Not stated: GPL-1 and GPL-2 are not mentioned.") == ["GPL-1 and GPL-2", "GPL-1", "GPL-2"]
    assert denied_terms("Not stated in the documents: nothing answers it.") == []


def test_a_denied_term_counts_only_where_a_printed_hit_shows_it():
    hit = {"document": "openssl.copyright", "page": 1, "snippet": "Files: external/perl/Text-Template-1.56/*\n"
           "Copyright: 2013, Mark Jason Dominus", "source": "grep"}
    answer = "Not stated in the documents: the OpenSSL copyright does not mention Text-Template."
    printed = "1\nopenssl.copyright 1 Files: external/perl/Text-Template-1.56/*\nCopyright: 2013, Mark Jason Dominus"
    denied = denied_but_shown(answer, [hit], [printed])
    assert denied is not None and (denied.document, denied.page, denied.term) == ("openssl.copyright", 1,
                                                                                 "Text-Template")
    assert denied_but_shown(answer, [hit], ["1\n"]) is None  # found but never printed: the claim is not refuted
    longer = denied_but_shown(answer.replace("Text-Template.", "Text-Template Perl."), [hit], [printed])
    assert longer is not None and longer.term == "Text-Template"  # its name shown, the word after it not
    assert denied_but_shown("Not stated: it does not mention the copyright owner.", [hit], [printed]) is None
    assert denied_but_shown("Not stated: it does not mention an escrow.", [hit], [printed]) is None


def run_scripted(document: Document, turns: list[str], question: str) -> tuple[ScriptedModel, object]:
    """The root's ``turns`` over one document: (the scripted root, the run's result)."""
    root = ScriptedModel(turns)
    result = RLM(root, config=RLMConfig(sandbox=SandboxLimits(timeout_s=20.0))).run(question, [document])
    return root, result


def show_hits(call: str) -> str:
    return f"Read.\n```repl\nfor h in {call}:\n    print(h.document, h.page, h.snippet)\n```"


def test_the_engine_prints_more_of_the_page_when_an_answer_denies_a_mention_it_printed():
    root, result = run_scripted(Document("openssl.copyright", OPENSSL), [
        show_hits("grep('Text-Template', context_chars=40)"),
        "FINAL(Not stated in the documents: the OpenSSL copyright does not mention Text-Template.)",
        "FINAL(Artistic or GPL-1+ (openssl.copyright, page 1))"], "Which licences cover the Text-Template module?")
    seen = root.calls[2]
    assert "you say the documents do not mention 'Text-Template'" in seen[-1]["content"]
    assert "License: Artistic or GPL-1+" in seen[-1]["content"]  # more of the page, printed by the engine
    assert all("does not mention Text-Template" not in m["content"] for m in seen)  # the refused answer taken back
    assert result.answer.startswith("Artistic or GPL-1+")
    cells = [e.code for e in result.trajectory if e.kind == "code_cell"]
    assert len(cells) == 2 and "doc.lower().find('text-template')" in cells[1]


def test_an_answer_saying_the_search_found_nothing_under_printed_passages_is_answered_again():
    mpl = ("8.1. This License and the rights granted hereunder will terminate automatically if You fail to comply "
           "with terms herein and fail to cure such breach within 30 days of becoming aware of the breach.")
    root, result = run_scripted(Document("MPL-1.1", mpl), [
        show_hits("search('breach cure', k=3)"),
        "FINAL(Not stated in the documents: a search for breach, cure found nothing.)",
        "FINAL(30 days (MPL-1.1, page 1))"], "How many days does MPL 1.1 give to cure a breach?")
    assert "your answer says the search found nothing, but the output above shows 1 passage" in \
        root.calls[2][-1]["content"]
    assert all("found nothing.)" not in m["content"] for m in root.calls[2])  # the refused answer taken back
    assert result.answer.startswith("30 days")

"""grep puts the hits about the question first when the engine gives the REPL its question."""

from __future__ import annotations

from rlm_desktop.documents import Document
from rlm_desktop.sandbox import SandboxSession
from rlm_desktop.sandbox.relevance import QuestionFocus

FILLER = "The harbour was quiet and the gulls circled over the old market square. " * 3
DOCS = [
    Document("a.txt", f"{FILLER}Pelvar Works acquired Rhorho Dynamics in 2015. {FILLER}"),
    Document("b.txt", f"{FILLER}Talks in which Varn Group would have acquired Ostmira Partners failed. {FILLER}"),
    Document("c.txt", f"{FILLER}Rhomor Partners acquired Ostmira Partners in 2016. {FILLER}"),
    Document("d.txt", f"{FILLER}Rhomor Partners was founded in 1990. {FILLER}"),
]
QUESTION = "Which company acquired Ostmira Partners? Answer with the company's name only."


def test_focus_weighs_rare_question_words_and_ignores_instructions() -> None:
    focus = QuestionFocus(QUESTION, [d.text for d in DOCS])
    assert focus.words[0] == "ostmir"            # in 2 of 4 documents: rarer than "acquired" (3 of 4)
    assert "name" not in focus.words and "compan" not in focus.words  # not in any document / stop word
    assert focus.score("Rhomor Partners acquired Ostmira Partners") > focus.score("Pelvar Works acquired Rhorho")
    assert focus.rank(["x", "y"], lambda s: s) == ["x", "y"]  # ties keep their order


def test_grep_returns_hits_about_the_question_first_and_keeps_all_of_them() -> None:
    with SandboxSession(DOCS, focus=QUESTION) as focused, SandboxSession(DOCS) as plain:
        code = "hits = grep(r'acquired', context_chars=40)\nprint([h.document for h in hits])"
        ranked = focused.run(code)
        unranked = plain.run(code)
    assert unranked.error is None and ranked.error is None, (unranked.error, ranked.error)
    assert unranked.output.strip() == "['a.txt', 'b.txt', 'c.txt']"   # document order without a question
    assert ranked.output.strip() == "['b.txt', 'c.txt', 'a.txt']"     # both Ostmira passages first, in order


def test_csv_documents_can_be_read_with_the_csv_module() -> None:
    table = Document("revenue.csv", "customer,revenue_eur\nKestrel Shipping A/S,9100000\nNordhavn,2300000\n")
    with SandboxSession([table]) as repl:
        result = repl.run("import csv\nrows = list(csv.DictReader(context[0].splitlines()))\n"
                          "print(rows[0]['customer'], sum(int(r['revenue_eur']) for r in rows))")
    assert result.error is None, result.error
    assert result.output.strip() == "Kestrel Shipping A/S 11400000"

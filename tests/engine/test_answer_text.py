"""What the user reads drops the sentences the root copied from the app's notes to it."""

from __future__ import annotations

from rlm_desktop.backends.scripted import ScriptedModel
from rlm_desktop.documents import Document
from rlm_desktop.engine import RLM, RLMConfig
from rlm_desktop.engine.answer_text import without_copied_notes
from rlm_desktop.sandbox import SandboxLimits


def test_a_sentence_copied_from_a_note_is_dropped_and_one_from_the_documents_kept():
    notes = ["[grep/search found nothing. That is not proof of absence: try one distinctive word, a synonym.]"]
    answer = ("Not stated in the documents: a search for cap found nothing. That is not proof of absence: try one "
              "distinctive word, a synonym.")
    assert without_copied_notes(answer, notes, []) == "Not stated in the documents: a search for cap found nothing."
    assert without_copied_notes(answer, notes, ["That is not proof of absence: try one distinctive word, a synonym."]) == answer
    assert without_copied_notes("Try one distinctive word, a synonym.", notes, []) == "Try one distinctive word, a synonym."


def test_dropping_a_copied_note_leaves_version_numbers_and_abbreviations_whole():
    notes = ["FINAL refused: no search so far has returned a passage. Rank passages by the question's key words and "
             "read them, e.g.\nfor h in search(\"two or three key words\", k=5):"]
    answer = ("Not stated in the documents: a search for days in MPL 1.1 found nothing. Rank passages by the "
              "question's key words and read them, e.g.")
    assert without_copied_notes(answer, notes, []) == ("Not stated in the documents: a search for days in MPL 1.1 "
                                                       "found nothing.")


def test_the_run_answer_leaves_out_a_copied_note():
    docs = [Document("memo.md", "The board met on Monday and discussed the budget.")]
    root = ScriptedModel(["Search.\n```repl\nprint(grep('zqxv'))\n```", "FINAL(Not stated.)",
                          "Rank passages.\n```repl\nprint(search('liability cap budget'))\n```",
                          "FINAL(Not stated in the documents: no liability cap is mentioned. That is not proof of "
                          "absence: try one distinctive word.)"])
    result = RLM(root, config=RLMConfig(sandbox=SandboxLimits(timeout_s=20.0))).run("What is the cap?", docs)
    assert "That is not proof of absence: try one distinctive word" in root.calls[1][-1]["content"]
    assert result.answer == "Not stated in the documents: no liability cap is mentioned."

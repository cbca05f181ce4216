from __future__ import annotations

import pytest

from rlm_desktop.engine.events import CodeCell, FinalAnswer, RootTurn, SubCallFinished
from rlm_desktop.errors import DocumentNotFound
from rlm_desktop.library import Library


def test_run_and_its_events_round_trip(library: Library, good_files):
    doc_id = library.ingest([good_files["pdf"]], collection="deal").files[0].doc_id
    run_id = library.start_run("Who indemnifies whom?", collection="deal", doc_ids=[doc_id],
                               settings={"max_iterations": 12}, models={"root": "demo", "sub": "demo"})
    events = [
        RootTurn(iteration=1, text="```repl\nprint(len(context))\n```", prompt_tokens=50, completion_tokens=9,
                 prompt_tokens_evaluated=50, seconds=0.2),
        CodeCell(iteration=1, index=0, code="print(len(context))"),
        SubCallFinished(call_id=1, answer_preview="supplier", prompt_tokens=10, completion_tokens=2,
                        seconds=0.1, cached=True),
        FinalAnswer(answer="The supplier indemnifies the customer.", stopped_by=None),
    ]
    for event in events:
        library.add_event(run_id, event)
    library.finish_run(run_id, {"answer": "The supplier indemnifies the customer.", "stopped_by": None,
                                "usage": {"root": {"prompt_tokens": 50}}, "iterations": 1, "cache_hits": 1,
                                "citations": [{"document": "msa.pdf", "page": 3}]})

    record = library.run(run_id)
    assert record.status == "finished" and record.finished >= record.started
    assert record.answer == "The supplier indemnifies the customer."
    assert record.models == {"root": "demo", "sub": "demo"} and record.settings == {"max_iterations": 12}
    assert record.usage == {"root": {"prompt_tokens": 50}}
    assert record.summary["citations"] == [{"document": "msa.pdf", "page": 3}]
    assert record.documents == [{"doc_id": doc_id, "name": "msa.pdf", "sha256": library.document(doc_id).sha256}]
    assert [e["kind"] for e in record.events] == ["root_turn", "code_cell", "sub_call_finished", "final"]
    assert record.events == [e.to_dict() for e in events]
    assert [r.id for r in library.runs("deal")] == [run_id]
    assert library.runs("other") == []


def test_unknown_run_is_a_clear_error(library: Library):
    with pytest.raises(DocumentNotFound, match="No run with id 42"):
        library.run(42)

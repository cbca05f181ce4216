from __future__ import annotations

import pytest

from rlm_desktop.engine.events import CodeCell, FinalAnswer, RootTurn, SubCallFinished
from rlm_desktop.errors import DocumentNotFound, LibraryError
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


START_AND_DIE = """
import sys
from rlm_desktop.library import Library
with Library.open(sys.argv[1]) as lib:
    run_id = lib.start_run("Who signed?", collection="deal", doc_ids=[int(sys.argv[2])], settings={}, models={})
    lib.add_event(run_id, {"kind": "run_started", "question": "Who signed?"})
print(run_id)
"""


def _run_in_a_process_that_ends(library: Library, doc_id: int) -> int:
    """A run started by another process that ends without finishing it (as a crash would)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", START_AND_DIE, str(library.path), str(doc_id)], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.strip())


def test_a_run_whose_process_died_is_interrupted_and_said_so_at_the_next_open(library: Library, good_files):
    doc_id = library.ingest([good_files["md"]], collection="deal").files[0].doc_id
    mine = library.start_run("Still going?", collection="deal", doc_ids=[doc_id], settings={}, models={})
    lost = _run_in_a_process_that_ends(library, doc_id)

    with Library.open(library.path) as reopened:
        assert len(reopened.interrupted) == 1 and f"Run {lost} ('Who signed?')" in reopened.interrupted[0]
        assert f"rlm runs resume {lost}" in reopened.interrupted[0]
    with Library.open(library.path) as again:
        assert again.interrupted == []  # said once
    statuses = {r.id: r.status for r in library.runs()}
    assert statuses == {lost: "interrupted", mine: "running"}  # this process is alive: its run is not
    record = library.run(lost)
    assert record.record_version == 2 and record.events == [{"kind": "run_started", "question": "Who signed?"}]

    library.reopen_run(lost)
    assert library.run(lost).status == "running"
    library.finish_run(lost, {"answer": "Acme", "stopped_by": None})
    with pytest.raises(LibraryError, match=f"Run {lost} has already finished"):
        library.reopen_run(lost)
    with pytest.raises(LibraryError, match=f"Run {mine} is still running"):
        library.reopen_run(mine)


def test_a_run_keeps_the_order_and_versions_of_its_documents(library: Library, good_files):
    ids = [library.ingest([good_files[kind]]).files[0].doc_id for kind in ("md", "csv", "html")]
    order = [ids[2], ids[0], ids[1]]
    run_id = library.start_run("Q", doc_ids=order, settings={}, models={})
    record = library.run(run_id)
    assert [d["doc_id"] for d in record.documents] == order
    assert [d.doc_id for d in library.run_context(record)] == order

    library.remove_document(ids[0])
    with pytest.raises(DocumentNotFound, match=f"Run {run_id} read 'readme.md' \\(document {ids[0]}\\), which was "
                                               "since removed"):
        library.run_context(record)
    assert library.run(run_id).documents == record.documents  # nothing of the run was touched


def test_a_run_reads_the_version_it_read_after_the_file_changed(library: Library, tmp_path):
    path = tmp_path / "terms.txt"
    path.write_text("The term is five years.", encoding="utf-8")
    old_id = library.ingest([path]).files[0].doc_id
    run_id = library.start_run("Q", doc_ids=[old_id], settings={}, models={})
    path.write_text("The term is seven years.", encoding="utf-8")
    new = library.ingest([path]).files[0]
    assert new.status == "new_version" and new.doc_id != old_id
    (document,) = library.run_context(library.run(run_id))
    assert document.doc_id == old_id and document.text == "The term is five years."

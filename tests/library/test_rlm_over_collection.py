"""An RLM run over a stored collection: the code reaches every document, cites document and page,
the run is logged in the library, and a repeated run is answered from the sub-call cache."""

from __future__ import annotations

from rlm_desktop.library import Library

COUNT_CELL = '''```repl
import re
law = re.compile(r"governed by the laws of the State of ([A-Z][a-z]+(?: [A-Z][a-z]+)?)")
counts = {}
for doc in context:
    state = law.search(doc).group(1)
    counts[state] = counts.get(state, 0) + 1
hits = grep(r"laws of the State of Delaware")
cite(hits[0].document, hits[0].page, "State of Delaware")
verdict = llm_query("Is Delaware law favourable to the buyer? " + hits[0].snippet)
answer = str(counts["Delaware"]) + " of " + str(len(context)) + " contracts are governed by Delaware law"
print(counts, len(hits), verdict)
```'''


def _run(lib: Library, sub_answers: list[str]):
    from rlm_desktop.backends.scripted import ScriptedModel
    from rlm_desktop.engine import RLM, RLMConfig

    root = ScriptedModel([COUNT_CELL, "FINAL_VAR(answer)"], name="scripted-root")
    sub = ScriptedModel(sub_answers, name="scripted-sub")
    rlm = RLM(root, sub, RLMConfig(max_iterations=4), sub_call_cache=lib.sub_call_cache)
    question = "How many contracts are governed by Delaware law?"
    context = lib.load_context("contracts")
    run_id = lib.start_run(question, collection="contracts", doc_ids=[d.doc_id for d in context],
                           models={"root": root.name, "sub": sub.name})
    result = rlm.run(question, context, on_event=lambda event: lib.add_event(run_id, event),
                     tools={"search": lambda query, k=10: lib.search(str(query), int(k), collection="contracts")})
    lib.finish_run(run_id, {"answer": result.answer, "stopped_by": result.stopped_by,
                            "citations": result.citations, "cache_hits": result.cache_hits})
    return result, run_id, sub


def test_scripted_root_counts_across_all_60_documents_and_cites_the_page(library: Library, write_contracts):
    folder, counts = write_contracts(60)
    library.ingest([folder], collection="contracts")
    first_delaware = min(p.name for p in folder.iterdir() if "State of Delaware" in p.read_text(encoding="utf-8"))

    result, run_id, sub = _run(library, ["Yes."])
    assert result.stopped_by is None
    assert result.answer == f"{counts['Delaware']} of 60 contracts are governed by Delaware law"
    citation = result.citations[0]
    assert citation.document == first_delaware
    document = next(d for d in library.load_context("contracts") if d.name == first_delaware)
    assert citation.page == document.page_at(document.text.index("State of Delaware")) == 2

    record = library.run(run_id)
    assert len(record.documents) == 60
    assert record.summary["citations"][0]["page"] == 2
    assert "final" in [e["kind"] for e in record.events]

    again, _, sub_again = _run(library, [])  # no sub answers left: only the cache can answer
    assert again.answer == result.answer
    assert again.cache_hits == 1 and sub_again.calls == []
    assert library.sub_call_cache.stats()["hits"] == 1

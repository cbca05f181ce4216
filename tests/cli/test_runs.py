"""`rlm runs list|show|resume`: a run killed mid-way shows as interrupted and continues where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlm_desktop.cli import main
from rlm_desktop.library import Library

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"
LEASE = SAMPLES / "04_office_lease_harbour_point.md"
BUSY = ("import datetime\nend = datetime.datetime.now() + datetime.timedelta(seconds=2)\n"
        "while datetime.datetime.now() < end:\n    pass\n")
SCRIPTED_TURNS = [
    "I ask the helper.\n```repl\nnotes = llm_query('Which colour?')\nprint(notes)\n```",
    "A slow step.\n```repl\n" + BUSY + "answer = 'The colour is ' + notes\nprint(answer)\n```",
    "FINAL_VAR(answer)",
]


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def interrupted_run(tmp_path: Path, killed_ask, library: Path) -> int:
    """A scripted `rlm ask` over the lease, killed while its second turn runs; returns the run id."""
    root = write_json(tmp_path / "root.json", SCRIPTED_TURNS)
    sub = write_json(tmp_path / "sub.json", ["blue"])
    killed_ask(["Which colour?", "--docs", str(LEASE), "--collection", "lease", "--library", str(library),
                "--root", f"scripted-turns:{root}", "--sub", f"scripted:{sub}"])
    with Library.open(library) as lib:
        (run,) = lib.runs()
        return run.id


def test_a_killed_run_is_listed_as_interrupted_and_resumes_to_its_answer(tmp_path, killed_ask, capsys):
    library = tmp_path / "lib.db"
    run_id = interrupted_run(tmp_path, killed_ask, library)
    assert main(["runs", "list", "--library", str(library)]) == 0
    assert "(interrupted)" in capsys.readouterr().out

    with Library.open(library) as lib:
        lib.db.execute("UPDATE runs SET record_version = 1 WHERE id = ?", [run_id])
        lib.db.commit()
    assert main(["runs", "resume", str(run_id), "--library", str(library)]) == 1
    assert f"Run {run_id} was stored by an older version of rlm-desktop" in capsys.readouterr().err
    with Library.open(library) as lib:
        lib.db.execute("UPDATE runs SET record_version = 2 WHERE id = ?", [run_id])
        models = lib.run(run_id).models
        lib.db.execute("UPDATE runs SET models = ? WHERE id = ?",
                       [json.dumps({**models, "root": str(tmp_path / "gone.gguf")}), run_id])
        lib.db.commit()
    assert main(["runs", "resume", str(run_id), "--library", str(library)]) == 1
    err = capsys.readouterr().err
    assert f"Run {run_id} needs the root model '{tmp_path / 'gone.gguf'}', which is not available" in err
    with Library.open(library) as lib:
        assert lib.run(run_id).status == "interrupted"  # refusals change nothing
        lib.db.execute("UPDATE runs SET models = ? WHERE id = ?", [json.dumps(models), run_id])
        lib.db.commit()

    assert main(["runs", "resume", str(run_id), "--library", str(library), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"] == "The colour is blue" and data["stopped_by"] is None
    resumed = next(e for e in data["trajectory"] if e["kind"] == "run_resumed")
    assert resumed["from_iteration"] == 1 and resumed["pending_turn"] and resumed["sub_calls_served"] == 1
    assert data["sub_calls"] == 1  # the one of turn 1, counted once
    with Library.open(library) as lib:
        record = lib.run(run_id)
    assert record.status == "finished" and record.answer == "The colour is blue" and record.summary["resumed"] == 1
    assert [e["kind"] for e in record.events].count("run_started") == 1
    assert main(["runs", "resume", str(run_id), "--library", str(library)]) == 1
    assert f"Run {run_id} has already finished" in capsys.readouterr().err
    assert main(["runs", "show", str(run_id), "--library", str(library)]) == 0
    assert "[resumed after turn 1] replayed 1 of 1 cells, 1 sub-call answers from the record" in \
        capsys.readouterr().out


def test_a_run_whose_document_was_removed_is_refused_and_kept(tmp_path, killed_ask, capsys):
    library = tmp_path / "lib.db"
    run_id = interrupted_run(tmp_path, killed_ask, library)
    with Library.open(library) as lib:
        events = lib.run(run_id).events
        (doc,) = lib.documents("lease")
        lib.remove_document(doc.id)
    assert main(["runs", "resume", str(run_id), "--library", str(library)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: Run {run_id} read '{LEASE.name}' (document {doc.id}), which was since removed "
                          "from the library. It cannot be resumed")
    with Library.open(library) as lib:
        assert lib.run(run_id).events == events and lib.run(run_id).status == "interrupted"


REAL_TURNS = [
    "I ask the helper three things at once.\n```repl\n"
    "notes = llm_query_batched(['Name a colour. One word.', 'Name a fruit. One word.', 'Name a city. One word.'])\n"
    "print(notes)\n```",
    "One more question.\n```repl\nextra = llm_query('Name an animal. One word.')\n"
    "answer = ' | '.join(n.strip()[:40] for n in notes) + ' | ' + extra.strip()[:40]\nprint(answer)\n```",
    "FINAL_VAR(answer)",
]


@pytest.mark.slow
def test_killed_after_its_second_turn_a_real_run_resumes_to_the_uninterrupted_answer(tmp_path, killed_ask, capsys):
    root = write_json(tmp_path / "root.json", REAL_TURNS)
    common = ["--docs", str(LEASE), "--collection", "lease", "--root", f"scripted-turns:{root}",
              "--sub", "demo-smollm2-135m", "--threads", "2"]
    whole = tmp_path / "whole.db"
    assert main(["ask", "Name things", *common, "--library", str(whole), "--json"]) == 0
    baseline = json.loads(capsys.readouterr().out)
    assert baseline["sub_calls"] == 4 and baseline["cache_hits"] == 0

    killed = tmp_path / "killed.db"
    killed_ask(["Name things", *common, "--library", str(killed)])
    with Library.open(killed) as lib:
        (run,) = lib.runs()
        first_part = lib.run(run.id).events
    assert run.status == "interrupted"
    assert main(["runs", "resume", str(run.id), "--library", str(killed), "--threads", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)

    assert data["answer"] == baseline["answer"] and data["stopped_by"] is None
    resumed = next(e for e in data["trajectory"] if e["kind"] == "run_resumed")
    assert resumed["sub_calls_served"] >= 3  # turn 1's batch, from the record: no model asked again
    model_calls = [e for e in first_part + data["trajectory"]
                   if e["kind"] == "sub_call_finished" and not e["cached"] and not e["depth"]]
    assert len(model_calls) == 4  # what the uninterrupted run asked, not one more
    assert data["usage"]["root"]["completion_tokens"] == baseline["usage"]["root"]["completion_tokens"]
    assert data["sub_calls"] == baseline["sub_calls"]

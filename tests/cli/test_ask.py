"""`rlm ask`: answer, citations, guard, trace, JSON, collections; a scripted root keeps cells deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlm_desktop.cli import main
from rlm_desktop.hub.demo import DEMO_WARNING

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"

CITE_PRICE = (
    "I search for the price.\n```repl\n"
    "hits = grep(r'consideration for the Shares is EUR [0-9,]+')\n"
    "print(hits[0])\n"
    "cite(hits[0].document, hits[0].page, hits[0].snippet)\n"
    "answer = 'EUR 48,500,000'\n"
    "```",
    "FINAL_VAR(answer)",
)


def script(tmp_path: Path, outputs: list[str] | tuple[str, ...], name: str = "root.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(list(outputs)), encoding="utf-8")
    return f"scripted:{path}"


def test_ask_prints_answer_citation_and_summary(tmp_path, capsys):
    code = main(["ask", "What is the purchase price?", "--docs", str(SAMPLES),
                 "--root", script(tmp_path, CITE_PRICE), "--sub", script(tmp_path, [], "sub.json")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "EUR 48,500,000"
    assert "01_share_purchase_agreement.md, page 1" in out
    assert "2 root turns, 1 code cells (0 with errors), 0 sub-calls" in err
    assert "Stopped by" not in err
    assert DEMO_WARNING not in err


def test_ask_json_has_answer_trajectory_and_usage(tmp_path, capsys):
    code = main(["ask", "What is the purchase price?", "--docs", str(SAMPLES / "01_share_purchase_agreement.md"),
                 "--root", script(tmp_path, CITE_PRICE), "--sub", script(tmp_path, [], "sub.json"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["answer"] == "EUR 48,500,000"
    assert data["stopped_by"] is None
    assert [e["kind"] for e in data["trajectory"]][:4] == ["run_started", "root_messages", "root_turn", "code_cell"]
    assert data["usage"]["root"]["completion_tokens"] > 0
    assert data["citations"][0]["document"] == "01_share_purchase_agreement.md"


def test_trace_streams_turns_and_outputs(tmp_path, capsys):
    main(["ask", "Price?", "--docs", str(SAMPLES), "--root", script(tmp_path, CITE_PRICE),
          "--sub", script(tmp_path, [], "sub.json"), "--trace"])
    _, err = capsys.readouterr()
    assert "-- turn 1:" in err and "-- turn 2:" in err
    assert "=> Hit(" in err
    assert "== final (FINAL)" in err


def test_guard_that_ended_the_run_is_named(tmp_path, capsys):
    turns = ["```repl\nprint(len(context))\n```", "Best guess:\nFINAL(six documents)"]
    code = main(["ask", "How many?", "--docs", str(SAMPLES), "--root", script(tmp_path, turns),
                 "--sub", script(tmp_path, [], "sub.json"), "--max-iterations", "1"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines()[0] == "six documents"
    assert "Stopped by max iterations" in err


def test_collection_run_is_recorded_in_the_library(tmp_path, capsys):
    library = tmp_path / "lib.db"
    args = ["ask", "What is the purchase price?", "--collection", "heron", "--library", str(library),
            "--root", script(tmp_path, CITE_PRICE), "--sub", script(tmp_path, [], "sub.json")]
    assert main([*args, "--docs", str(SAMPLES)]) == 0
    assert main(args) == 0  # the second run reads the stored collection
    capsys.readouterr()
    from rlm_desktop.library import Library

    with Library.open(library) as lib:
        runs = lib.runs("heron")
        assert len(runs) == 2
        assert len(lib.documents("heron")) == 6


def test_missing_documents_is_a_usage_error(capsys):
    assert main(["ask", "Anything?"]) == 2
    assert "--docs" in capsys.readouterr().err


def test_unknown_model_is_a_short_error(tmp_path, capsys):
    code = main(["ask", "Q", "--docs", str(SAMPLES), "--root", str(tmp_path / "missing.gguf")])
    _, err = capsys.readouterr()
    assert code == 1
    last = err.strip().splitlines()[-1]  # a first run may print the starter pair's assembly progress first
    assert last.startswith("Error:") and "missing.gguf" in last and "Traceback" not in err


@pytest.mark.slow
def test_demo_sub_model_runs_and_the_demo_warning_is_shown(tmp_path, capsys):
    turns = ["```repl\nsummary = llm_query('Say hello in one word.')\nprint(summary)\n```",
             "FINAL_VAR(summary)"]
    code = main(["ask", "Say hello", "--docs", str(SAMPLES / "04_office_lease_harbour_point.md"),
                 "--root", script(tmp_path, turns), "--sub", "demo-smollm2-135m", "--threads", "2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert DEMO_WARNING in err
    data = json.loads(out)
    assert data["sub_calls"] == 1 and data["answer"].strip()
    assert data["usage"]["sub"]["completion_tokens"] > 0

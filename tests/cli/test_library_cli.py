from __future__ import annotations

import os
from pathlib import Path

from rlm_desktop.cli import main
from rlm_desktop.library import Library


def _docs(folder: Path) -> list[Path]:
    folder.mkdir()
    (folder / "lease.txt").write_text("The tenant pays rent of 900 per month.\n", encoding="utf-8")
    (folder / "loan.md").write_text("# Loan\n\nInterest accrues at 5 percent.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(os.urandom(500))
    return sorted(folder.iterdir())


def test_ingest_prints_a_summary_per_file_and_succeeds_if_any_file_did(tmp_path: Path, capsys):
    db = tmp_path / "lib.db"
    _docs(tmp_path / "room")
    code = main(["ingest", str(tmp_path / "room"), "--collection", "deal", "--library", str(db)])
    out = capsys.readouterr().out
    assert code == 0
    assert "stored" in out and "lease.txt" in out and "loan.md" in out
    assert "FAILED" in out and "broken.pdf: not a PDF file" in out
    assert "2 stored, 1 FAILED." in out


def test_ingest_fails_when_every_file_failed(tmp_path: Path, capsys):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert main(["ingest", str(bad), "--library", str(tmp_path / "lib.db"), "-q"]) == 1
    assert "empty file" in capsys.readouterr().out


def test_list_show_collections_remove(tmp_path: Path, capsys):
    db = str(tmp_path / "lib.db")
    _docs(tmp_path / "room")
    main(["ingest", str(tmp_path / "room"), "--collection", "deal", "--library", db, "-q"])
    capsys.readouterr()

    assert main(["library", "list", "--collection", "deal", "--library", db]) == 0
    listing = capsys.readouterr().out
    assert "lease.txt" in listing and "failed" in listing and "not a PDF file" in listing

    assert main(["library", "collections", "--library", db]) == 0
    assert "deal: 2 documents" in capsys.readouterr().out

    assert main(["library", "show", "lease.txt", "--library", db]) == 0
    shown = capsys.readouterr().out
    assert "collections: deal" in shown and "section    1: The tenant pays rent of 900" in shown
    assert main(["library", "show", "lease.txt", "--page", "1", "--library", db]) == 0
    assert capsys.readouterr().out.strip().endswith("The tenant pays rent of 900 per month.")

    assert main(["library", "search", "interest", "--library", db]) == 0
    assert "loan.md, page 1" in capsys.readouterr().out

    assert main(["library", "remove", "lease.txt", "--yes", "--library", db]) == 0
    assert "Removed lease.txt" in capsys.readouterr().out
    assert main(["library", "show", "lease.txt", "--library", db]) == 1
    assert "No document named or numbered 'lease.txt'" in capsys.readouterr().err


def test_clear_cache(tmp_path: Path, capsys):
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        lib.sub_call_cache.put("m", "p", {}, "a")
        lib.sub_call_cache.put("m", "q", {}, "b")
    assert main(["library", "clear-cache", "--library", str(db)]) == 0
    assert "Removed 2 cached sub-call answers." in capsys.readouterr().out


def test_runs_list_and_show_read_the_trajectory_back(tmp_path: Path, capsys):
    db = tmp_path / "lib.db"
    with Library.open(db) as lib:
        run_id = lib.start_run("How many leases?", collection="deal", doc_ids=[], models={"root": "demo"})
        lib.add_event(run_id, {"kind": "code_cell", "iteration": 1, "index": 0, "code": "print(len(context))"})
        lib.add_event(run_id, {"kind": "cell_output", "iteration": 1, "index": 0, "output": "3", "error": None})
        lib.add_event(run_id, {"kind": "final", "answer": "Three leases.", "stopped_by": None})
        lib.finish_run(run_id, {"answer": "Three leases.", "stopped_by": None,
                                "citations": [{"document": "lease.txt", "page": 1}]})
    assert main(["runs", "list", "--library", str(db)]) == 0
    assert "How many leases?" in capsys.readouterr().out
    assert main(["runs", "show", str(run_id), "--library", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "print(len(context))" in shown and "[final] Three leases." in shown
    assert "cited: lease.txt, page 1" in shown
    assert main(["runs", "show", "99", "--library", str(db)]) == 1


def test_bench_library_prints_the_figures(tmp_path: Path, capsys):
    assert main(["bench", "library", "--scale", "0.005", "--workdir", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    assert "MB/s" in out and "pages/s" in out and "median" in out and "Database size" in out
    assert "Ingest, data-room ZIP" in out and "peak RSS" in out and "Resume:" in out


def test_ingest_an_archive_prints_each_member_and_show_lists_them(tmp_path: Path, capsys):
    import zipfile

    db = str(tmp_path / "lib.db")
    room = tmp_path / "room.zip"
    with zipfile.ZipFile(room, "w") as archive:
        archive.writestr("leases/lease.txt", "The tenant pays rent of 900 per month.\n")
        archive.writestr("../evil.txt", "escapes\n")
    assert main(["ingest", str(room), "--library", db, "-q"]) == 0
    out = capsys.readouterr().out
    assert "stored          room.zip/leases/lease.txt" in out
    assert "room.zip/../evil.txt" in out and "outside the archive" in out
    assert "archive     " in out and "1 stored, 1 archive, 1 FAILED." in out
    assert main(["library", "show", "room.zip", "--library", db]) == 0
    shown = capsys.readouterr().out
    assert "status:      archive" in shown and ": leases/lease.txt  (1 sections)" in shown


def test_ingest_groups_reasons_with_what_to_do_and_writes_the_csv(tmp_path: Path, capsys):
    room = tmp_path / "tree"
    room.mkdir()
    (room / "copyright").write_text("Copyright 2020 Someone. License: MIT.\n", encoding="utf-8")
    for i in range(25):
        (room / f"prog{i}").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(300))
    (room / "broken.pdf").write_bytes(os.urandom(500))
    csv_path = tmp_path / "report.csv"
    code = main(["ingest", str(room), "--library", str(tmp_path / "lib.db"), "-q", "--report", str(csv_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "prog3" not in out.split("Not in the library, by reason:")[0]  # 25 skipped: grouped, not listed
    assert "    25 skipped  not a document (ELF executable)" in out
    assert "what to do: open it in its own program" in out  # for the damaged PDF
    assert "e.g. " in out and " and 22 more" in out
    assert "1 stored, 1 FAILED, 25 skipped." in out
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 27 and lines[0].startswith("path,document,status,reason,what to do")

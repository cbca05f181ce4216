"""Killing an ingest mid-batch loses nothing committed and leaves no partial document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from rlm_desktop.library import Library

SCRIPT = """
import sys
from pathlib import Path
from rlm_desktop.library import Library

def show(event):
    if event.stage == "done":
        print("done", event.index, flush=True)

with Library.open(Path(sys.argv[1])) as lib:
    lib.ingest([Path(sys.argv[2])], collection="room", on_progress=show)
print("finished", flush=True)
"""


def _check_consistent(lib: Library) -> None:
    for doc in lib.documents():
        if doc.status != "stored":
            continue
        pages = lib.pages(doc.id)
        assert len(pages) == doc.pages > 0
        assert sum(len(p["text"]) for p in pages) == doc.chars
    lib.db.execute("INSERT INTO pages_fts(pages_fts, rank) VALUES ('integrity-check', 1)")
    orphans = lib.db.execute("SELECT count(*) FROM pages WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()
    assert orphans[0] == 0


def test_sigkill_mid_batch_then_rerun(tmp_path: Path):
    room = tmp_path / "room"
    room.mkdir()
    line = "The lessee shall keep the premises in good repair and condition. " * 3 + "\n"
    for i in range(40):
        (room / f"doc-{i:02d}.txt").write_text(f"Document {i}\n" + line * 2500, encoding="utf-8")
    db_path = tmp_path / "lib.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(db_path), str(room)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    done = 0
    for out_line in proc.stdout:
        if out_line.startswith("done"):
            done += 1
            if done == 5:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    with Library.open(db_path) as lib:
        assert len(lib.interrupted) == 1  # the next start says what the kill interrupted
        assert lib.interrupted[0].startswith(f"An ingest of {room} into collection 'room' was interrupted after ")
        _check_consistent(lib)
        committed = {d.name for d in lib.documents("room")}
        assert 5 <= len(committed) < 40  # what was reported done is there; the kill stopped the rest

        report = lib.ingest([room], collection="room")
        statuses = {r.path.name: r.status for r in report.files}
        assert all(statuses[name] == "unchanged" for name in committed)
        assert sorted(statuses.values()).count("stored") == 40 - len(committed)
        _check_consistent(lib)
        assert len(lib.load_context("room")) == 40


ARCHIVE_SCRIPT = """
import sys
from pathlib import Path
from rlm_desktop.library import Library

def show(event):
    if event.stage == "done" and event.name:
        print("member", event.member_index, flush=True)

with Library.open(Path(sys.argv[1])) as lib:
    lib.ingest([Path(sys.argv[2])], collection="room", on_progress=show)
print("finished", flush=True)
"""


def test_sigkill_mid_archive_resumes_without_reading_stored_members(tmp_path: Path, monkeypatch):
    import zipfile

    archive = tmp_path / "room.zip"
    line = "The lessee shall keep the premises in good repair and condition. " * 3 + "\n"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(40):
            zf.writestr(f"leases/lease-{i:02d}.txt", f"Lease {i}\n" + line * 2500)
    db_path = tmp_path / "lib.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", ARCHIVE_SCRIPT, str(db_path), str(archive)],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    done = 0
    for out_line in proc.stdout:
        if out_line.startswith("member"):
            done += 1
            if done == 5:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    from rlm_desktop.library import ingest as ingest_module

    read: list[str] = []
    real_copy = ingest_module.copy_member
    monkeypatch.setattr(ingest_module, "copy_member",
                        lambda zf, member, *a, **k: (read.append(member.name), real_copy(zf, member, *a, **k))[1])
    with Library.open(db_path) as lib:
        _check_consistent(lib)
        committed = {d.name for d in lib.documents("room") if d.status == "stored"}
        assert 5 <= len(committed) < 40

        report = lib.ingest([archive], collection="room")
        statuses = {r.label: r.status for r in report.files}
        assert all(statuses[name] == "unchanged" for name in committed)
        assert sorted(statuses.values()).count("stored") == 40 - len(committed)
        assert not any(f"room.zip/{name}" in committed for name in read)  # stored members were not read again
        assert len(read) == 40 - len(committed)
        _check_consistent(lib)
        assert len(lib.load_context("room")) == 40
        assert lib.ingest([archive]).files[0].status == "unchanged"  # now complete: skipped whole

from __future__ import annotations

from pathlib import Path

from rlm_desktop.library import IngestLimits, IngestProgress, Library


def test_good_and_broken_files_in_one_batch(library: Library, good_files, broken_files):
    report = library.ingest([*good_files.values(), *broken_files.values()], collection="deal")

    by_name = {r.path.name: r for r in report.files}
    for path in good_files.values():
        assert by_name[path.name].status == "stored", by_name[path.name]
    reasons = {key: by_name[path.name].reason or "" for key, path in broken_files.items()}
    unreadable = {key: p for key, p in broken_files.items() if key not in ("unsupported", "empty")}
    assert all(by_name[p.name].status == "failed" for p in unreadable.values())
    assert by_name["picture.bmp"].status == "skipped"  # no document format: not a failure
    assert by_name["empty.txt"].status == "skipped"  # no text to read: nothing went wrong
    assert "truncated" in reasons["truncated"]
    assert "not a PDF" in reasons["random"]
    assert "encrypted" in reasons["encrypted"]
    assert "empty" in reasons["empty"]
    assert "zip bomb" in reasons["bomb"]
    assert reasons["unsupported"] == "picture.bmp: not a document (BMP image)"
    assert not report.all_failed

    docs = library.documents("deal")
    stored = {d.name for d in docs if d.status == "stored"}
    failed = {d.name: d.error for d in docs if d.status == "failed"}
    assert stored == {p.name for p in good_files.values()}
    assert set(failed) == {p.name for p in unreadable.values()}
    assert all(failed.values())
    # Only stored documents reach the RLM's context.
    assert {d.name for d in library.load_context("deal")} == stored


def test_identical_files_are_stored_once(library: Library, good_files, tmp_path: Path):
    copy = tmp_path / "copy-of-msa.pdf"
    copy.write_bytes(good_files["pdf"].read_bytes())
    first = library.ingest([good_files["pdf"]], collection="a")
    second = library.ingest([copy], collection="b")
    assert second.files[0].status == "duplicate"
    assert second.files[0].doc_id == first.files[0].doc_id
    assert [d.name for d in library.documents("b")] == ["msa.pdf"]
    assert library.document(first.files[0].doc_id).collections == ("a", "b")
    assert library.ingest([good_files["pdf"]]).files[0].status == "unchanged"


def test_changed_file_becomes_a_new_version_and_old_runs_keep_theirs(library: Library, tmp_path: Path):
    path = tmp_path / "lease.txt"
    path.write_text("Rent is 100 per month.\n", encoding="utf-8")
    old_id = library.ingest([path], collection="deal").files[0].doc_id
    run_id = library.start_run("What is the rent?", collection="deal", doc_ids=[old_id])

    path.write_text("Rent is 250 per month.\n", encoding="utf-8")
    result = library.ingest([path]).files[0]
    assert result.status == "new_version"

    current = library.documents("deal")
    assert [(d.id, d.version, d.previous_id) for d in current] == [(result.doc_id, 2, old_id)]
    assert "250" in library.load_context("deal")[0].text
    assert library.run(run_id).documents[0]["doc_id"] == old_id
    assert "100" in library.load_context(doc_ids=[old_id])[0].text
    assert library.search("rent")[0]["doc_id"] == result.doc_id  # old versions leave the default search


def test_folders_are_walked_and_unsupported_files_skipped(library: Library, good_files):
    folder = good_files["pdf"].parent
    (folder / "photo.bmp").write_bytes(b"BM\x00\x00")
    (folder / ".hidden.txt").write_text("secret", encoding="utf-8")
    report = library.ingest([folder])
    statuses = {r.path.name: r.status for r in report.files}
    assert statuses["photo.bmp"] == "skipped"
    assert ".hidden.txt" not in statuses
    assert report.count("stored") == len(good_files)


def test_progress_reports_each_file_and_bytes(library: Library, good_files):
    events: list[IngestProgress] = []
    paths = list(good_files.values())
    library.ingest(paths, on_progress=events.append)
    total = sum(p.stat().st_size for p in paths)
    assert [e.stage for e in events] == ["start", "done"] * len(paths)
    assert events[-1].bytes_done == events[-1].total_bytes == total
    done = [e for e in events if e.stage == "done"]
    assert [e.bytes_done for e in done] == sorted(e.bytes_done for e in done)
    assert all(e.result is not None and e.result.status == "stored" for e in done)


def test_cancel_stops_between_files(library: Library, good_files):
    class Token:
        cancelled = False

    token = Token()

    def cancel_after_first(event: IngestProgress) -> None:
        if event.stage == "done":
            token.cancelled = True

    report = library.ingest(list(good_files.values()), on_progress=cancel_after_first, cancel=token)
    assert report.cancelled
    assert len(report.files) == 1
    assert len(library.documents()) == 1


def test_size_limit_and_all_failed(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000, encoding="utf-8")
    with Library.open(tmp_path / "lib.db", limits=IngestLimits(max_file_bytes=1000)) as lib:
        report = lib.ingest([big])
    assert report.all_failed
    assert "over the" in report.files[0].reason


def test_failed_file_retried_after_fix_replaces_failure(library: Library, tmp_path: Path):
    path = tmp_path / "later.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)  # a PDF signature over nothing a reader can parse
    assert library.ingest([path]).files[0].status == "failed"
    path.write_text("Now it has text.\n", encoding="utf-8")
    assert library.ingest([path]).files[0].status == "stored"
    assert [(d.name, d.status) for d in library.documents()] == [("later.pdf", "stored")]


def test_reopening_keeps_everything(tmp_path: Path, good_files):
    with Library.open(tmp_path / "lib.db") as lib:
        lib.ingest([good_files["docx"]], collection="deal")
    with Library.open(tmp_path / "lib.db") as lib:
        assert [c.name for c in lib.collections()] == ["deal"]
        assert lib.db.journal_mode == "wal"
        assert "Gamma GmbH" in lib.load_context("deal")[0].text


def test_library_opened_on_one_thread_ingests_on_another(tmp_path: Path, good_files):
    import threading

    seen: list[int] = []
    errors: list[BaseException] = []
    with Library.open(tmp_path / "lib.db") as lib:
        def work() -> None:
            try:
                lib.ingest(list(good_files.values()), collection="deal",
                           on_progress=lambda e: seen.append(len(lib.documents())))
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        while worker.is_alive():
            lib.collections()  # the GUI thread keeps reading meanwhile
        worker.join()
        assert errors == []
        assert len(lib.documents("deal")) == len(good_files)
        assert seen == sorted(seen)

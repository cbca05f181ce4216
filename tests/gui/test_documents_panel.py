"""Dropping files on the window ingests them; broken files stay listed with their reason."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication


def _drop(widget, paths: list[Path]) -> QDropEvent:
    """Deliver a real drag-enter and drop with file URLs, as the OS file manager does."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = widget.rect().center()
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        enter = QDragEnterEvent(QPointF(pos), *args)  # PySide6 >= 6.12
    except TypeError:
        enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def _corpus(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "data room"
    (folder / "contracts").mkdir(parents=True)
    (folder / "contracts" / "lease.txt").write_text(
        "OFFICE LEASE\n\nThe tenant shall pay rent of EUR 12,500 per month.\n", encoding="utf-8")
    (folder / "contracts" / "supply.md").write_text(
        "# Supply agreement\n\nGoverned by the laws of Delaware.\n", encoding="utf-8")
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(os.urandom(2048))  # random bytes named .pdf
    memo = tmp_path / "memo.txt"
    memo.write_text("Board memo: approve the acquisition.", encoding="latin-1")
    return [folder, broken, memo]


def test_dropping_files_and_a_folder_ingests_them_and_lists_failures(qtbot, make_window, tmp_path):
    window = make_window()
    panel = window.documents_panel
    paths = _corpus(tmp_path)
    with qtbot.waitSignal(panel.ingest_finished, timeout=60_000) as finished:
        drop = _drop(panel, paths)
    assert drop.isAccepted()
    report = finished.args[0]
    assert sorted(f.status for f in report.files) == ["failed", "stored", "stored", "stored"]
    qtbot.waitUntil(lambda: len(panel.documents) == 4, timeout=10_000)

    rows = {panel.tree.topLevelItem(i).text(0): panel.tree.topLevelItem(i).text(2)
            for i in range(panel.tree.topLevelItemCount())}
    assert rows["lease.txt"] == "Ready" and rows["supply.md"] == "Ready" and rows["memo.txt"] == "Ready"
    assert rows["scan.pdf"].startswith("Failed: ") and len(rows["scan.pdf"]) > len("Failed: ") + 5
    # the import list keeps every file with its result, the failure with its reason
    results = {panel.import_list.topLevelItem(i).text(0): panel.import_list.topLevelItem(i).text(1)
               for i in range(panel.import_list.topLevelItemCount())}
    assert results["scan.pdf"].startswith("Failed: ")
    assert results["lease.txt"].startswith("Stored")
    assert "failed" in panel.import_title.text()
    # stored documents are what a question is asked over; the failed one is not
    scope = panel.scope()
    assert len(scope.doc_ids) == 3 and "3 documents" in window.run_panel.scope_label.text()


def test_drop_on_the_main_window_goes_to_the_current_collection(qtbot, make_window, tmp_path, library):
    window = make_window()
    panel = window.documents_panel
    panel.pending_collections.add("Deal A")
    panel.select_collection("Deal A")
    qtbot.waitUntil(lambda: window.workers.running == 0)
    doc = tmp_path / "nda.txt"
    doc.write_text("Mutual non-disclosure agreement between A and B.", encoding="utf-8")
    with qtbot.waitSignal(panel.ingest_finished, timeout=60_000):
        _drop(window, [doc])
    qtbot.waitUntil(lambda: [d.name for d in panel.documents] == ["nda.txt"], timeout=10_000)
    assert [c.name for c in library.collections()] == ["Deal A"]
    assert [d.name for d in library.documents("Deal A")] == ["nda.txt"]


def test_rename_collection_remove_and_show_document(qtbot, make_window, tmp_path, library, ingest):
    window = make_window()
    panel = window.documents_panel
    panel.pending_collections.add("Deal A")
    panel.select_collection("Deal A")
    qtbot.waitUntil(lambda: window.workers.running == 0)
    pages = tmp_path / "two.txt"
    pages.write_text("First part.\n\nSecond part about indemnities.", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("Something else entirely.", encoding="utf-8")
    ingest(window, [pages, other])
    qtbot.waitUntil(lambda: len(panel.documents) == 2)

    panel.rename_collection_to("Deal A", "Project Falcon")
    qtbot.waitUntil(lambda: panel.current_collection == "Project Falcon" and window.workers.running == 0)
    assert [c.name for c in library.collections()] == ["Project Falcon"]
    labels = [panel.collection_list.item(i).text() for i in range(panel.collection_list.count())]
    assert any(label.startswith("Project Falcon") for label in labels)

    doc_id = next(d.id for d in panel.documents if d.name == "two.txt")
    panel.show_document_requested.emit(doc_id)
    qtbot.waitUntil(lambda: window.viewer.document is not None and window.viewer.isVisible())
    assert "indemnities" in window.viewer.text.toPlainText()

    panel.remove_documents([next(d.id for d in panel.documents if d.name == "other.txt")])
    qtbot.waitUntil(lambda: [d.name for d in panel.documents] == ["two.txt"], timeout=10_000)
    assert [d.name for d in library.documents("Project Falcon")] == ["two.txt"]

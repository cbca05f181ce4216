"""A dropped data-room ZIP: progress and a result per member in the import list; the viewer shows
slides, an e-mail with attachments that open in it, and an image beside its OCR text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.library.dataroom_files import email_message, make_png, make_pptx, make_zip


def test_archive_members_get_progress_and_a_row_each(qtbot, make_window, tmp_path: Path):
    window = make_window()
    panel = window.documents_panel
    mail = email_message("Offer", "Our offer is attached.", attachments=[("offer.txt", "text/plain", b"Offer: 9m.\n")])
    room = make_zip(tmp_path / "room.zip", {"a/lease.txt": b"Lease: rent 12,500.\n", "b/offer.eml": mail.as_bytes(),
                                            "c/broken.pptx": b"PK\x03\x04 truncated"})
    titles: list[str] = []
    original = panel._ingest_progress

    def spy(progress):
        original(progress)
        titles.append(panel.import_title.text())

    panel._ingest_progress = spy  # the instance attribute is what the worker signal calls below
    with qtbot.waitSignal(panel.ingest_finished, timeout=60_000):
        panel.add_paths([room])
    assert "Importing file 1 of 1 · room.zip: 3 of 3…" in titles
    assert "Importing file 1 of 1 · room.zip/b/offer.eml: 1 of 1…" in titles
    rows = {panel.import_list.topLevelItem(i).text(0): panel.import_list.topLevelItem(i).text(1)
            for i in range(panel.import_list.topLevelItemCount())}
    assert rows["room.zip"].startswith("Archive")
    assert rows["room.zip/a/lease.txt"].startswith("Stored")
    assert rows["room.zip/b/offer.eml/offer.txt"].startswith("Stored")
    assert rows["room.zip/c/broken.pptx"].startswith("Failed: room.zip/c/broken.pptx: not a valid PowerPoint")
    qtbot.waitUntil(lambda: window.workers.running == 0 and {"room.zip/a/lease.txt", "room.zip/b/offer.eml",
                    "room.zip/b/offer.eml/offer.txt"} <= {d.name for d in panel.documents}, timeout=10_000)
    assert "Archive" in next(panel.tree.topLevelItem(i).text(2) for i in range(panel.tree.topLevelItemCount())
                             if panel.tree.topLevelItem(i).text(0) == "room.zip")
    assert len(panel.scope().doc_ids) == 3  # lease, e-mail, attachment: never the archive row itself


def test_viewer_shows_slides_email_attachments_and_images(qtbot, make_window, ingest, tmp_path: Path, library):
    window = make_window()
    deck = make_pptx(tmp_path / "deck.pptx")
    mail = tmp_path / "offer.eml"
    mail.write_bytes(email_message("Offer", "Our offer is attached.", attachments=[
        ("offer.txt", "text/plain", b"Offer: EUR 9,000,000.\n")]).as_bytes())
    ingest(window, [deck, mail])
    docs = {d.name: d for d in library.documents()}
    viewer = window.viewer

    window.open_document(docs["deck.pptx"].id, 2)
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "deck.pptx")
    assert viewer.unit_label.text() == "Slide" and viewer.page == 2 and "48,500,000" in viewer.text.toPlainText()
    assert viewer.attachments.isHidden() and viewer.picture_area.isHidden()

    window.open_document(docs["offer.eml"].id)
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "offer.eml")
    assert viewer.text.toPlainText().startswith("From: Ann Lee <ann@heron.example>")
    assert not viewer.attachments.isHidden() and viewer.attachments.count() == 1
    item = viewer.attachments.item(0)
    assert item.text().startswith("offer.txt")
    viewer.attachments.itemActivated.emit(item)
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "offer.eml/offer.txt")
    assert "EUR 9,000,000" in viewer.text.toPlainText()


@pytest.mark.slow
def test_viewer_shows_an_image_beside_its_ocr_text(qtbot, make_window, ingest, tmp_path: Path, library):
    from rlm_desktop.library.ocr import ocr_engine

    if ocr_engine() is None:
        pytest.skip("OCR (rapidocr-onnxruntime) is not installed")
    window = make_window()
    ingest(window, [make_png(tmp_path / "scan.png", ["CERTIFICATE 2031"])])
    doc = next(d for d in library.documents() if d.name == "scan.png")
    window.open_document(doc.id)
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.document is not None and viewer.document.name == "scan.png")
    assert not viewer.picture_area.isHidden()
    assert viewer.picture.pixmap() is not None and not viewer.picture.pixmap().isNull()
    assert "2031" in viewer.text.toPlainText()

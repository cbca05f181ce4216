"""The import list's reason rows: counts, what to do and examples, failures first."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from rlm_desktop.gui.import_summary import add_reason_rows


def test_reason_rows_lead_the_import_list(qtbot, library, tmp_path: Path):
    folder = tmp_path / "tree"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (16, 16), "green").save(folder / f"bullet{i}.png")
    (folder / "broken.pdf").write_bytes(os.urandom(400))
    (folder / "README").write_text("Read me.\n", encoding="utf-8")
    report = library.ingest([folder])

    tree = QTreeWidget()
    tree.setColumnCount(2)
    qtbot.addWidget(tree)
    tree.addTopLevelItem(QTreeWidgetItem(["README", "Stored"]))
    rows = add_reason_rows(tree, report, examples=2)
    texts = [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1)) for i in range(tree.topLevelItemCount())]
    assert [t[0] for t in texts] == ["1 failed: damaged or not what its name says",
                                     "4 skipped: no text: image too small to hold any", "README"]
    assert texts[1][1].startswith("What to do: nothing to do (icons and bullets) · e.g. ")
    assert texts[1][1].endswith(" and 2 more") and len(rows) == 2

"""Past runs of the current collection: reopen one, export it as Markdown, or resume one a crash interrupted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from rlm_desktop.gui.export import run_markdown
from rlm_desktop.gui.theme import icon
from rlm_desktop.gui.workers import Workers

_ROLE_ID = Qt.ItemDataRole.UserRole


class HistoryPanel(QWidget):
    run_opened = Signal(object)   # RunRecord with events
    resume_requested = Signal(int)  # id of an interrupted run to continue
    error = Signal(str)
    exported = Signal(str)        # path written

    def __init__(self, library: Any, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.workers = workers
        self.collection: str | None = None
        self.records: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        self.title = QLabel("Runs")
        self.title.setObjectName("sectionTitle")
        layout.addWidget(self.title)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Question", "When", "Ended"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(lambda item, _c: self.open_run(item.data(0, _ROLE_ID)))
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        layout.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.open_button = QPushButton(icon("open"), "Open")
        self.open_button.clicked.connect(self._open_selected)
        self.export_button = QPushButton(icon("export"), "Export as Markdown…")
        self.export_button.clicked.connect(self._export_selected)
        self.resume_button = QPushButton(icon("ask"), "Resume")
        self.resume_button.setToolTip("Continue a run that a crash interrupted, without repeating its model calls")
        self.resume_button.clicked.connect(self._resume_selected)
        self.resume_button.setEnabled(False)
        row.addWidget(self.open_button)
        row.addWidget(self.resume_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.empty = QLabel("No runs yet for this collection.")
        self.empty.setObjectName("muted")
        layout.addWidget(self.empty)

    def set_collection(self, collection: str | None) -> None:
        self.collection = collection
        self.refresh()

    def refresh(self) -> None:
        collection = self.collection
        self.workers.start(lambda: self.library.runs(collection), on_result=self._loaded,
                           on_error=lambda m: self.error.emit(f"Could not read past runs: {m}"),
                           description="list runs")

    def _loaded(self, records: list[Any]) -> None:
        self.records = records
        self.title.setText(f"Runs in {self.collection}" if self.collection else "Runs (all documents)")
        self.tree.clear()
        for r in records:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started))
            ended = r.status if r.status != "finished" else ("answer" if not r.stopped_by else r.stopped_by)
            if (r.settings or {}).get("client"):  # started by a local client (rlm serve / rlm mcp)
                ended += f" · {r.settings['client']}"
            item = QTreeWidgetItem([" ".join(r.question.split()), when, ended])
            item.setData(0, _ROLE_ID, r.id)
            item.setToolTip(0, f"{r.question}\n\n{(r.answer or '')[:400]}")
            if r.status == "interrupted":
                item.setToolTip(2, "The app stopped before this run ended; select it and click Resume.")
            self.tree.addTopLevelItem(item)
        self.empty.setVisible(not records)
        self._selection_changed()

    def selected_record(self) -> Any | None:
        run_id = self.selected_run_id()
        return next((r for r in self.records if r.id == run_id), None)

    def _selection_changed(self) -> None:
        record = self.selected_record()
        self.resume_button.setEnabled(record is not None and record.status == "interrupted")

    def _resume_selected(self) -> None:
        record = self.selected_record()
        if record is None or record.status != "interrupted":
            self.error.emit("Select an interrupted run to resume.")
            return
        self.resume_requested.emit(record.id)

    def selected_run_id(self) -> int | None:
        items = self.tree.selectedItems()
        return items[0].data(0, _ROLE_ID) if items else None

    def _open_selected(self) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            self.error.emit("Select a run to open.")
            return
        self.open_run(run_id)

    def open_run(self, run_id: int) -> None:
        self.workers.start(self.library.run, run_id, on_result=self.run_opened.emit,
                           on_error=lambda m: self.error.emit(f"Could not open run {run_id}: {m}"),
                           description="open run")

    def _export_selected(self) -> None:
        run_id = self.selected_run_id()
        if run_id is None:
            self.error.emit("Select a run to export.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export run as Markdown", f"run-{run_id}.md",
                                              "Markdown (*.md)")
        if path:
            self.export_run(run_id, Path(path))

    def export_run(self, run_id: int, path: Path) -> None:
        """Write run ``run_id`` as Markdown to ``path`` (off the GUI thread)."""
        def write() -> str:
            path.write_text(run_markdown(self.library.run(run_id)), encoding="utf-8")
            return str(path)

        self.workers.start(write, on_result=self.exported.emit,
                           on_error=lambda m: self.error.emit(f"Could not export run {run_id}: {m}"),
                           description="export run")

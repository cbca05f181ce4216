"""Model manager: catalog with fit labels, downloads with cancel/resume, local import, per-model settings."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QProgressBar, QPushButton, QSpinBox, QTabWidget, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.gui.hub_service import CatalogRow, HubService, HubSnapshot, InstalledRow, RepoFile
from rlm_desktop.sizes import model_size
from rlm_desktop.gui.theme import app_icon, current_colors
from rlm_desktop.gui.workers import Workers
from rlm_desktop.settings import Settings

log = logging.getLogger(__name__)

FIT_TEXT = {"fits": "Fits", "tight": "Tight", "too large": "Too large", "missing": "File missing", "?": "?"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"


def provenance_text(provenance: Any) -> str:
    """A model's source, upstream file, license, sha256 and size, one per line."""
    return "\n".join(f"{label}: {text}" for label, text in provenance.rows())


class DownloadCell(QWidget):
    """Download button, then a progress bar with Cancel; after a cancel or error, Resume."""

    def __init__(self, dialog: "ModelsDialog", repo: str, filename: str, key: str, partial_bytes: int = 0,
                 total: int | None = None) -> None:
        super().__init__()
        self.dialog, self.repo, self.filename, self.key = dialog, repo, filename, key
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 1, 2, 1)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(120)
        self.bar.setMaximumWidth(160)
        self.label = QLabel()
        self.label.setObjectName("muted")
        self.label.setMinimumWidth(300)
        self.button = QPushButton()
        self.button.clicked.connect(self._clicked)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self.cancel: CancelToken | None = None
        self.values: list[int] = []  # progress bar values seen (tests check that it moves)
        if partial_bytes:
            self._idle(f"Paused at {model_size(partial_bytes)}" + (f" of {model_size(total)}" if total else ""),
                       "Resume", fraction=(partial_bytes / total) if total else None)
        else:
            self._idle("", "Download")

    def _idle(self, text: str, button: str, fraction: float | None = None) -> None:
        self.cancel = None
        self.bar.setVisible(fraction is not None)
        if fraction is not None:
            self.bar.setValue(int(fraction * 1000))
        self.label.setText(text)
        self.button.setText(button)
        self.button.setEnabled(True)

    def _clicked(self) -> None:
        if self.cancel is not None:
            self.cancel.cancel()
            self.button.setEnabled(False)
            self.label.setText("Cancelling…")
        else:
            self.dialog.start_download(self)

    def started(self, cancel: CancelToken) -> None:
        self.cancel = cancel
        self.bar.show()
        self.label.setText("Connecting…")
        self.button.setText("Cancel")

    def progress(self, p: Any) -> None:
        fraction = p.fraction
        if fraction is not None:
            value = int(1000 * min(1.0, fraction))
            self.bar.setValue(value)
            self.values.append(value)
            self.bar.setFormat(f"{fraction * 100:.0f}%")
        phase = {"checking": "Checking the partial download…", "verifying": "Verifying checksum…",
                 "done": "Done"}.get(p.phase)
        if phase:
            self.label.setText(phase)
        else:
            parts = [f"{model_size(p.done)} of {model_size(p.total)}"]
            if p.rate:
                parts.append(f"{p.rate / 1e6:.1f} MB/s")
            if p.eta is not None:
                parts.append(f"{_duration(p.eta)} left")
            if p.resumed_from:
                parts.append(f"resumed at {model_size(p.resumed_from)}")
            self.label.setText(" · ".join(parts))

    def finished(self, installed: Any) -> None:
        if installed is None:
            self._idle(f"Paused at {self.bar.value() / 10:.0f}%", "Resume", fraction=self.bar.value() / 1000)
        else:
            self.cancel = None
            self.bar.setValue(1000)
            self.label.setText("Installed")
            self.button.setText("Installed")
            self.button.setEnabled(False)

    def failed(self, message: str) -> None:
        self._idle("Failed", "Retry", fraction=self.bar.value() / 1000 if self.bar.isVisible() else None)
        self.label.setToolTip(message)


class ModelsDialog(QDialog):
    """Choose root and sub models, download or import more, tune each one's load settings."""

    settings_changed = Signal(object)   # Settings with the chosen root/sub
    error = Signal(str)

    def __init__(self, settings: Settings, workers: Workers, parent: QWidget | None = None,
                 hub: HubService | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setWindowIcon(app_icon())
        self.resize(1060, 700)
        self.settings = settings
        self.workers = workers
        self.hub = hub or HubService()
        self.snapshot: HubSnapshot | None = None
        self.cells: dict[str, DownloadCell] = {}
        self._build()
        self.error.connect(self.show_error)
        self.refresh()

    # --- layout -------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        choose = QGroupBox("Models used for questions")
        form = QHBoxLayout(choose)
        self.root_combo = QComboBox()
        self.sub_combo = QComboBox()
        self.root_combo.setMinimumWidth(260)
        self.sub_combo.setMinimumWidth(260)
        self.use_button = QPushButton("Use these models")
        self.use_button.setObjectName("primary")
        self.use_button.clicked.connect(self.apply_choice)
        form.addWidget(QLabel("Root (writes the code):"))
        form.addWidget(self.root_combo, 1)
        form.addWidget(QLabel("Sub (reads the chunks):"))
        form.addWidget(self.sub_combo, 1)
        form.addWidget(self.use_button)
        layout.addWidget(choose)
        self.machine_label = QLabel("Reading this machine's memory…")
        self.machine_label.setObjectName("muted")
        self.machine_label.setWordWrap(True)
        self.recommended_label = QLabel()
        self.recommended_label.setWordWrap(True)
        layout.addWidget(self.machine_label)
        layout.addWidget(self.recommended_label)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._catalog_tab(), "Catalog")
        self.tabs.addTab(self._installed_tab(), "Installed")
        self.tabs.addTab(self._repo_tab(), "Any hub repo")
        layout.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        note = QLabel("Downloads resume where they stopped, even after a restart. Nothing touches the network "
                      "unless you start a download.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom.addWidget(note, 1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

    def _tree(self, headers: list[str], stretch: int = 0) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(headers)
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        header = tree.header()
        for i in range(len(headers)):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        return tree

    def _catalog_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.catalog_tree = self._tree(["Model", "Role", "Size", "Fit (8k context)", "License", "Download"],
                                       stretch=5)
        layout.addWidget(self.catalog_tree)
        return tab

    def _installed_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        self.installed_tree = self._tree(["Name", "Size", "Quant", "Context", "GPU layers", "Threads", "Fit",
                                          "Source"])
        self.installed_tree.itemSelectionChanged.connect(self._installed_selected)
        layout.addWidget(self.installed_tree, 1)
        origin = QGroupBox("Where the selected model comes from")
        origin_layout = QVBoxLayout(origin)
        self.provenance_label = QLabel("Select a model to see its source, upstream file, license and checksum.")
        self.provenance_label.setObjectName("muted")
        self.provenance_label.setWordWrap(True)
        self.provenance_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        origin_layout.addWidget(self.provenance_label)
        layout.addWidget(origin)
        edit = QGroupBox("Load settings of the selected model")
        form = QFormLayout(edit)
        self.ctx_spin = QSpinBox()
        self.ctx_spin.setRange(512, 1_048_576)
        self.ctx_spin.setSingleStep(1024)
        self.ctx_spin.setSuffix(" tokens")
        self.gpu_spin = QSpinBox()
        self.gpu_spin.setRange(-1, 999)
        self.gpu_spin.setSpecialValueText("all")
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, 256)
        self.threads_spin.setSpecialValueText("automatic")
        form.addRow("Context size", self.ctx_spin)
        form.addRow("GPU layers", self.gpu_spin)
        form.addRow("Threads", self.threads_spin)
        self.gpu_label = QLabel()
        self.gpu_label.setObjectName("muted")
        self.gpu_label.setWordWrap(True)
        form.addRow("", self.gpu_label)
        buttons = QHBoxLayout()
        self.save_settings_button = QPushButton("Save settings")
        self.save_settings_button.clicked.connect(self.save_model_settings)
        self.remove_button = QPushButton("Remove model")
        self.remove_button.setObjectName("danger")
        self.remove_button.clicked.connect(self.remove_selected)
        self.import_button = QPushButton("Import .gguf…")
        self.import_button.clicked.connect(self.import_dialog)
        self.copy_check = QCheckBox("Copy into the app's models folder")
        buttons.addWidget(self.save_settings_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_check)
        buttons.addWidget(self.import_button)
        form.addRow(buttons)
        layout.addWidget(edit)
        return tab

    def _repo_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        row = QHBoxLayout()
        self.repo_edit = QLineEdit()
        self.repo_edit.setPlaceholderText("Hugging Face repo id, e.g. bartowski/Qwen2.5-Coder-7B-Instruct-GGUF")
        self.repo_edit.returnPressed.connect(self.list_repo)
        self.list_button = QPushButton("List GGUF files")
        self.list_button.clicked.connect(self.list_repo)
        row.addWidget(self.repo_edit, 1)
        row.addWidget(self.list_button)
        layout.addLayout(row)
        self.repo_tree = self._tree(["File", "Quant", "Size", "Fit (weights)", "Download"])
        layout.addWidget(self.repo_tree, 1)
        return tab

    # --- loading ------------------------------------------------------------
    def set_settings(self, settings: Settings) -> None:
        self.settings = settings
        if self.snapshot is not None:
            self._fill_choices(self.snapshot)

    def refresh(self) -> None:
        self.workers.start(self.hub.snapshot, on_result=self._loaded, on_error=self.error.emit,
                           description="read models")

    def _loaded(self, snapshot: HubSnapshot) -> None:
        self.snapshot = snapshot
        self.machine_label.setText(f"{snapshot.machine} {snapshot.gpu}")
        self.gpu_label.setText(snapshot.gpu)
        self.recommended_label.setText(snapshot.recommended)
        if snapshot.catalog_error:
            self.show_error(snapshot.catalog_error)
        self._fill_catalog(snapshot.catalog)
        self._fill_installed(snapshot.installed)
        self._fill_choices(snapshot)

    def _fit_item(self, item: QTreeWidgetItem, column: int, fit: str) -> None:
        colors = current_colors()
        item.setText(column, FIT_TEXT.get(fit, fit))
        color = {"fits": colors.success, "tight": "#b7791f", "too large": colors.danger,
                 "missing": colors.danger}.get(fit)
        if color:
            from PySide6.QtGui import QBrush, QColor

            item.setForeground(column, QBrush(QColor(color)))

    def _fill_catalog(self, rows: list[CatalogRow]) -> None:
        running = {k: c for k, c in self.cells.items() if c.cancel is not None}
        self.catalog_tree.clear()
        self.cells = dict(running)
        for row in rows:
            item = QTreeWidgetItem([row.title, row.role, model_size(row.size_bytes), "", row.license, ""])
            item.setToolTip(0, f"{row.key}\n{row.notes}" + (f"\n{row.repo}/{row.file}" if row.repo else ""))
            self._fit_item(item, 3, row.fit)
            self.catalog_tree.addTopLevelItem(item)
            if row.demo:
                item.setText(5, "Shipped with the app")
            elif row.installed and row.key not in running:
                item.setText(5, "Installed")
            elif row.repo and row.file:
                cell = running.get(row.key) or DownloadCell(self, row.repo, row.file, row.key, row.partial_bytes,
                                                            row.size_bytes)
                self.cells[row.key] = cell
                self.catalog_tree.setItemWidget(item, 5, cell)

    def _fill_installed(self, rows: list[InstalledRow]) -> None:
        self.installed_tree.clear()
        for row in rows:
            item = QTreeWidgetItem([
                row.name, model_size(row.size_bytes), row.quantization or "?",
                f"{row.n_ctx:,}" if row.n_ctx else "auto", "all" if row.n_gpu_layers < 0 else str(row.n_gpu_layers),
                str(row.n_threads) if row.n_threads else "auto", "", row.source])
            item.setData(0, Qt.ItemDataRole.UserRole, row)
            item.setToolTip(0, f"{row.path}\n{provenance_text(row.provenance)}" if row.provenance else str(row.path))
            self._fit_item(item, 6, row.fit)
            self.installed_tree.addTopLevelItem(item)

    def _fill_choices(self, snapshot: HubSnapshot) -> None:
        names = [row.name for row in snapshot.installed]
        for combo, current in ((self.root_combo, self.settings.root_model), (self.sub_combo, self.settings.sub_model)):
            combo.blockSignals(True)
            combo.clear()
            for row in snapshot.installed:
                combo.addItem(f"{row.name}  ({model_size(row.size_bytes)}, {FIT_TEXT.get(row.fit, row.fit)})",
                              self.hub.spec_for(row.name))
            if current not in [combo.itemData(i) for i in range(combo.count())] and current not in names:
                combo.addItem(current, current)  # a path or server URL chosen elsewhere
            index = max(0, combo.findData(current))
            combo.setCurrentIndex(index)
            combo.blockSignals(False)

    # --- actions ------------------------------------------------------------
    def show_error(self, message: str) -> None:
        log.warning("models dialog: %s", message)
        self.error_label.setText(message)
        self.error_label.show()

    def apply_choice(self) -> None:
        root, sub = self.root_combo.currentData(), self.sub_combo.currentData()
        if not root or not sub:
            self.show_error("Choose a root and a sub model first.")
            return
        self.settings = dataclasses.replace(self.settings, root_model=root, sub_model=sub)
        self.settings_changed.emit(self.settings)
        self.error_label.hide()

    def start_download(self, cell: DownloadCell) -> None:
        cancel = CancelToken()
        cell.started(cancel)
        self.error_label.hide()

        def pull(report: Any) -> Any:
            return self.hub.pull(cell.repo, cell.filename, on_progress=report, cancel=cancel)

        def done(installed: Any) -> None:
            cell.finished(installed)
            if installed is not None:
                self.refresh()

        def failed(message: str) -> None:
            cell.failed(message)
            self.show_error(f"Download of {cell.filename} failed: {message}")

        self.workers.start(pull, on_result=done, on_error=failed, on_progress=cell.progress,
                           description=f"download {cell.filename}")

    def cancel_downloads(self) -> None:
        for cell in self.cells.values():
            if cell.cancel is not None:
                cell.cancel.cancel()
        for cell in self.repo_cells():
            if cell.cancel is not None:
                cell.cancel.cancel()

    def repo_cells(self) -> list[DownloadCell]:
        cells = []
        for i in range(self.repo_tree.topLevelItemCount()):
            widget = self.repo_tree.itemWidget(self.repo_tree.topLevelItem(i), 4)
            if isinstance(widget, DownloadCell):
                cells.append(widget)
        return cells

    def list_repo(self) -> None:
        repo = self.repo_edit.text().strip()
        if repo.count("/") != 1:
            self.show_error("Enter a repo id like owner/name.")
            return
        self.list_button.setEnabled(False)
        self.workers.start(self.hub.list_files, repo, on_result=lambda files: self._repo_listed(repo, files),
                           on_error=lambda m: (self.list_button.setEnabled(True), self.show_error(m)),
                           description="list repo files")

    def _repo_listed(self, repo: str, files: list[RepoFile]) -> None:
        self.list_button.setEnabled(True)
        self.repo_tree.clear()
        if not files:
            self.show_error(f"{repo} has no GGUF files.")
        for f in files:
            item = QTreeWidgetItem([f.filename + (f"  ({f.shard})" if f.shard else ""), f.quantization or "?",
                                    model_size(f.size), "", ""])
            self._fit_item(item, 3, f.fit)
            self.repo_tree.addTopLevelItem(item)
            if not f.shard or f.shard.startswith("part 1 "):
                self.repo_tree.setItemWidget(item, 4, DownloadCell(self, repo, f.filename, f"{repo}/{f.filename}"))

    def _selected_installed(self) -> InstalledRow | None:
        items = self.installed_tree.selectedItems()
        return items[0].data(0, Qt.ItemDataRole.UserRole) if items else None

    def _installed_selected(self) -> None:
        row = self._selected_installed()
        if row is None:
            return
        self.ctx_spin.setValue(row.n_ctx or min(8192, row.context_length or 8192))
        self.gpu_spin.setValue(row.n_gpu_layers)
        self.threads_spin.setValue(row.n_threads or 0)
        self.remove_button.setEnabled(not row.is_demo)
        self.provenance_label.setText(provenance_text(row.provenance) if row.provenance else str(row.path))

    def save_model_settings(self) -> None:
        row = self._selected_installed()
        if row is None:
            self.show_error("Select an installed model first.")
            return
        values = {"n_ctx": self.ctx_spin.value(), "n_gpu_layers": self.gpu_spin.value(),
                  "n_threads": self.threads_spin.value() or None}
        self.workers.start(lambda: self.hub.set_settings(row.name, **values), on_result=lambda _r: self._changed(),
                           on_error=self.show_error, description="save model settings")

    def _changed(self) -> None:
        self.refresh()
        self.settings_changed.emit(self.settings)  # loaded models are reloaded with the new settings

    def remove_selected(self) -> None:
        row = self._selected_installed()
        if row is None:
            self.show_error("Select an installed model first.")
            return
        self.workers.start(self.hub.remove, row.name, on_result=lambda _r: self.refresh(), on_error=self.show_error,
                           description="remove model")

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.import_file(Path(path), copy=self.copy_check.isChecked())

    def import_file(self, path: Path, *, copy: bool = False) -> None:
        self.workers.start(lambda: self.hub.import_file(path, copy=copy), on_result=lambda _m: self.refresh(),
                           on_error=lambda m: self.show_error(f"Could not import {path.name}: {m}"),
                           description="import model")

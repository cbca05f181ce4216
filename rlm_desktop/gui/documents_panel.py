"""Collections and documents: drop files or folders, watch them ingest, see what failed and why."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QFrame, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QListWidget,
    QListWidgetItem, QMessageBox, QProgressBar, QPushButton, QSplitter, QStackedWidget, QToolButton,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from rlm_desktop.backends.base import CancelToken
from rlm_desktop.gui.import_summary import add_reason_rows
from rlm_desktop.gui.theme import current_colors, icon
from rlm_desktop.gui.workers import Workers
from rlm_desktop.sizes import document_size

log = logging.getLogger(__name__)

ALL_DOCUMENTS = "All documents"
_ROLE_ID = Qt.ItemDataRole.UserRole
_ROLE_INFO = Qt.ItemDataRole.UserRole + 1


FLAG_TOOLTIP = ("This document holds text written to steer an AI (an instruction to the model, a fake chat turn or "
                "answer) or text a reader cannot see. It is read as evidence, never as instructions; open it to see "
                "the passage highlighted.")


def flag_note(count: int) -> str:
    """The warning a flagged document carries in the list."""
    return f"{count} flagged passage{'s' if count != 1 else ''} (text addressed to an AI or hidden)"


@dataclass(frozen=True)
class Scope:
    """What a question is asked over: a collection (None = everything) or chosen documents."""

    collection: str | None
    doc_ids: list[int] = field(default_factory=list)
    selected: bool = False  # True when doc_ids is a selection, not the whole collection
    label: str = ""


class DocumentsPanel(QWidget):
    """Left side of the window. Needs a Library (see rlm_desktop.library) and the app's Workers."""

    scope_changed = Signal(object)            # Scope
    show_document_requested = Signal(int)     # doc_id
    error = Signal(str)
    ingest_finished = Signal(object)          # IngestReport
    collection_changed = Signal(object)       # str | None

    def __init__(self, library: Any, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.workers = workers
        self.setAcceptDrops(True)
        self.documents: list[Any] = []
        self.collection_names: list[str] = []
        self.pending_collections: set[str] = set()  # created here, no document yet
        self.current_collection: str | None = None
        self.ingest_cancel: CancelToken | None = None
        self.import_rows: dict[str, QTreeWidgetItem] = {}
        self.refreshing = False
        self._refresh_generation = 0
        self._build()

    # --- layout -------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.setSpacing(6)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(self._title_row("Collections", [
            ("New collection…", "add-folder", self.new_collection),
            ("Rename collection…", "rename", self.rename_collection),
        ]))
        self.collection_list = QListWidget()
        self.collection_list.currentItemChanged.connect(self._collection_selected)
        top_layout.addWidget(self.collection_list)
        splitter.addWidget(top)

        middle = QWidget()
        mid_layout = QVBoxLayout(middle)
        mid_layout.setContentsMargins(0, 0, 0, 0)
        mid_layout.addLayout(self._title_row("Documents", [
            ("Add files… (Ctrl+O)", "add-files", self.add_files_dialog),
            ("Add folder…", "add-folder", self.add_folder_dialog),
            ("Show document", "open", self.show_selected),
            ("Remove from library", "remove", self.remove_selected),
        ]))
        self.stack = QStackedWidget()
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Name", "Pages", "Status"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._emit_scope)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._show_item(item))
        self.empty = QLabel("Drop files, whole folders or a data-room ZIP here\n(PDF, Word, Excel, PowerPoint, "
                            "e-mail, OpenDocument, RTF, scanned images, CSV, HTML, text, code)\n\n"
                            "or use Add files… (Ctrl+O)")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("muted")
        self.empty.setWordWrap(True)
        self.empty.setFrameShape(QFrame.Shape.StyledPanel)
        self.stack.addWidget(self.tree)
        self.stack.addWidget(self.empty)
        mid_layout.addWidget(self.stack, 1)
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        mid_layout.addWidget(self.summary)
        splitter.addWidget(middle)

        self.import_box = QFrame()
        imp = QVBoxLayout(self.import_box)
        imp.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.import_title = QLabel("Import")
        self.import_title.setObjectName("sectionTitle")
        self.import_cancel = QPushButton("Cancel")
        self.import_cancel.clicked.connect(self.cancel_ingest)
        self.import_clear = QPushButton("Clear list")
        self.import_clear.clicked.connect(self.clear_import_list)
        row.addWidget(self.import_title, 1)
        row.addWidget(self.import_cancel)
        row.addWidget(self.import_clear)
        imp.addLayout(row)
        self.import_progress = QProgressBar()
        self.import_progress.setRange(0, 1000)
        self.import_progress.setFormat("%p%")
        imp.addWidget(self.import_progress)
        self.import_list = QTreeWidget()
        self.import_list.setColumnCount(2)
        self.import_list.setHeaderLabels(["File", "Result"])
        self.import_list.setRootIsDecorated(False)
        self.import_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.import_list.header().setStretchLastSection(True)
        self.import_list.setWordWrap(True)
        imp.addWidget(self.import_list, 1)
        splitter.addWidget(self.import_box)
        splitter.setSizes([150, 420, 180])
        self.import_box.hide()
        self.splitter = splitter

        self.drop_hint = QLabel("Drop to add to the library", self)
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.hide()

    def _title_row(self, title: str, actions: list[tuple[str, str, Any]]) -> QHBoxLayout:
        row = QHBoxLayout()
        label = QLabel(title)
        label.setObjectName("sectionTitle")
        row.addWidget(label, 1)
        for tooltip, icon_name, slot in actions:
            button = QToolButton()
            button.setIcon(icon(icon_name))
            button.setToolTip(tooltip)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            row.addWidget(button)
        return row

    # --- loading ------------------------------------------------------------
    def refresh(self) -> None:
        """Reload collections and the current collection's documents (off the GUI thread)."""
        collection = self.current_collection
        pending = set(self.pending_collections)
        self.refreshing = True

        def fetch() -> tuple[list[Any], list[Any], str | None]:
            check = getattr(self.library, "check_flags", None)
            if check is not None:
                check()  # documents stored before flags existed are flagged from their text, once
            collections = self.library.collections()
            names = {c.name for c in collections}
            if collection is not None and collection not in names:
                # a collection created here that has no document yet, or one that is gone
                return collections, [], collection if collection in pending else None
            return collections, self.library.documents(collection), collection

        self._refresh_generation += 1
        generation = self._refresh_generation

        def loaded(result: tuple[list[Any], list[Any], str | None]) -> None:
            if generation == self._refresh_generation:  # a newer refresh supersedes this one
                self._loaded(result)

        self.workers.start(fetch, on_result=loaded, on_error=self._refresh_failed, description="load documents")

    def _refresh_failed(self, message: str) -> None:
        self.refreshing = False
        self.error.emit(f"Could not read the library: {message}")

    def _loaded(self, result: tuple[list[Any], list[Any], str | None]) -> None:
        collections, documents, shown = result
        self.refreshing = False
        if shown != self.current_collection and self.current_collection not in self.pending_collections:
            self.current_collection = shown
            self.collection_changed.emit(shown)
        names = [c.name for c in collections]
        self.pending_collections -= set(names)
        self.collection_names = names
        self.collection_list.blockSignals(True)
        self.collection_list.clear()
        total = QListWidgetItem(icon("collection"), ALL_DOCUMENTS)
        total.setData(_ROLE_ID, None)
        self.collection_list.addItem(total)
        current_row = 0
        for info in collections:
            item = QListWidgetItem(icon("collection"), f"{info.name}  ·  {info.documents}")
            item.setData(_ROLE_ID, info.name)
            item.setToolTip(f"{info.documents} documents, {info.chars:,} characters")
            self.collection_list.addItem(item)
            if info.name == self.current_collection:
                current_row = self.collection_list.count() - 1
        for name in sorted(self.pending_collections):
            item = QListWidgetItem(icon("collection"), f"{name}  ·  0")
            item.setData(_ROLE_ID, name)
            self.collection_list.addItem(item)
            if name == self.current_collection:
                current_row = self.collection_list.count() - 1
        self.collection_list.setCurrentRow(current_row)
        self.collection_list.blockSignals(False)
        self._show_documents(documents)

    def _show_documents(self, documents: list[Any]) -> None:
        self.documents = documents
        self.tree.blockSignals(True)
        self.tree.clear()
        colors = current_colors()
        failed = 0
        for doc in documents:
            item = QTreeWidgetItem([doc.name, str(doc.pages) if doc.status != "failed" else "–", ""])
            item.setData(0, _ROLE_ID, doc.id)
            item.setData(0, _ROLE_INFO, doc)
            if doc.status == "archive":
                item.setText(1, str(doc.pages))
                item.setIcon(0, icon("ok"))
                item.setText(2, f"Archive · {doc.pages} file{'s' if doc.pages != 1 else ''} (listed as documents)")
                item.setToolTip(0, f"{doc.path}\n{document_size(doc.size)}; select it to ask about all its files")
            elif doc.status == "failed":
                failed += 1
                item.setIcon(0, icon("failed"))
                item.setText(2, f"Failed: {doc.error or 'unknown reason'}")
                item.setForeground(2, _brush(colors.danger))
                item.setToolTip(0, f"{doc.path}\nFailed: {doc.error}")
                item.setToolTip(2, doc.error or "")
            else:
                notes = []
                if doc.ocr_pages:
                    notes.append(f"{doc.ocr_pages} OCR")
                if doc.empty_pages:
                    notes.append(f"{doc.empty_pages} without text (scanned?)")
                if getattr(doc, "flags", 0):
                    notes.insert(0, f"⚠ {flag_note(doc.flags)}")
                item.setIcon(0, icon("warning" if doc.empty_pages or getattr(doc, "flags", 0) else "ok"))
                item.setText(2, "Ready" + (f" · {', '.join(notes)}" if notes else ""))
                item.setToolTip(0, f"{doc.path}\n{document_size(doc.size)}, {doc.chars:,} characters"
                                   + (f", version {doc.version}" if doc.version > 1 else ""))
                if getattr(doc, "flags", 0):
                    item.setForeground(2, _brush(colors.danger))
                    item.setToolTip(2, FLAG_TOOLTIP)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)
        self.stack.setCurrentWidget(self.tree if documents else self.empty)
        stored = sum(1 for d in documents if d.status == "stored")
        chars = sum(d.chars for d in documents if d.status == "stored")
        text = f"{stored} document{'s' if stored != 1 else ''}, {chars:,} characters"
        if failed:
            text += f" · {failed} failed"
        self.summary.setText(text)
        self._emit_scope()

    def _collection_selected(self, item: QListWidgetItem | None, _previous: Any = None) -> None:
        self.current_collection = item.data(_ROLE_ID) if item is not None else None
        self.collection_changed.emit(self.current_collection)
        self.refresh()

    def select_collection(self, name: str | None) -> None:
        self.current_collection = name
        self.collection_changed.emit(name)
        self.refresh()

    # --- scope --------------------------------------------------------------
    def scope(self) -> Scope:
        stored = [d for d in self.documents if d.status == "stored"]
        chosen = [item.data(0, _ROLE_INFO) for item in self.tree.selectedItems()]
        chosen = [d for d in chosen if d is not None and d.status != "failed"]
        where = f"collection “{self.current_collection}”" if self.current_collection else "all documents"
        if chosen:
            names = ", ".join(d.name for d in chosen[:2]) + ("…" if len(chosen) > 2 else "")
            return Scope(self.current_collection, [d.id for d in chosen], True,
                         f"{len(chosen)} selected document{'s' if len(chosen) != 1 else ''} ({names})")
        return Scope(self.current_collection, [d.id for d in stored], False,
                     f"{where} ({len(stored)} document{'s' if len(stored) != 1 else ''})")

    def _emit_scope(self) -> None:
        self.scope_changed.emit(self.scope())

    # --- ingest -------------------------------------------------------------
    def add_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add files to the library")
        if files:
            self.add_paths([Path(f) for f in files])

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder (all files inside it, recursively)")
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path]) -> None:
        """Ingest files and folders into the current collection, reporting each file."""
        if not paths:
            return
        if self.ingest_cancel is not None:
            self.error.emit("An import is already running; wait for it to finish or cancel it.")
            return
        collection = self.current_collection
        cancel = CancelToken()
        self.ingest_cancel = cancel
        self.import_box.show()
        self.import_progress.setValue(0)
        self.import_cancel.setEnabled(True)
        self.import_clear.setEnabled(False)
        self.import_title.setText(f"Importing into {collection or 'the library'}…")

        def ingest(report: Any) -> Any:
            return self.library.ingest(list(paths), collection=collection, on_progress=report, cancel=cancel)

        self.workers.start(ingest, on_result=self._ingest_done, on_error=self._ingest_failed,
                           on_progress=self._ingest_progress, description="ingest")

    def _import_row(self, path: Path, label: str | None = None) -> QTreeWidgetItem:
        """The import list's row for a file, or for a member of an archive or e-mail (by its path in it)."""
        key = str(path)
        row = self.import_rows.get(key)
        if row is None:
            row = QTreeWidgetItem([label or path.name, "Waiting"])
            row.setToolTip(0, key)
            self.import_list.addTopLevelItem(row)
            self.import_rows[key] = row
        return row

    def _ingest_progress(self, progress: Any) -> None:
        total = max(1, int(progress.total_bytes))
        self.import_progress.setValue(int(1000 * min(1.0, progress.bytes_done / total)))
        title = f"Importing file {progress.index + 1} of {progress.total_files}"
        if progress.member_total:
            title += f" · {progress.container}: {progress.member_index + 1} of {progress.member_total}"
        self.import_title.setText(title + "…")
        row = self._import_row(Path(progress.path), progress.label)
        if progress.stage == "start":
            row.setText(1, "Reading…")
            self.import_list.scrollToItem(row)
        elif progress.result is not None:
            self._show_result(row, progress.result)

    def _show_result(self, row: QTreeWidgetItem, result: Any) -> None:
        colors = current_colors()
        status = result.status
        if status == "failed" or status == "skipped":
            row.setIcon(0, icon("failed" if status == "failed" else "warning"))
            row.setText(1, f"{'Failed' if status == 'failed' else 'Skipped'}: {result.reason or 'unknown reason'}")
            row.setForeground(1, _brush(colors.danger))
        else:
            row.setIcon(0, icon("ok"))
            words = {"stored": "Stored", "new_version": "Stored as a new version", "duplicate": "Already in the "
                     "library", "unchanged": "Unchanged", "archive": "Archive"}
            text = words.get(status, status.capitalize())
            if status in ("archive", "unchanged") and result.reason:
                text += f" · {result.reason}"
            if result.pages:
                text += f" · {result.pages} page{'s' if result.pages != 1 else ''}"
            if result.ocr_pages:
                text += f" · {result.ocr_pages} OCR"
            if result.empty_pages:
                text += f" · {result.empty_pages} without text (scanned?)"
                row.setIcon(0, icon("warning"))
            row.setText(1, text)
        row.setToolTip(1, row.text(1))

    def _ingest_done(self, report: Any) -> None:
        self.ingest_cancel = None
        for result in report.files:
            self._show_result(self._import_row(Path(result.path), result.label), result)
        add_reason_rows(self.import_list, report)
        ok = sum(1 for f in report.files if f.ok)
        failed, skipped = report.count("failed"), report.count("skipped")
        title = f"Imported {ok} of {len(report.files)} file{'s' if len(report.files) != 1 else ''}"
        if failed:
            title += f" · {failed} failed"
        if skipped:
            title += f" · {skipped} skipped"
        if failed or skipped:
            title += " (reasons and what to do below)"
        if report.cancelled:
            title += " · cancelled"
        self.import_title.setText(title)
        self.import_progress.setValue(1000)
        self.import_cancel.setEnabled(False)
        self.import_clear.setEnabled(True)
        self.refresh()
        self.ingest_finished.emit(report)

    def _ingest_failed(self, message: str) -> None:
        self.ingest_cancel = None
        self.import_title.setText("Import failed")
        self.import_cancel.setEnabled(False)
        self.import_clear.setEnabled(True)
        self.error.emit(f"Import failed: {message}")
        self.refresh()

    def cancel_ingest(self) -> None:
        if self.ingest_cancel is not None:
            self.ingest_cancel.cancel()
            self.import_title.setText("Cancelling after the current file…")

    def clear_import_list(self) -> None:
        self.import_list.clear()
        self.import_rows.clear()
        self.import_box.hide()

    @property
    def ingesting(self) -> bool:
        return self.ingest_cancel is not None

    # --- drag and drop ------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            where = self.current_collection or "the library"
            self.drop_hint.setText(f"Drop to add to {where}")
            self.drop_hint.setStyleSheet(
                f"background: {current_colors().selection}; border: 2px dashed {current_colors().accent};"
                f" border-radius: 8px; font-size: 12pt; color: {current_colors().text};")
            self.drop_hint.setGeometry(self.rect().adjusted(6, 6, -6, -6))
            self.drop_hint.raise_()
            self.drop_hint.show()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt override
        self.drop_hint.hide()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self.drop_hint.hide()
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_paths(paths)

    # --- collection and document actions ------------------------------------
    def new_collection(self) -> None:
        name, ok = QInputDialog.getText(self, "New collection", "Name of the new collection (e.g. one per deal):")
        name = name.strip()
        if not ok or not name:
            return
        if name in self.collection_names or name == ALL_DOCUMENTS:
            self.error.emit(f"A collection named “{name}” already exists.")
            return
        self.pending_collections.add(name)
        self.current_collection = name
        self.refresh()

    def rename_collection(self) -> None:
        old = self.current_collection
        if not old:
            self.error.emit("Choose a collection to rename (“All documents” cannot be renamed).")
            return
        new, ok = QInputDialog.getText(self, "Rename collection", f"New name for “{old}”:", text=old)
        new = new.strip()
        if ok and new and new != old:
            self.rename_collection_to(old, new)

    def rename_collection_to(self, old: str, new: str) -> None:
        if old in self.pending_collections:
            self.pending_collections.discard(old)
            self.pending_collections.add(new)
            self.current_collection = new
            self.refresh()
            return

        def done(_result: Any) -> None:
            self.current_collection = new
            self.refresh()

        self.workers.start(self.library.rename_collection, old, new, on_result=done,
                           on_error=lambda m: self.error.emit(f"Could not rename “{old}”: {m}"),
                           description="rename collection")

    def selected_documents(self) -> list[Any]:
        return [item.data(0, _ROLE_INFO) for item in self.tree.selectedItems()]

    def remove_selected(self) -> None:
        docs = self.selected_documents()
        if not docs:
            self.error.emit("Select the documents to remove first.")
            return
        names = "\n".join(f"• {d.name}" for d in docs[:10]) + ("\n…" if len(docs) > 10 else "")
        answer = QMessageBox.question(
            self, "Remove documents",
            f"Remove {len(docs)} document{'s' if len(docs) != 1 else ''} from the library?\n\n{names}\n\n"
            "Past runs keep their answers; the files on disk are not touched.")
        if answer == QMessageBox.StandardButton.Yes:
            self.remove_documents([d.id for d in docs])

    def remove_documents(self, doc_ids: list[int]) -> None:
        def remove() -> None:
            for doc_id in doc_ids:
                self.library.remove_document(doc_id)

        self.workers.start(remove, on_result=lambda _r: self.refresh(),
                           on_error=lambda m: (self.error.emit(f"Could not remove: {m}"), self.refresh()),
                           description="remove documents")

    def show_selected(self) -> None:
        items = self.tree.selectedItems()
        if not items:
            self.error.emit("Select a document to show.")
            return
        self._show_item(items[0])

    def _show_item(self, item: QTreeWidgetItem) -> None:
        info = item.data(0, _ROLE_INFO)
        if info is None:
            return
        if info.status == "failed":
            self.error.emit(f"{info.name} could not be read: {info.error}")
            return
        if info.status == "archive":
            self.error.emit(f"{info.name} is an archive: its {info.pages} files are listed as documents "
                            f"({info.name}/…); open one of them.")
            return
        self.show_document_requested.emit(int(info.id))

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if event.matches(QKeySequence.StandardKey.Delete) and self.tree.hasFocus():
            self.remove_selected()
        else:
            super().keyPressEvent(event)


def _brush(color: str) -> Any:
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(color))

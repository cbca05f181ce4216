"""Settings > Local services: run the OpenAI-compatible and MCP servers for other local apps.

Shows each server's address, the clients that connected and the runs they started (those runs
also appear in History, marked with their client). Servers start and stop on worker threads.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from rlm_desktop.gui.workers import Workers
from rlm_desktop.service.controller import MCP, OPENAI, LocalServices
from rlm_desktop.service.security import new_token

_REFRESH_MS = 1000
_TITLES = {OPENAI: "OpenAI-compatible server (LM Studio-style /v1)", MCP: "MCP server (streamable HTTP)"}


class ServicesDialog(QDialog):
    """Start/stop controls per server, remote-access settings with a token, clients and their runs."""

    settings_changed = Signal(object)  # Settings, after the user changed a service setting
    error = Signal(str)

    def __init__(self, services: LocalServices, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Local services")
        self.setMinimumWidth(640)
        self.services = services
        self.workers = workers
        layout = QVBoxLayout(self)
        self.rows: dict[str, _ServerRow] = {}
        for kind in (OPENAI, MCP):
            row = _ServerRow(kind, services.settings.serve_port if kind == OPENAI else services.settings.mcp_port)
            row.toggle.clicked.connect(lambda _=False, k=kind: self.toggle(k))
            self.rows[kind] = row
            layout.addWidget(row.box)

        stdio = QGroupBox("MCP over stdio (Claude Desktop, IDE agents)")
        form = QFormLayout(stdio)
        command = QLineEdit("rlm mcp")
        command.setReadOnly(True)
        form.addRow("Command for the client's configuration", command)
        layout.addWidget(stdio)

        access = QGroupBox("Access")
        form = QFormLayout(access)
        self.allow_remote = QCheckBox("Allow other devices on the network (they need the token)")
        self.allow_remote.setChecked(services.settings.service_allow_remote)
        self.allow_remote.toggled.connect(self._remote_toggled)
        self.token = QLineEdit(services.settings.service_token)
        self.token.setReadOnly(True)
        self.token.setPlaceholderText("No token: loopback only")
        self.new_token_button = QPushButton("Generate token")
        self.new_token_button.clicked.connect(self.generate_token)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.new_token_button)
        form.addRow(self.allow_remote)
        form.addRow("Bearer token", token_row)
        note = QLabel("Changes apply when a server is next started. Loopback (this computer) needs no token.")
        note.setObjectName("muted")
        form.addRow(note)
        layout.addWidget(access)

        self.clients = _tree(["Client", "Address", "Requests", "Last seen"])
        self.runs = _tree(["Client", "Model", "Question", "Status", "Run"])
        layout.addWidget(QLabel("Clients connected"))
        layout.addWidget(self.clients)
        layout.addWidget(QLabel("Runs started by clients (also in History)"))
        layout.addWidget(self.runs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(_REFRESH_MS)
        self.refresh()

    # --- actions ----------------------------------------------------------------------------
    def toggle(self, kind: str) -> None:
        """Start the server if stopped, else stop it (on a worker thread)."""
        row = self.rows[kind]
        row.busy = True
        row.toggle.setEnabled(False)
        running = kind in self.services.running()
        row.status.setText("Stopping…" if running else "Starting…")
        port = row.port.value()
        work: Callable[[], Any] = (lambda: self.services.stop(kind)) if running else \
            (lambda: self.services.start(kind, port))
        self.workers.start(work, on_result=lambda _r, k=kind: self._done(k),
                           on_error=lambda m, k=kind: self._failed(k, m),
                           description=f"{'stop' if running else 'start'} {kind} server")

    def generate_token(self) -> None:
        self._update_settings(service_token=new_token())
        self.token.setText(self.services.settings.service_token)

    def _remote_toggled(self, allowed: bool) -> None:
        if allowed and not self.services.settings.service_token:
            self.generate_token()
        self._update_settings(service_allow_remote=allowed)

    def _update_settings(self, **changes: Any) -> None:
        settings = dataclasses.replace(self.services.settings, **changes)
        self.services.settings = settings
        self.settings_changed.emit(settings)

    def _done(self, kind: str) -> None:
        self.rows[kind].busy = False
        self.rows[kind].status.setText("Stopped")
        self.refresh()

    def _failed(self, kind: str, message: str) -> None:
        self.rows[kind].busy = False
        self.rows[kind].status.setText(message)
        self.refresh()
        self.error.emit(message)

    # --- display ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Addresses, clients and runs from the in-memory activity record (cheap: no I/O)."""
        for kind, row in self.rows.items():
            row.show_state(self.services.url(kind))
        now = time.time()
        self.clients.clear()
        for client in self.services.activity.clients():
            ago = max(0, int(now - client.last_seen))
            self.clients.addTopLevelItem(QTreeWidgetItem([client.label, client.address, str(client.requests),
                                                          f"{ago} s ago"]))
        self.runs.clear()
        for run in self.services.activity.runs():
            status = f"queued ({run.position} ahead)" if run.status == "queued" and run.position else run.status
            self.runs.addTopLevelItem(QTreeWidgetItem([run.client, run.model, " ".join(run.question.split()), status,
                                                       "" if run.run_id is None else str(run.run_id)]))

    def done(self, result: int) -> None:  # noqa: D102 - servers keep running after the dialog closes
        self.timer.stop()
        super().done(result)


class _ServerRow:
    """One server's group: port, start/stop button, address."""

    def __init__(self, kind: str, port: int) -> None:
        self.box = QGroupBox(_TITLES[kind])
        layout = QHBoxLayout(self.box)
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")  # 0
        self.port.setValue(port)
        self.port.setPrefix("port ")
        self.toggle = QPushButton("Start")
        self.busy = False  # starting or stopping on a worker thread
        self.status = QLabel("Stopped")
        self.status.setTextInteractionFlags(self.status.textInteractionFlags() | _selectable())
        layout.addWidget(self.port)
        layout.addWidget(self.toggle)
        layout.addWidget(self.status, 1)

    def show_state(self, url: str | None) -> None:
        if self.busy:
            return
        self.toggle.setEnabled(True)
        self.toggle.setText("Stop" if url else "Start")
        self.port.setEnabled(url is None)
        if url:
            self.status.setText(f"Running at {url}")
        elif self.status.text().startswith("Running"):
            self.status.setText("Stopped")


def _tree(headers: list[str]) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setHeaderLabels(headers)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    return tree


def _selectable() -> Any:
    from PySide6.QtCore import Qt

    return Qt.TextInteractionFlag.TextSelectableByMouse

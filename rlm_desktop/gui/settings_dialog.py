"""Run settings: iteration cap, budgets, sandbox limits, recursion depth, parallel sub-calls."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QCheckBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QVBoxLayout,
    QWidget,
)

from rlm_desktop.settings import Settings


def _spin(low: int, high: int, value: int, *, step: int = 1, suffix: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setGroupSeparatorShown(True)
    return box


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`result_settings` returns the edited copy."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(460)
        self.original = settings
        s = settings
        layout = QVBoxLayout(self)

        guards = QGroupBox("Guards: a run ends with its best answer when one is reached")
        form = QFormLayout(guards)
        self.max_iterations = _spin(1, 200, s.max_iterations)
        self.max_sub_calls = _spin(0, 100_000, s.max_sub_calls, step=10)
        self.max_tokens = _spin(1_000, 2_000_000_000, min(s.max_tokens, 2_000_000_000), step=100_000, suffix=" tokens")
        self.max_minutes = QDoubleSpinBox()
        self.max_minutes.setRange(0.5, 24 * 60)
        self.max_minutes.setDecimals(1)
        self.max_minutes.setSuffix(" min")
        self.max_minutes.setValue(s.max_seconds / 60)
        form.addRow("Root iterations (cap)", self.max_iterations)
        form.addRow("Sub-calls (budget)", self.max_sub_calls)
        form.addRow("Tokens (budget)", self.max_tokens)
        form.addRow("Wall-clock time (budget)", self.max_minutes)
        layout.addWidget(guards)

        recursion = QGroupBox("Sub-calls")
        form = QFormLayout(recursion)
        self.depth = _spin(1, 2, s.depth)
        self.depth.setToolTip("1: llm_query is a plain sub-model call (as in the paper).\n"
                              "2: llm_query runs a full RLM with its own sandbox over the prompt.")
        self.parallel = _spin(1, 64, s.parallel_sub_calls)
        self.parallel.setToolTip("How many llm_query_batched prompts run at once")
        form.addRow("Recursion depth", self.depth)
        form.addRow("Parallel sub-calls", self.parallel)
        layout.addWidget(recursion)

        sandbox = QGroupBox("Sandbox (per code cell)")
        form = QFormLayout(sandbox)
        self.cell_timeout = QDoubleSpinBox()
        self.cell_timeout.setRange(1, 3600)
        self.cell_timeout.setDecimals(0)
        self.cell_timeout.setSuffix(" s")
        self.cell_timeout.setValue(s.cell_timeout)
        self.cell_memory = _spin(256, 262_144, s.cell_memory_mb, step=256, suffix=" MB")
        self.output_chars = _spin(200, 1_000_000, s.output_chars, step=500, suffix=" chars")
        self.output_chars.setToolTip("How much of each cell's output the root model sees (it is told when cut)")
        self.grammar = QCheckBox("Constrain root turns with a grammar (local models)")
        self.grammar.setChecked(s.grammar)
        form.addRow("Time limit", self.cell_timeout)
        form.addRow("Memory limit", self.cell_memory)
        form.addRow("Output shown to the model", self.output_chars)
        form.addRow("", self.grammar)
        layout.addWidget(sandbox)

        note = QLabel("Models are chosen in Models… (Ctrl+M).")
        note.setObjectName("muted")
        layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        layout.addWidget(buttons)

    def restore_defaults(self) -> None:
        d = Settings()
        self.max_iterations.setValue(d.max_iterations)
        self.max_sub_calls.setValue(d.max_sub_calls)
        self.max_tokens.setValue(d.max_tokens)
        self.max_minutes.setValue(d.max_seconds / 60)
        self.depth.setValue(d.depth)
        self.parallel.setValue(d.parallel_sub_calls)
        self.cell_timeout.setValue(d.cell_timeout)
        self.cell_memory.setValue(d.cell_memory_mb)
        self.output_chars.setValue(d.output_chars)
        self.grammar.setChecked(d.grammar)

    def result_settings(self) -> Settings:
        return dataclasses.replace(
            self.original,
            max_iterations=self.max_iterations.value(), max_sub_calls=self.max_sub_calls.value(),
            max_tokens=self.max_tokens.value(), max_seconds=float(self.max_minutes.value() * 60),
            depth=self.depth.value(), parallel_sub_calls=self.parallel.value(),
            cell_timeout=float(self.cell_timeout.value()), cell_memory_mb=self.cell_memory.value(),
            output_chars=self.output_chars.value(), grammar=self.grammar.isChecked(),
        )

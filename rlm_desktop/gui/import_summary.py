"""The import list's summary: one row per reason files were skipped or failed, with what to do."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from rlm_desktop.gui.theme import icon
from rlm_desktop.library.import_report import reason_groups


def add_reason_rows(tree: QTreeWidget, report: Any, examples: int = 3) -> list[QTreeWidgetItem]:
    """Rows at the top of ``tree``, failures first: '12 skipped: reason' and 'What to do: ... · e.g. ...'."""
    rows: list[QTreeWidgetItem] = []
    for index, group in enumerate(reason_groups(report, examples)):
        more = f" and {group.count - len(group.examples)} more" if group.count > len(group.examples) else ""
        row = QTreeWidgetItem([f"{group.count} {group.status}: {group.reason}",
                               f"What to do: {group.advice} · e.g. {'; '.join(group.examples)}{more}"])
        row.setIcon(0, icon("failed" if group.status == "failed" else "warning"))
        row.setToolTip(0, row.text(0))
        row.setToolTip(1, row.text(1))
        tree.insertTopLevelItem(index, row)
        rows.append(row)
    return rows

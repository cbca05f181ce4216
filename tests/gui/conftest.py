"""GUI fixtures: a real library in a temp dir and a main window with injected models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from rlm_desktop.settings import Settings


@pytest.fixture
def make_window(qtbot, library, tmp_path: Path) -> Callable[..., Any]:
    """Build a MainWindow over the temp library; ``models`` is a Settings -> (root, sub) factory."""
    from rlm_desktop.gui.app import create_application
    from rlm_desktop.gui.main_window import MainWindow

    create_application([])
    windows = []

    def make(models: Callable[[Settings], Any] | None = None, settings: Settings | None = None) -> Any:
        window = MainWindow(library, models=models, settings=settings or Settings(),
                            settings_path=tmp_path / "settings.json")
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.workers.running == 0, timeout=10_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.run_panel.stop()
        window.workers.wait(20_000)


@pytest.fixture
def ingest(qtbot) -> Callable[[Any, list[Path]], Any]:
    """Ingest ``paths`` through the window's documents panel and wait until it lists them."""

    def run(window: Any, paths: list[Path]) -> Any:
        panel = window.documents_panel
        with qtbot.waitSignal(panel.ingest_finished, timeout=60_000) as finished:
            panel.add_paths(paths)
        qtbot.waitUntil(lambda: window.workers.running == 0, timeout=10_000)
        return finished.args[0]

    return run


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the GUI tests save their pictures: docs/screenshots/ when RLM_DESKTOP_SCREENSHOTS=1 (``make
    screenshots``), else a temp dir, so that ``make test`` leaves the checkout as it found it."""
    import os

    folder = (Path(__file__).resolve().parents[2] / "docs" / "screenshots"
              if os.environ.get("RLM_DESKTOP_SCREENSHOTS") == "1" else tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder

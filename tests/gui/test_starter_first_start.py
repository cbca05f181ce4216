"""The app's first start with the starter pair: its assembly runs off the GUI thread with a visible
progress bar, once; later starts find the verified files and show nothing."""

from __future__ import annotations

import threading

from rlm_desktop.gui.app import create_application
from rlm_desktop.gui.hub_service import HubService
from rlm_desktop.gui.main_window import MainWindow
from rlm_desktop.hub import parts
from rlm_desktop.hub.local import ModelRegistry
from rlm_desktop.settings import Settings


def open_window(qtbot, library, tmp_path, hub, settings):
    window = MainWindow(library, models=lambda s: None, settings=settings, settings_path=tmp_path / "settings.json",
                        hub=hub, prepare_models=True)
    qtbot.addWidget(window)
    seen: list[tuple[float, bool]] = []
    show = window._starter_progress  # record what the bar showed (the handler runs on the GUI thread)
    window._starter_progress = lambda p: (show(p), seen.append((p.fraction, window.prepare_bar.isVisible())))
    threads: list[threading.Thread] = []
    assemble = hub.prepare_starters

    def prepare_starters(models, report):
        threads.append(threading.current_thread())
        return assemble(models, report)

    hub.prepare_starters = prepare_starters
    window.show()
    return window, seen, threads


def test_first_start_assembles_with_progress_off_the_gui_thread(qtbot, library, tmp_path, synthetic_starter,
                                                               monkeypatch):
    monkeypatch.setattr(parts, "PROGRESS_EVERY", 4 * 2**20)
    create_application([])
    registry = ModelRegistry(tmp_path / "models")
    hub = HubService(registry, starter_models=(synthetic_starter,))
    settings = Settings(root_model="demo-smollm2-135m", sub_model=synthetic_starter.key)
    window, seen, threads = open_window(qtbot, library, tmp_path, hub, settings)
    target = synthetic_starter.target(registry.models_dir)
    qtbot.waitUntil(lambda: target.is_file() and not window.prepare_bar.isVisible() and window.workers.running == 0,
                    timeout=60_000)
    assert threads and threads[0] is not threading.main_thread()
    fractions = [f for f, _ in seen]
    assert len(fractions) >= 5 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(visible for _, visible in seen)
    assert "starter models are ready" in window.statusBar().currentMessage()
    assert registry.get(synthetic_starter.key).source == "pypi"
    assert window.errors == []

    again, seen_again, threads_again = open_window(qtbot, library, tmp_path, hub, settings)
    qtbot.waitUntil(lambda: again.workers.running == 0, timeout=20_000)
    qtbot.wait(50)
    assert seen_again == [] and threads_again == [] and not again.prepare_bar.isVisible()


def test_a_failed_assembly_is_shown_as_an_error(qtbot, library, tmp_path, synthetic_starter):
    create_application([])
    (tmp_path / "site" / "synthstarter_part2" / "data" / "part02.bin").write_bytes(b"damaged")
    hub = HubService(ModelRegistry(tmp_path / "models"), starter_models=(synthetic_starter,))
    window, _seen, _threads = open_window(qtbot, library, tmp_path, hub,
                                          Settings(root_model=synthetic_starter.key, sub_model=synthetic_starter.key))
    qtbot.waitUntil(lambda: bool(window.errors), timeout=30_000)
    assert "Synthetic starter" in window.errors[0] and "wrong version" in window.errors[0]
    assert not window.prepare_bar.isVisible()
    assert not synthetic_starter.target(tmp_path / "models").exists()

"""Before the window opens on Linux: a missing libxcb-cursor0 is named with the package to install."""

from __future__ import annotations

import sys
import threading

import pytest

from rlm_desktop.gui import xcb_check
from rlm_desktop.gui.xcb_check import xcb_problem

X11 = {"DISPLAY": ":0"}


@pytest.fixture
def no_xcb_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xcb_check, "xcb_cursor_available", lambda: False)


def test_a_missing_library_names_the_package_per_distribution(no_xcb_cursor) -> None:
    message = xcb_problem(X11, "linux")
    assert message is not None
    assert "libxcb-cursor" in message
    assert "sudo apt install libxcb-cursor0" in message and "sudo dnf install xcb-util-cursor" in message
    assert xcb_problem({**X11, "QT_QPA_PLATFORM": "xcb"}, "linux") == message
    assert xcb_problem({**X11, "QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux") == message


@pytest.mark.parametrize("environ, platform", [
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux"),   # not the xcb plugin
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, "linux"),
    ({}, "linux"),                                                  # no X display to open
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux"),   # Qt tries Wayland first
    ({"DISPLAY": ":0"}, "darwin"),
    ({"DISPLAY": ":0"}, "win32"),
])
def test_no_claim_where_qt_will_not_use_xcb(no_xcb_cursor, environ: dict[str, str], platform: str) -> None:
    assert xcb_problem(environ, platform) is None


def test_no_message_when_the_library_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xcb_check, "xcb_cursor_available", lambda: True)
    assert xcb_problem(X11, "linux") is None


def test_the_library_lookup_tries_the_loader_then_the_copies_qt_ships(monkeypatch, tmp_path) -> None:
    def refuse(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(xcb_check.ctypes, "CDLL", refuse)
    monkeypatch.setattr(xcb_check, "_bundled_library_dirs", lambda: [tmp_path])
    assert not xcb_check.xcb_cursor_available()
    (tmp_path / "libxcb-cursor.so.0").write_bytes(b"")
    assert xcb_check.xcb_cursor_available()


def test_the_app_exits_with_the_message_before_qt_is_touched(no_xcb_cursor, monkeypatch, capsys) -> None:
    from rlm_desktop.gui import app

    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs its own hooks: restore them after
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)

    def no_qt(*args: object) -> None:
        raise AssertionError("the QApplication must not be created")

    monkeypatch.setattr(app, "create_application", no_qt)
    assert app.run([]) == 1
    assert "sudo apt install libxcb-cursor0" in capsys.readouterr().err

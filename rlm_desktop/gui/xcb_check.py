"""Before the Qt window opens on Linux: is the system library Qt's xcb plugin needs there?

Qt 6.5+ loads ``libxcb-cursor.so.0`` for its X11 (xcb) platform plugin, and fresh or minimal Linux
installs often lack it; Qt then aborts with "could not load the Qt platform plugin xcb", which does
not say what to install. This module imports no Qt, so the check runs before Qt is touched.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from pathlib import Path

LIBRARY = "libxcb-cursor.so.0"

MISSING_XCB_CURSOR = (
    "RLM Desktop cannot open its window: the system library libxcb-cursor (libxcb-cursor.so.0), which "
    "Qt needs to draw windows on X11, is not installed.\n"
    "  Debian / Ubuntu:  sudo apt install libxcb-cursor0\n"
    "  Fedora:           sudo dnf install xcb-util-cursor\n"
    "Then start the app again. (On a Wayland desktop, QT_QPA_PLATFORM=wayland also works.)"
)


def will_use_xcb(environ: Mapping[str, str], platform: str) -> bool:
    """True when Qt will pick its xcb plugin: Linux, QT_QPA_PLATFORM unset or "xcb", and an X display.

    With QT_QPA_PLATFORM unset on a Wayland session (WAYLAND_DISPLAY set) Qt tries Wayland first,
    so nothing is claimed there.
    """
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip().lower()
    if chosen == "xcb":
        return bool(environ.get("DISPLAY"))
    return not chosen and bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def _bundled_library_dirs() -> list[Path]:
    """Where a frozen build or the PySide6 wheel may carry its own copy of the library."""
    dirs = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        dirs += [Path(frozen), Path(frozen) / "PySide6" / "Qt" / "lib"]
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "Qt" / "lib")
    return dirs


def xcb_cursor_available() -> bool:
    """True when ``libxcb-cursor.so.0`` can be loaded (system loader path, or a copy Qt ships with)."""
    try:
        ctypes.CDLL(LIBRARY)
        return True
    except OSError:
        pass
    return any((directory / LIBRARY).is_file() for directory in _bundled_library_dirs())


def xcb_problem(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The message to show when Qt's xcb plugin would fail for want of libxcb-cursor, else None."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if will_use_xcb(environ, platform) and not xcb_cursor_available():
        return MISSING_XCB_CURSOR
    return None

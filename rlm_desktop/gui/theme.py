"""Look of the app: resource files, light/dark palettes following the OS, icons."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication


def resources_dir() -> Path:
    """The top-level ``resources`` folder (next to the package, or inside a frozen build)."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "resources"] if frozen else []
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[-1]


@dataclass(frozen=True)
class Colors:
    """One palette: the tokens used by resources/style/app.qss and the code views."""

    dark: bool
    window: str
    base: str
    alt: str
    text: str
    muted: str
    border: str
    hover: str
    selection: str
    accent: str
    accent_hover: str
    danger: str
    success: str
    highlight: str  # cited span in the document viewer
    banner_bg: str
    banner_border: str
    banner_text: str
    error_bg: str
    # syntax highlighting
    keyword: str
    string: str
    comment: str
    number: str
    builtin: str
    special: str


LIGHT = Colors(
    dark=False, window="#f4f5f7", base="#ffffff", alt="#f7f8fa", text="#1d2330", muted="#5d6676",
    border="#d9dde3", hover="#e9ecf0", selection="#dbe6f3", accent="#2b5a8a", accent_hover="#234b74",
    danger="#b03a2e", success="#2e7d4f", highlight="#ffe58a", banner_bg="#fff6dd", banner_border="#e8c46a",
    banner_text="#5a4310", error_bg="#fbeaea", keyword="#1f4fa0", string="#2e7d32", comment="#7a828e",
    number="#a0522d", builtin="#6f42c1", special="#b5301f",
)
DARK = Colors(
    dark=True, window="#1e2127", base="#262a31", alt="#2b3038", text="#e4e7eb", muted="#9aa3b0",
    border="#3a404a", hover="#323842", selection="#2f4a66", accent="#5b8fc7", accent_hover="#6c9dd2",
    danger="#e06c60", success="#6cc08b", highlight="#7a6520", banner_bg="#3a3220", banner_border="#7a6328",
    banner_text="#f0dca8", error_bg="#3d2626", keyword="#7fb0f0", string="#9ccc8c", comment="#8a929e",
    number="#e0a070", builtin="#c3a0f0", special="#f08070",
)


def os_prefers_dark() -> bool:
    """True when the OS colour scheme is dark (or, if unknown, the window colour is dark)."""
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def current_colors() -> Colors:
    app = QApplication.instance()
    dark = bool(app.property("rlmDark")) if app is not None else False
    return DARK if dark else LIGHT


def _palette(c: Colors) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window), (role.WindowText, c.text), (role.Base, c.base), (role.AlternateBase, c.alt),
        (role.Text, c.text), (role.Button, c.base), (role.ButtonText, c.text), (role.ToolTipBase, c.base),
        (role.ToolTipText, c.text), (role.Highlight, c.accent), (role.HighlightedText, "#ffffff"),
        (role.Link, c.accent), (role.LinkVisited, c.accent), (role.PlaceholderText, c.muted), (role.Mid, c.border),
    ):
        pal.setColor(r, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(c.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(c.muted))
    return pal


def style_sheet(c: Colors) -> str:
    path = resources_dir() / "style" / "app.qss"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return ""
    tokens = {k: v for k, v in c.__dict__.items() if isinstance(v, str)}
    for key in sorted(tokens, key=len, reverse=True):  # @accent_hover before @accent
        text = text.replace(f"@{key}", tokens[key])
    return text


def apply_theme(app: QApplication, dark: bool | None = None) -> Colors:
    """Fusion style with our light or dark palette; ``dark=None`` follows the OS."""
    if dark is None:
        dark = os_prefers_dark()
    colors = DARK if dark else LIGHT
    app.setProperty("rlmDark", dark)
    app.setStyle("Fusion")
    app.setPalette(_palette(colors))
    app.setStyleSheet(style_sheet(colors))
    icon.cache_clear()
    return colors


def follow_os_theme(app: QApplication) -> None:
    """Re-apply the theme whenever the OS switches between light and dark."""
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: apply_theme(app))


@lru_cache(maxsize=128)
def icon(name: str, color: str | None = None) -> QIcon:
    """An icon from resources/icons, its ``currentColor`` strokes drawn in the text colour."""
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        svg = path.read_text(encoding="utf-8")
    except OSError:
        return QIcon()
    svg = svg.replace("currentColor", color or current_colors().text)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in (16, 20, 24, 32, 48, 64):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter)
        painter.end()
        result.addPixmap(pixmap)
    return result


def app_icon() -> QIcon:
    path = resources_dir() / "icons" / "app.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()

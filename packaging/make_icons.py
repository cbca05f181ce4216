"""Render resources/icons/app.svg into the icon files the installers need.

Writes build/icons/: rlm-desktop-<N>.png (16..1024), rlm-desktop.png (256), rlm-desktop.ico
(Windows) and, on macOS, rlm-desktop.iconset/ which build.sh turns into .icns with iconutil.
Uses Qt itself (already a dependency), so no image tool is needed on the build machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZES = (16, 32, 48, 64, 128, 256, 512, 1024)


def render(svg: Path, size: int) -> QImage:
    """The SVG drawn on a transparent square of ``size`` pixels."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    svg = ROOT / "resources" / "icons" / "app.svg"
    out = ROOT / "build" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage/QPainter need an application)
    images = {size: render(svg, size) for size in SIZES}
    for size, image in images.items():
        image.save(str(out / f"rlm-desktop-{size}.png"))
    images[256].save(str(out / "rlm-desktop.png"))
    if not images[256].save(str(out / "rlm-desktop.ico")):  # Qt's ico plugin writes one size
        print("make_icons: this Qt has no ICO writer; Windows builds use the default icon", file=sys.stderr)
    iconset = out / "rlm-desktop.iconset"  # layout iconutil expects
    iconset.mkdir(exist_ok=True)
    for size in (16, 32, 128, 256, 512):
        images[size].save(str(iconset / f"icon_{size}x{size}.png"))
        images[size * 2].save(str(iconset / f"icon_{size}x{size}@2x.png"))
    print(f"make_icons: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

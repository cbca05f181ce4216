#!/usr/bin/env bash
# Build the Linux artifacts of RLM Desktop.
#
#   dist/rlm-desktop/                                  the frozen app (rlm-desktop + rlm, one _internal/)
#   dist/rlm-desktop-<version>-linux-<arch>.tar.gz    that folder, for "unpack and run"
#   dist/RLM_Desktop.AppDir/                           AppImage layout (AppRun, .desktop, icon, usr/)
#   dist/RLM_Desktop-<version>-<arch>.AppImage         only where appimagetool is available
#
# Usage: packaging/linux/build.sh [--no-tar] [--no-appdir]
# Environment:
#   PYTHON        interpreter with the project and PyInstaller installed (default: .venv/bin/python)
#   APPIMAGETOOL  path of appimagetool (default: `appimagetool` on PATH); without it the
#                 AppImage step is skipped with a note (the release workflow provides it)
#   RLM_GPU       cpu | cuda | vulkan: first reinstall llama-cpp-python with that backend
#                 (packaging/llama_build.py, see packaging/GPU.md) and add -<variant> to the
#                 artifact names (none for cpu). Unset: package the llama-cpp-python installed.
#   RLM_PACKAGE_GEMMA, RLM_PACKAGE_OCR   see packaging/rlm_desktop.spec
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
MAKE_TAR=1
MAKE_APPDIR=1
for arg in "$@"; do
    case "$arg" in
        --no-tar) MAKE_TAR=0 ;;
        --no-appdir) MAKE_APPDIR=0 ;;
        *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: PyInstaller is missing in $PYTHON; run: $PYTHON -m pip install -e '.[package]'" >&2
    exit 1
fi

SUFFIX=""
if [ -n "${RLM_GPU:-}" ]; then
    echo "==> llama-cpp-python ($RLM_GPU)"
    "$PYTHON" packaging/llama_build.py "$RLM_GPU"
    [ "$RLM_GPU" = cpu ] || SUFFIX="-$RLM_GPU"
fi

VERSION="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('rlm-desktop'))")"
ARCH="$(uname -m)"
DIST="$ROOT/dist"
APP="$DIST/rlm-desktop"
START=$(date +%s)

echo "==> icons"
"$PYTHON" packaging/make_icons.py

echo "==> PyInstaller (version $VERSION, $ARCH)"
"$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$ROOT/build/pyinstaller" packaging/rlm_desktop.spec

echo "==> smoke check"
"$APP/rlm" --version

if [ "$MAKE_TAR" = 1 ]; then
    echo "==> tar.gz"
    TARBALL="$DIST/rlm-desktop-$VERSION-linux-$ARCH$SUFFIX.tar.gz"
    tar -C "$DIST" -czf "$TARBALL.part" rlm-desktop
    mv "$TARBALL.part" "$TARBALL"
fi

if [ "$MAKE_APPDIR" = 1 ]; then
    echo "==> AppDir"
    APPDIR="$DIST/RLM_Desktop.AppDir"
    rm -rf "$APPDIR"
    mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" \
             "$APPDIR/usr/share/icons/hicolor/256x256/apps" "$APPDIR/usr/share/metainfo"
    cp -al "$APP" "$APPDIR/usr/lib/rlm-desktop" 2>/dev/null || cp -a "$APP" "$APPDIR/usr/lib/rlm-desktop"
    install -m 755 packaging/linux/AppRun "$APPDIR/AppRun"
    install -m 644 packaging/linux/rlm-desktop.desktop "$APPDIR/rlm-desktop.desktop"
    install -m 644 packaging/linux/rlm-desktop.desktop "$APPDIR/usr/share/applications/rlm-desktop.desktop"
    install -m 644 packaging/linux/org.rlm_desktop.RLMDesktop.metainfo.xml "$APPDIR/usr/share/metainfo/"
    install -m 644 build/icons/rlm-desktop.png "$APPDIR/rlm-desktop.png"
    install -m 644 build/icons/rlm-desktop.png "$APPDIR/usr/share/icons/hicolor/256x256/apps/rlm-desktop.png"
    ln -sf rlm-desktop.png "$APPDIR/.DirIcon"

    TOOL="${APPIMAGETOOL:-$(command -v appimagetool || true)}"
    if [ -n "$TOOL" ]; then
        echo "==> AppImage"
        # APPIMAGE_EXTRACT_AND_RUN lets a downloaded appimagetool run where FUSE is absent (CI).
        export ARCH  # appimagetool reads the target architecture from it
        APPIMAGE_EXTRACT_AND_RUN=1 "$TOOL" --no-appstream "$APPDIR" \
            "$DIST/RLM_Desktop-$VERSION-$ARCH$SUFFIX.AppImage"
    else
        echo "==> AppImage skipped: appimagetool not found (set APPIMAGETOOL; see packaging/INSTALL.md)"
    fi
fi

echo "==> done in $(( $(date +%s) - START )) s"
du -sh "$APP"
ls -la "$DIST"/*.tar.gz "$DIST"/*.AppImage 2>/dev/null || true

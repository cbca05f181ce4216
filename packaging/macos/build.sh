#!/usr/bin/env bash
# Build the macOS artifacts of RLM Desktop (run on a Mac; the release workflow uses macos-latest, arm64).
#
#   dist/RLM Desktop.app                              the app bundle (the CLI is Contents/MacOS/rlm)
#   dist/RLM-Desktop-<version>-macos-<arch>.dmg       drag-to-Applications disk image
#
# Signing and notarization run only when their credentials are in the environment:
#   MACOS_SIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)", a keychain identity: PyInstaller
#                         signs every binary with the hardened runtime, this script the .app and .dmg
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD       notarytool with an app-specific password, or
#   NOTARY_KEY_PATH, NOTARY_KEY_ID, NOTARY_ISSUER     notarytool with an App Store Connect API key
# Without them the app is ad-hoc signed: it runs on the build Mac; elsewhere Gatekeeper asks the
# user to allow it (right-click > Open), see packaging/INSTALL.md.
#
# Other environment: PYTHON (default .venv/bin/python); RLM_GPU=metal|cpu reinstalls
# llama-cpp-python with that backend first (unset: package the one installed, which on Apple
# silicon has Metal; see packaging/GPU.md); RLM_PACKAGE_GEMMA / RLM_PACKAGE_OCR (see the spec).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
VARIANT="${RLM_GPU:-metal}"
ARCH="$(uname -m)"
DIST="$ROOT/dist"
APP="$DIST/RLM Desktop.app"
START=$(date +%s)

"$PYTHON" -c "import PyInstaller" || { echo "build.sh: install PyInstaller: $PYTHON -m pip install -e '.[package]'" >&2; exit 1; }
if [ -n "${RLM_GPU:-}" ]; then  # reinstall llama-cpp-python with that backend first
    echo "==> llama-cpp-python ($VARIANT)"
    "$PYTHON" packaging/llama_build.py "$VARIANT"
fi
VERSION="$("$PYTHON" -c "import importlib.metadata as m; print(m.version('rlm-desktop'))")"

echo "==> icons"
"$PYTHON" packaging/make_icons.py
iconutil -c icns -o build/icons/rlm-desktop.icns build/icons/rlm-desktop.iconset

echo "==> PyInstaller ($VERSION, $ARCH, $VARIANT)"
RLM_VERSION="$VERSION" "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$ROOT/build/pyinstaller" packaging/rlm_desktop.spec
"$APP/Contents/MacOS/rlm" --version

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    echo "==> codesign (.app)"
    codesign --force --options runtime --timestamp \
        --entitlements packaging/macos/entitlements.plist --sign "$MACOS_SIGN_IDENTITY" "$APP"
    codesign --verify --strict --verbose=2 "$APP"
else
    echo "==> codesign skipped: MACOS_SIGN_IDENTITY not set (ad-hoc signed)"
fi

echo "==> dmg"
DMG="$DIST/RLM-Desktop-$VERSION-macos-$ARCH.dmg"
STAGE="$ROOT/build/dmg"
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "RLM Desktop" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$DMG"
    NOTARY=()
    if [ -n "${NOTARY_KEY_PATH:-}" ] && [ -n "${NOTARY_KEY_ID:-}" ] && [ -n "${NOTARY_ISSUER:-}" ]; then
        NOTARY=(--key "$NOTARY_KEY_PATH" --key-id "$NOTARY_KEY_ID" --issuer "$NOTARY_ISSUER")
    elif [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
        NOTARY=(--apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" --password "$APPLE_APP_PASSWORD")
    fi
    if [ ${#NOTARY[@]} -gt 0 ]; then
        echo "==> notarize"
        xcrun notarytool submit "$DMG" "${NOTARY[@]}" --wait
        xcrun stapler staple "$DMG"
        spctl --assess --type open --context context:primary-signature --verbose "$DMG"
    else
        echo "==> notarization skipped: no notarytool credentials in the environment"
    fi
fi

echo "==> done in $(( $(date +%s) - START )) s"
du -sh "$APP" "$DMG"

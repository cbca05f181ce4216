"""(Re)install llama-cpp-python with the llama.cpp backend an installer variant ships.

    python packaging/llama_build.py cpu|cuda|metal|vulkan [--dry-run]

Every variant is compiled from source with the CMAKE_ARGS in VARIANTS (see packaging/GPU.md),
always with GGML_NATIVE=OFF so that the binary runs on other machines than the build machine
(a native build would use every instruction the build CPU has and crash with "illegal
instruction" elsewhere). The version is the one pyproject.toml pins.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VARIANTS: dict[str, list[str]] = {
    # x86-64: AVX2/FMA/F16C baseline (Haswell, 2013+); arm64: the architecture baseline.
    "cpu": ["-DGGML_NATIVE=OFF"],
    # NVIDIA (Windows, Linux): needs the CUDA toolkit (nvcc) at build time; the CUDA runtime
    # libraries are collected into the bundle by PyInstaller's dependency analysis.
    "cuda": ["-DGGML_NATIVE=OFF", "-DGGML_CUDA=ON", "-DCMAKE_CUDA_ARCHITECTURES=75-virtual;80-virtual;86-real;89-real"],
    # Apple silicon: Metal with the shader library embedded in libggml-metal (no .metallib file).
    "metal": ["-DGGML_NATIVE=OFF", "-DGGML_METAL=ON", "-DGGML_METAL_EMBED_LIBRARY=ON"],
    # AMD/Intel/NVIDIA through Vulkan: needs the Vulkan SDK (glslc) at build time; at run time the
    # system's Vulkan loader and GPU driver are used, never bundled.
    "vulkan": ["-DGGML_NATIVE=OFF", "-DGGML_VULKAN=ON"],
}


def pinned_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'"llama-cpp-python==([^"]+)"', text)
    if not match:
        raise SystemExit("llama_build: pyproject.toml pins no llama-cpp-python version")
    return match.group(1)


def command(variant: str) -> tuple[list[str], dict[str, str]]:
    """The pip command and environment that build ``variant``."""
    if variant not in VARIANTS:
        raise SystemExit(f"llama_build: unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    env = dict(os.environ)
    env["CMAKE_ARGS"] = " ".join(VARIANTS[variant] + env.get("CMAKE_ARGS_EXTRA", "").split())
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    pip = [sys.executable, "-m", "pip", "install", "--force-reinstall", "--no-deps", "--no-cache-dir",
           "--no-binary", "llama-cpp-python", f"llama-cpp-python=={pinned_version()}"]
    return pip, env


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    pip, env = command(argv[0])
    print(f"CMAKE_ARGS={env['CMAKE_ARGS']}\n{' '.join(pip)}")
    if "--dry-run" in argv:
        return 0
    return subprocess.call(pip, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

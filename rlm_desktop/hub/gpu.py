"""Can this llama.cpp build offload to a GPU, through which backend, and how much VRAM is there?

``llama_supports_gpu_offload()`` answers the first question; the backend name is read
from llama.cpp's system-info line, where every compiled-in backend registers itself
(``CUDA : ARCHS = 890 | ...``, ``Metal : EMBED_LIBRARY = 1 | ...``, ``Vulkan : ...``).
VRAM is asked of ``nvidia-smi`` for CUDA, taken as ~70 % of RAM for Apple's unified
memory, and left unknown otherwise (the user can set ``RLM_VRAM_GB``).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

# Order matters: HIP builds also mention CUDA-style names; check the specific ones first.
_BACKEND_PATTERNS = (
    ("ROCm", re.compile(r"\b(ROCm|HIP)\s*:", re.IGNORECASE)),
    ("CUDA", re.compile(r"\bCUDA\s*:", re.IGNORECASE)),
    ("Metal", re.compile(r"\b(Metal|MTL)\s*:", re.IGNORECASE)),
    ("Vulkan", re.compile(r"\bVulkan\s*:", re.IGNORECASE)),
    ("SYCL", re.compile(r"\bSYCL\s*:", re.IGNORECASE)),
    ("OpenCL", re.compile(r"\bOpenCL\s*:", re.IGNORECASE)),
    ("MUSA", re.compile(r"\bMUSA\s*:", re.IGNORECASE)),
    ("CANN", re.compile(r"\bCANN\s*:", re.IGNORECASE)),
)
UNIFIED_MEMORY_SHARE = 0.70  # macOS lets the GPU wire roughly two thirds to three quarters of RAM


@dataclass(frozen=True)
class GpuInfo:
    """What the installed llama.cpp can do with a GPU on this machine."""

    offload: bool
    backend: str | None
    devices: tuple[str, ...] = ()
    vram_total_bytes: int | None = None
    vram_free_bytes: int | None = None
    system_info: str = field(default="", repr=False)

    def describe(self) -> str:
        """One line for the CLI and the Models dialog."""
        if not self.offload:
            return "CPU only: this llama.cpp build cannot offload layers to a GPU."
        where = f" on {', '.join(self.devices)}" if self.devices else ""
        vram = ""
        if self.vram_free_bytes is not None:
            vram = f", {self.vram_free_bytes / 2**30:.1f} GiB VRAM free"
        elif self.vram_total_bytes is not None:
            vram = f", {self.vram_total_bytes / 2**30:.1f} GiB VRAM"
        return f"GPU offload available via {self.backend or 'an unknown backend'}{where}{vram}."


def backend_from_system_info(info: str) -> str | None:
    """Name of the first GPU backend listed in llama.cpp's system-info line, or None."""
    for name, pattern in _BACKEND_PATTERNS:
        if pattern.search(info):
            return name
    return None


def _nvidia_smi() -> tuple[tuple[str, ...], int | None, int | None]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return (), None, None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return (), None, None
    names, total, free = [], 0, 0
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 3:
            continue
        try:
            total += int(float(parts[1])) * 2**20
            free += int(float(parts[2])) * 2**20
        except ValueError:
            continue
        names.append(parts[0])
    if not names:
        return (), None, None
    return tuple(names), total, free


def _vram_override() -> int | None:
    raw = os.environ.get("RLM_VRAM_GB")
    try:
        return int(float(raw) * 2**30) if raw else None
    except ValueError:
        return None


@functools.lru_cache(maxsize=1)
def detect_gpu() -> GpuInfo:
    """Inspect the installed llama.cpp build and the GPU; cached for the process."""
    try:
        import llama_cpp
    except (ImportError, OSError):
        return GpuInfo(offload=False, backend=None)
    try:
        offload = bool(llama_cpp.llama_supports_gpu_offload())
        info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    except (AttributeError, OSError):
        return GpuInfo(offload=False, backend=None)
    backend = backend_from_system_info(info) if offload else None
    devices: tuple[str, ...] = ()
    total = free = None
    if backend in ("CUDA", "ROCm"):
        devices, total, free = _nvidia_smi()
    elif backend == "Metal":
        import psutil

        total = int(psutil.virtual_memory().total * UNIFIED_MEMORY_SHARE)
        devices = ("Apple GPU (unified memory)",)
    override = _vram_override()
    if override is not None:
        total, free = override, override
    return GpuInfo(offload=offload, backend=backend, devices=devices,
                   vram_total_bytes=total, vram_free_bytes=free, system_info=info)

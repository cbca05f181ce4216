"""GPU offload detection from llama.cpp's build info."""

from __future__ import annotations

import llama_cpp

from rlm_desktop.hub.gpu import GpuInfo, backend_from_system_info, detect_gpu


def test_backend_names_from_system_info() -> None:
    cpu = "CPU : SSE3 = 1 | AVX2 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |"
    assert backend_from_system_info(cpu) is None
    assert backend_from_system_info("CUDA : ARCHS = 890 | USE_GRAPHS = 1 | CPU : AVX2 = 1 |") == "CUDA"
    assert backend_from_system_info("Metal : EMBED_LIBRARY = 1 | CPU : NEON = 1 |") == "Metal"
    assert backend_from_system_info("Vulkan : COOPMAT = 1 | CPU : AVX2 = 1 |") == "Vulkan"
    assert backend_from_system_info("ROCm : NO_VMM = 1 | CPU : AVX2 = 1 |") == "ROCm"


def test_detect_gpu_matches_this_build() -> None:
    info = detect_gpu()
    assert info.offload == bool(llama_cpp.llama_supports_gpu_offload())
    assert "CPU" in info.system_info
    if not info.offload:
        assert info.backend is None
        assert info.describe().startswith("CPU only")
    else:
        assert info.backend in info.describe()


def test_describe_names_backend_and_vram() -> None:
    info = GpuInfo(offload=True, backend="CUDA", devices=("RTX 4090",), vram_total_bytes=24 * 2**30,
                   vram_free_bytes=22 * 2**30)
    assert info.describe() == "GPU offload available via CUDA on RTX 4090, 22.0 GiB VRAM free."

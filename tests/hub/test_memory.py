"""Memory estimates and fit labels against faked machine sizes."""

from __future__ import annotations

from pathlib import Path

from rlm_desktop.hub.gguf_meta import read_gguf_metadata
from rlm_desktop.hub.gpu import GpuInfo
from rlm_desktop.hub.memory import (
    FITS, TIGHT, TOO_LARGE, GiB, MachineMemory, ModelFootprint, estimate_memory, fit_label,
    plan_gpu_layers, plan_models, recommended_n_ctx,
)

SEVEN_B = ModelFootprint("coder-7b", int(4.68e9), 28, 28 * 4 * 128 * 2 * 2, 32768)
ONE_B = ModelFootprint("sub-1.5b", int(0.99e9), 28, 28 * 2 * 128 * 2 * 2, 32768)


def machine(ram_gib: float, vram_gib: float | None = None) -> MachineMemory:
    gpu = GpuInfo(offload=vram_gib is not None, backend="CUDA" if vram_gib else None,
                  vram_total_bytes=int(vram_gib * GiB) if vram_gib else None,
                  vram_free_bytes=int(vram_gib * GiB) if vram_gib else None)
    return MachineMemory(total_ram=int(ram_gib * GiB), available_ram=int(ram_gib * GiB), gpu=gpu)


def test_kv_cache_grows_with_context() -> None:
    small, large = estimate_memory(SEVEN_B, 4096), estimate_memory(SEVEN_B, 32768)
    assert large.kv_bytes == 8 * small.kv_bytes
    assert large.kv_bytes == 32768 * 57344  # 1.75 GiB for a 32k context
    assert large.total_bytes > large.weights_bytes + large.kv_bytes


def test_fit_labels_against_faked_memory() -> None:
    need = estimate_memory(SEVEN_B, 32768).total_bytes  # about 7 GiB
    assert fit_label(need, 16 * GiB) == FITS
    assert fit_label(need, 8 * GiB) == TIGHT
    assert fit_label(need, 4 * GiB) == TOO_LARGE


def test_pair_is_planned_together() -> None:
    alone = plan_models(SEVEN_B, 32768, None, 0, machine(8))
    pair = plan_models(SEVEN_B, 32768, ONE_B, 8192, machine(8))
    assert pair.ram_needed > alone.ram_needed + ONE_B.file_bytes
    assert alone.label == TIGHT and pair.label == TOO_LARGE
    assert plan_models(SEVEN_B, 32768, ONE_B, 8192, machine(16)).label == FITS


def test_same_file_as_root_and_sub_counts_weights_once(smollm2_path: Path) -> None:
    smol = ModelFootprint.from_metadata("demo", read_gguf_metadata(smollm2_path))
    both = plan_models(smol, 8192, smol, 4096, machine(8))
    twin = ModelFootprint("another", smol.file_bytes, smol.layers, smol.kv_bytes_per_token, smol.context_length)
    separate = plan_models(smol, 8192, twin, 4096, machine(8))
    assert both.shared_weights and not separate.shared_weights
    assert separate.ram_needed - both.ram_needed == smol.file_bytes


def test_gpu_layers_planned_root_first() -> None:
    plan = plan_models(SEVEN_B, 32768, ONE_B, 8192, machine(16, vram_gib=8))
    assert plan.root.gpu_layers == -1          # the whole root fits in 8 GiB
    assert 0 <= plan.sub.gpu_layers < 28       # the sub gets what is left
    assert plan.vram_needed <= 8 * GiB
    small_gpu = plan_gpu_layers(SEVEN_B, 32768, 3 * GiB)
    assert 0 < small_gpu < 28
    assert plan_models(SEVEN_B, 32768, None, 0, machine(16)).root.gpu_layers == 0  # no offload: CPU


def test_recommended_context_shrinks_on_small_machines() -> None:
    assert recommended_n_ctx(SEVEN_B, machine(64)) == 32768
    assert recommended_n_ctx(SEVEN_B, machine(8)) < 32768
    tiny = ModelFootprint("tiny", 10_000_000, 4, 1024, 2048)
    assert recommended_n_ctx(tiny, machine(64)) == 2048  # never above the trained length

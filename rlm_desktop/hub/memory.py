"""Will a model (or the root/sub pair, loaded at once) fit this machine? RAM, VRAM and GPU layers.

Estimate per model = weights (the file size) + KV cache for the chosen context (from the
GGUF metadata: layers x KV heads x head size, f16) + a fixed overhead for llama.cpp's
compute buffers. The estimate is compared with total memory minus a reserve for the OS
and other apps, and labelled "fits", "tight" or "too large". When the llama.cpp build can
offload and the VRAM is known, GPU layers are planned for the root first, then the sub.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from rlm_desktop.hub.gguf_meta import GGUFMetadata
from rlm_desktop.hub.gpu import GpuInfo, detect_gpu

GiB = 2**30
FITS, TIGHT, TOO_LARGE = "fits", "tight", "too large"
_LABEL_ORDER = {FITS: 0, TIGHT: 1, TOO_LARGE: 2}
OVERHEAD_FIXED = 300 * 2**20   # llama.cpp compute buffers, tokenizer, runtime
OVERHEAD_SHARE = 0.02          # grows a little with model size (output buffers, graph)
MAX_AUTO_CTX = 32768           # recommended contexts never exceed this on their own


@dataclass(frozen=True)
class ModelFootprint:
    """The numbers a memory estimate needs, from a GGUF header or a catalog entry."""

    name: str
    file_bytes: int
    layers: int | None
    kv_bytes_per_token: int | None
    context_length: int | None = None

    @classmethod
    def from_metadata(cls, name: str, meta: GGUFMetadata) -> "ModelFootprint":
        return cls(name, meta.file_size, meta.block_count, meta.kv_bytes_per_token(), meta.context_length)

    def kv_per_token(self) -> int:
        # Unknown shape: assume a generous 1 byte of cache per 40 kB of weights per token.
        return self.kv_bytes_per_token or max(16_384, self.file_bytes // 40_000)


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory one loaded model needs at ``n_ctx`` with ``gpu_layers`` offloaded (-1 = all)."""

    name: str
    n_ctx: int
    weights_bytes: int
    kv_bytes: int
    overhead_bytes: int
    gpu_layers: int = 0
    offload_fraction: float = 0.0

    @property
    def total_bytes(self) -> int:
        return self.weights_bytes + self.kv_bytes + self.overhead_bytes

    @property
    def vram_bytes(self) -> int:
        if self.offload_fraction <= 0:
            return 0
        return int((self.weights_bytes + self.kv_bytes) * self.offload_fraction) + self.overhead_bytes

    @property
    def ram_bytes(self) -> int:
        return int((self.weights_bytes + self.kv_bytes) * (1 - self.offload_fraction)) + self.overhead_bytes


def estimate_memory(model: ModelFootprint, n_ctx: int, gpu_layers: int = 0) -> MemoryEstimate:
    """RAM/VRAM estimate for one model at context ``n_ctx`` with ``gpu_layers`` offloaded."""
    overhead = OVERHEAD_FIXED + int(model.file_bytes * OVERHEAD_SHARE)
    layers = model.layers or 0
    if gpu_layers < 0 or (layers and gpu_layers >= layers):
        fraction = 1.0 if gpu_layers != 0 else 0.0
    else:
        fraction = gpu_layers / layers if layers else 0.0
    return MemoryEstimate(model.name, n_ctx, model.file_bytes, model.kv_per_token() * n_ctx, overhead,
                          gpu_layers, fraction)


def usable_bytes(total: int, *, vram: bool = False) -> int:
    """What can be given to models before the machine struggles: total minus a reserve."""
    reserve = max(GiB // 2, int(total * 0.05)) if vram else max(2 * GiB, int(total * 0.2))
    return max(0, total - reserve)


def fit_label(needed: int, total: int, *, vram: bool = False) -> str:
    """'fits' within the usable budget, 'tight' if it leaves under 1 GiB (0.25 GiB VRAM) free, else 'too large'."""
    if needed <= usable_bytes(total, vram=vram):
        return FITS
    if needed <= total - (GiB // 4 if vram else GiB):
        return TIGHT
    return TOO_LARGE


def worst_label(*labels: str | None) -> str:
    present = [label for label in labels if label]
    return max(present, key=_LABEL_ORDER.__getitem__) if present else FITS


@dataclass(frozen=True)
class MachineMemory:
    """This machine's memory as the planner sees it."""

    total_ram: int
    available_ram: int
    gpu: GpuInfo = field(default_factory=lambda: GpuInfo(offload=False, backend=None))

    @property
    def vram_for_models(self) -> int | None:
        """VRAM the planner may use: free VRAM where known, else total; None without offload."""
        if not self.gpu.offload:
            return None
        vram = self.gpu.vram_free_bytes if self.gpu.vram_free_bytes is not None else self.gpu.vram_total_bytes
        return usable_bytes(vram, vram=True) if vram else None


def machine_memory(*, with_gpu: bool = True) -> MachineMemory:
    """Read total/available RAM (psutil) and, optionally, the GPU."""
    import psutil

    vm = psutil.virtual_memory()
    gpu = detect_gpu() if with_gpu else GpuInfo(offload=False, backend=None)
    return MachineMemory(total_ram=int(vm.total), available_ram=int(vm.available), gpu=gpu)


def plan_gpu_layers(model: ModelFootprint, n_ctx: int, vram_budget: int) -> int:
    """GPU layers to offload within ``vram_budget`` bytes: -1 for all, 0 for none."""
    full = estimate_memory(model, n_ctx, gpu_layers=-1)
    if full.vram_bytes <= vram_budget:
        return -1
    if not model.layers or vram_budget <= full.overhead_bytes:
        return 0
    per_layer = (full.weights_bytes + full.kv_bytes) / model.layers
    return max(0, min(model.layers - 1, math.floor((vram_budget - full.overhead_bytes) / per_layer)))


def recommended_n_ctx(model: ModelFootprint, machine: MachineMemory, cap: int = MAX_AUTO_CTX) -> int:
    """Largest power-of-two context up to ``cap`` (and the trained length) that fits alone, at least 2048."""
    limit = min(cap, model.context_length or cap)
    n_ctx = 2048
    candidate = 4096
    while candidate <= limit:
        if estimate_memory(model, candidate).total_bytes > usable_bytes(machine.total_ram):
            break
        n_ctx = candidate
        candidate *= 2
    return min(n_ctx, limit) if limit >= 512 else limit


@dataclass(frozen=True)
class PairPlan:
    """The memory plan for a root and a sub model loaded at the same time."""

    root: MemoryEstimate
    sub: MemoryEstimate | None
    shared_weights: bool
    ram_needed: int
    vram_needed: int
    ram_label: str
    vram_label: str | None
    machine: MachineMemory

    @property
    def label(self) -> str:
        return worst_label(self.ram_label, self.vram_label)

    def summary(self) -> str:
        """One line: what is needed against what the machine has."""
        text = f"{self.label}: needs {self.ram_needed / GiB:.1f} GiB RAM of {self.machine.total_ram / GiB:.1f} GiB"
        if self.vram_needed:
            vram = self.machine.vram_for_models
            have = f" of {vram / GiB:.1f} GiB usable" if vram else ""
            text += f" and {self.vram_needed / GiB:.1f} GiB VRAM{have}"
            text += f" (GPU layers: root {_layers_text(self.root.gpu_layers)}"
            text += f", sub {_layers_text(self.sub.gpu_layers)})" if self.sub else ")"
        return text


def _layers_text(n: int) -> str:
    return "all" if n < 0 else str(n)


def plan_models(root: ModelFootprint, root_ctx: int, sub: ModelFootprint | None, sub_ctx: int,
                machine: MachineMemory, *, root_gpu_layers: int | None = None,
                sub_gpu_layers: int | None = None) -> PairPlan:
    """Plan RAM (and GPU layers, when the build can offload and VRAM is known) for root + sub together.

    Explicit ``*_gpu_layers`` are honoured; ``None`` means plan automatically (root first, the sub
    gets what VRAM is left). The same file used as root and sub counts its weights once (mmap).
    """
    budget = machine.vram_for_models
    if root_gpu_layers is None:
        root_gpu_layers = plan_gpu_layers(root, root_ctx, budget) if budget else 0
    root_est = estimate_memory(root, root_ctx, root_gpu_layers)
    sub_est = None
    if sub is not None:
        if sub_gpu_layers is None:
            left = (budget - root_est.vram_bytes) if budget else 0
            sub_gpu_layers = plan_gpu_layers(sub, sub_ctx, left) if left > 0 else 0
        sub_est = estimate_memory(sub, sub_ctx, sub_gpu_layers)
    shared = sub is not None and sub.name == root.name
    ram = root_est.ram_bytes
    vram = root_est.vram_bytes
    if sub_est is not None:
        sub_ram = sub_est.ram_bytes
        if shared:  # weights mapped once; a second context still costs its KV cache and buffers
            sub_ram -= int(sub_est.weights_bytes * (1 - sub_est.offload_fraction))
        ram += max(0, sub_ram)
        vram += sub_est.vram_bytes
    vram_total = machine.vram_for_models
    vram_label = None
    if vram and vram_total is not None:
        raw = machine.gpu.vram_free_bytes or machine.gpu.vram_total_bytes or 0
        vram_label = fit_label(vram, raw, vram=True)
    return PairPlan(root_est, sub_est, shared, ram, vram, fit_label(ram, machine.total_ram), vram_label, machine)


def with_fake_memory(machine: MachineMemory, total_ram: int, vram: int | None = None) -> MachineMemory:
    """A copy of ``machine`` with other memory sizes (what-if planning; tests)."""
    gpu = machine.gpu
    if vram is not None:
        gpu = replace(gpu, offload=True, backend=gpu.backend or "CUDA", vram_total_bytes=vram, vram_free_bytes=vram)
    return MachineMemory(total_ram=total_ram, available_ram=total_ram, gpu=gpu)

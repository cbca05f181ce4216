"""The curated catalog: well-formed, and recommendations that follow the machine's memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_desktop.errors import HubError
from rlm_desktop.hub.catalog import load_catalog, model_fit_label
from rlm_desktop.hub.gpu import GpuInfo
from rlm_desktop.hub.memory import GiB, MachineMemory


def machine(ram_gib: float, vram_gib: float | None = None) -> MachineMemory:
    gpu = GpuInfo(offload=bool(vram_gib), backend="CUDA" if vram_gib else None,
                  vram_total_bytes=int(vram_gib * GiB) if vram_gib else None,
                  vram_free_bytes=int(vram_gib * GiB) if vram_gib else None)
    return MachineMemory(int(ram_gib * GiB), int(ram_gib * GiB), gpu)


def test_catalog_has_the_tiers_and_demo_models() -> None:
    catalog = load_catalog()
    tiers = {pair.tier for pair in catalog.pairs}
    assert {"8 GB", "16 GB", "32 GB+", "GPU (24 GB VRAM)"} <= tiers
    assert catalog.get("demo-smollm2-135m").demo and catalog.get("demo-gemma3-270m").demo
    for model in catalog.models.values():
        assert model.demo or (model.repo and model.file.endswith(".gguf") and model.license)
        assert model.kv_bytes_per_token


@pytest.mark.parametrize("ram, vram, tier", [
    (4, None, "demo"), (8, None, "8 GB"), (16, None, "16 GB"), (32, None, "32 GB+"), (16, 24, "GPU (24 GB VRAM)"),
])
def test_recommendation_follows_memory(ram: float, vram: float | None, tier: str) -> None:
    catalog = load_catalog()
    pair = catalog.recommend(machine(ram, vram))
    assert pair.tier == tier
    assert catalog.plan_pair(pair, machine(ram, vram)).label == "fits"


def test_each_tier_pair_fits_its_own_tier() -> None:
    catalog = load_catalog()
    for pair in catalog.pairs:
        plan = catalog.plan_pair(pair, machine(pair.ram_gb, pair.vram_gb))
        assert plan.label == "fits", (pair.tier, plan.summary())


def test_single_model_fit_labels() -> None:
    coder_32b = load_catalog().get("qwen2.5-coder-32b-instruct-q4km")
    assert model_fit_label(coder_32b, machine(64)) == "fits"
    assert model_fit_label(coder_32b, machine(16)) == "too large"


def test_bad_catalog_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.toml"
    bad.write_text('[[pairs]]\ntier = "x"\nram_gb = 8\nroot = "missing"\nsub = "missing"\n'
                   'root_ctx = 1\nsub_ctx = 1\nwhy = ""\n')
    with pytest.raises(HubError, match="unknown model 'missing'"):
        load_catalog(bad)
    bad.write_text("not = [valid")
    with pytest.raises(HubError, match="not valid TOML"):
        load_catalog(bad)

"""The curated model catalog (``models/catalog.toml``): models and root/sub pairs per memory tier.

Looked up in ``RLM_CATALOG`` if set, else ``models/catalog.toml`` at the project root.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rlm_desktop.errors import HubError, ModelNotFound
from rlm_desktop.hub.memory import MachineMemory, ModelFootprint, PairPlan, fit_label, plan_models, worst_label

DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "models" / "catalog.toml"
PROMPT_PROFILES = ("default", "rlm-paper")
"""How the engine prompts a root model: "default" (our protocol), or "rlm-paper" for models fine-tuned
on the scaffold of the RLM paper's authors (its system prompt and REPL conventions)."""


@dataclass(frozen=True)
class CatalogModel:
    """One model the catalog recommends: a hub file, or a demo model shipped on PyPI."""

    key: str
    title: str
    role: str                      # "root" | "sub" | "both"
    size_bytes: int
    context_length: int
    license: str
    layers: int | None = None
    kv_heads: int | None = None
    head_dim: int | None = None
    quantization: str | None = None
    repo: str | None = None
    file: str | None = None
    demo: bool = False
    notes: str = ""
    sha256: str | None = None      # exact file checksum, where the catalog pins one (the starter pair)
    prompt_profile: str = "default"

    @property
    def kv_bytes_per_token(self) -> int | None:
        if not (self.layers and self.kv_heads and self.head_dim):
            return None
        return self.layers * self.kv_heads * self.head_dim * 2 * 2  # K and V, f16

    def footprint(self) -> ModelFootprint:
        return ModelFootprint(self.key, self.size_bytes, self.layers, self.kv_bytes_per_token, self.context_length)


@dataclass(frozen=True)
class CatalogPair:
    """A root/sub pair sized for one memory tier."""

    tier: str
    ram_gb: float
    root: str
    sub: str
    root_ctx: int
    sub_ctx: int
    why: str
    vram_gb: float | None = None


@dataclass(frozen=True)
class Catalog:
    models: dict[str, CatalogModel]
    pairs: tuple[CatalogPair, ...]

    def get(self, key: str) -> CatalogModel:
        try:
            return self.models[key]
        except KeyError:
            raise ModelNotFound(f"No catalog model named {key!r}.") from None

    def find_file(self, repo: str, filename: str) -> CatalogModel | None:
        """The catalog entry for a hub file, if it is one."""
        for model in self.models.values():
            if model.repo == repo and model.file == filename:
                return model
        return None

    def plan_pair(self, pair: CatalogPair, machine: MachineMemory) -> PairPlan:
        """Memory plan for ``pair`` loaded together on ``machine``."""
        root, sub = self.get(pair.root), self.get(pair.sub)
        return plan_models(root.footprint(), pair.root_ctx, sub.footprint(), pair.sub_ctx, machine)

    def recommend(self, machine: MachineMemory) -> CatalogPair:
        """The strongest pair that fits the machine: GPU pairs only with about their VRAM and offload;
        larger tiers win, the first listed wins a tie. The first (demo) pair when nothing fits."""
        best, best_rank = self.pairs[0], (-1.0, -1.0)
        for pair in self.pairs:
            vram_total = machine.gpu.vram_total_bytes if machine.gpu.offload else None
            if pair.vram_gb and (not vram_total or vram_total < pair.vram_gb * 0.9 * 2**30):
                continue
            if self.plan_pair(pair, machine).label != "fits":
                continue
            rank = (pair.vram_gb or 0.0, pair.ram_gb)
            if rank > best_rank:
                best, best_rank = pair, rank
        return best


def model_fit_label(model: CatalogModel, machine: MachineMemory, n_ctx: int = 8192) -> str:
    """Fit label for one catalog model alone at ``n_ctx`` (capped at its trained length)."""
    plan = plan_models(model.footprint(), min(n_ctx, model.context_length), None, 0, machine)
    return worst_label(plan.ram_label, plan.vram_label) if plan.vram_label else fit_label(plan.ram_needed, machine.total_ram)


def catalog_path() -> Path:
    override = os.environ.get("RLM_CATALOG")
    return Path(override) if override else DEFAULT_CATALOG


def load_catalog(path: Path | None = None) -> Catalog:
    """Parse the catalog; HubError naming the file on a missing file or a bad entry."""
    path = path or catalog_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"Cannot read the model catalog {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise HubError(f"The model catalog {path} is not valid TOML: {exc}") from exc
    try:
        models = {entry["key"]: CatalogModel(**entry) for entry in raw.get("models", [])}
        pairs = tuple(CatalogPair(**entry) for entry in raw.get("pairs", []))
    except TypeError as exc:
        raise HubError(f"Bad entry in the model catalog {path}: {exc}") from exc
    for pair in pairs:
        for key in (pair.root, pair.sub):
            if key not in models:
                raise HubError(f"Catalog pair {pair.tier!r} names unknown model {key!r} ({path}).")
    for model in models.values():
        if not model.demo and not (model.repo and model.file):
            raise HubError(f"Catalog model {model.key!r} needs a repo and a file ({path}).")
        if model.prompt_profile not in PROMPT_PROFILES:
            raise HubError(f"Catalog model {model.key!r} has prompt_profile {model.prompt_profile!r}; "
                           f"known: {', '.join(PROMPT_PROFILES)} ({path}).")
    return Catalog(models, pairs)

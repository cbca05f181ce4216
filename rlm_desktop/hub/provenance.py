"""Where an installed model comes from: source, upstream hub file, license, sha256 and size.

One description for both faces (``rlm models info`` and the model manager), so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rlm_desktop.hub import demo
from rlm_desktop.hub.catalog import Catalog
from rlm_desktop.hub.local import InstalledModel
from rlm_desktop.sizes import model_size

_SOURCES = {
    "download": "Hugging Face hub download",
    "copy": "import (copied into the models folder)",
    "reference": "import (your file, used where it is)",
    "path": "a .gguf file given by path",
}


@dataclass(frozen=True)
class Provenance:
    """What the faces show about a model's origin; ``None`` fields are unknown."""

    source: str
    upstream: str | None
    license: str | None
    sha256: str | None
    size_bytes: int | None

    def rows(self) -> list[tuple[str, str]]:
        """(label, text) rows as both faces show them."""
        size = f"{model_size(self.size_bytes)} ({self.size_bytes:,} bytes)" if self.size_bytes else "?"
        return [("Source", self.source), ("Upstream", self.upstream or "-"),
                ("License", self.license or "unknown (see the model card)"),
                ("SHA256", self.sha256 or "not recorded"), ("Size", size)]


def _packages_text(packages: tuple[str, ...]) -> str:
    names = [p.partition("==")[0] for p in packages]
    versions = {p.partition("==")[2] for p in packages}
    pinned = f" =={versions.pop()}" if len(versions) == 1 and "" not in versions else ""
    listed = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]}"
    return f"PyPI packages {listed}{pinned} ({len(names)} parts, assembled here)"


def _catalog_entry(model: InstalledModel, catalog: Catalog | None):  # type: ignore[no-untyped-def]
    if catalog is None:
        return None
    return catalog.models.get(model.name) or (catalog.find_file(model.repo, model.file) if model.repo and model.file
                                               else None)


def describe(model: InstalledModel, catalog: Catalog | None = None) -> Provenance:
    """The provenance of ``model``; ``catalog`` fills a license the registry did not record."""
    entry = _catalog_entry(model, catalog)
    if model.is_demo:
        shipped = next((d for d in demo.DEMO_MODELS if d.key == model.name), None)
        source = f"shipped with the app (PyPI package {shipped.package})" if shipped else "shipped with the app"
        license_ = shipped.license if shipped else None
    elif model.source == "pypi":
        source = _packages_text(model.packages) if model.packages else "PyPI part packages (assembled here)"
        license_ = None
    else:
        source = _SOURCES.get(model.source, model.source)
        license_ = None
    license_ = model.license or license_ or (entry.license if entry else None)
    upstream = f"{model.repo}/{model.file}" if model.repo and model.file else None
    size = model.size_bytes
    if size is None:
        try:
            size = Path(model.path).stat().st_size
        except OSError:
            size = None
    sha256 = model.sha256 or (entry.sha256 if entry and model.source in ("download", "pypi") else None)
    return Provenance(source, upstream, license_, sha256, size)

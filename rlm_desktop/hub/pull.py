"""``pull_model``: download a hub GGUF file (all shards of a split model) and register it."""

from __future__ import annotations

from pathlib import Path

from rlm_desktop.errors import DownloadError, HubError, NotGGUFError
from rlm_desktop.hub.catalog import Catalog, load_catalog
from rlm_desktop.hub.download import CancelFlag, ProgressCallback, download_file, file_metadata
from rlm_desktop.hub.gguf_meta import read_gguf_metadata, shard_of
from rlm_desktop.hub.local import InstalledModel, ModelRegistry


def repo_dir_name(repo: str) -> str:
    """Folder for a repo's files inside the models dir: ``owner--name``."""
    return repo.replace("/", "--")


def shard_names(filename: str) -> list[str]:
    """All file names of a split GGUF given any one of them (just ``[filename]`` when not split)."""
    shard = shard_of(filename)
    if not shard:
        return [filename]
    suffix = f"-{shard[0]:05d}-of-{shard[1]:05d}.gguf"
    stem = filename[: -len(suffix)]
    return [f"{stem}-{i:05d}-of-{shard[1]:05d}.gguf" for i in range(1, shard[1] + 1)]


def pull_model(repo: str, filename: str, *, name: str | None = None, revision: str = "main",
               token: str | None = None, on_progress: ProgressCallback | None = None,
               cancel: CancelFlag | None = None, retries: int = 3, registry: ModelRegistry | None = None,
               catalog: Catalog | None = None) -> InstalledModel:
    """Download ``filename`` from ``repo`` into the models dir (resuming), verify it, register it.

    The model is named after its catalog key when the file is in the catalog, else after the
    file. An already installed, identical file (same sha256) is not downloaded again.
    """
    registry = registry or ModelRegistry()
    if catalog is None:
        try:
            catalog = load_catalog()
        except HubError:
            catalog = None
    entry = catalog.find_file(repo, filename) if catalog else None
    names = shard_names(filename)
    name = name or (entry.key if entry else names[0].removesuffix(".gguf"))
    dest_dir = registry.models_dir / repo_dir_name(repo)

    existing = registry.get(name)
    if existing is not None and (existing.repo, existing.file) != (repo, names[0]):
        raise HubError(f"A different model is already installed as {name!r}; remove it or pick another name.")
    sha256 = file_metadata(repo, names[0], revision=revision, token=token).sha256
    if entry is not None and entry.sha256 and sha256 and sha256 != entry.sha256:
        raise HubError(f"{filename} in {repo} ({revision}) is not the file the catalog pins for {entry.key} "
                       f"(sha256 {sha256}, expected {entry.sha256}); nothing was downloaded.")
    if existing is not None and existing.path.is_file() and sha256 and sha256 == existing.sha256:
        return existing

    paths: list[Path] = []
    for shard_name in names:
        paths.append(download_file(repo, shard_name, dest_dir, revision=revision, token=token,
                                   on_progress=on_progress, cancel=cancel, retries=retries,
                                   partial_dir=registry.models_dir / ".partial"))
    try:
        meta = read_gguf_metadata(paths[0])
    except NotGGUFError as exc:
        for path in paths:
            path.unlink(missing_ok=True)
        raise DownloadError(f"{filename} from {repo} is not a GGUF model file; it was removed.") from exc
    return registry.add(name, paths[0], source="download", meta=meta, repo=repo, file=names[0],
                        sha256=sha256, license=entry.license if entry else None, replace_existing=True)

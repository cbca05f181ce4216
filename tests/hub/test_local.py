"""Local GGUF import, the installed-models registry, per-model settings and resolve_model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rlm_desktop.errors import HubError, ModelNotFound, NotGGUFError
from rlm_desktop.hub.local import ModelRegistry, import_model, installed_models, remove_model, resolve_model, set_model_settings


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def test_import_by_reference_reads_metadata(registry: ModelRegistry, smollm2_path: Path) -> None:
    model = import_model(smollm2_path, registry=registry)
    assert model.name == "SmolLM2-135M-Instruct.Q4_1"
    assert model.source == "reference" and model.path == smollm2_path.resolve()
    assert (model.architecture, model.quantization, model.context_length) == ("llama", "Q4_1", 8192)
    assert [m.name for m in registry.models()] == [model.name]


def test_import_copy_and_remove_deletes_only_owned_files(registry: ModelRegistry, smollm2_path: Path,
                                                         tmp_path: Path) -> None:
    outside = tmp_path / "mine.gguf"
    shutil.copyfile(smollm2_path, outside)
    copied = import_model(outside, copy=True, name="smol-copy", registry=registry)
    assert copied.path.parent == registry.models_dir / "imported" and copied.path.is_file()
    referenced = import_model(outside, name="smol-ref", registry=registry)
    remove_model("smol-copy", registry=registry)
    assert not copied.path.exists()
    remove_model("smol-ref", registry=registry)
    assert outside.is_file()  # the user's own file is never deleted
    assert registry.models() == []
    assert referenced.path == outside.resolve()


def test_import_rejects_non_gguf_and_duplicate_names(registry: ModelRegistry, smollm2_path: Path,
                                                     tmp_path: Path) -> None:
    fake = tmp_path / "memo.gguf"
    fake.write_text("just text")
    with pytest.raises(NotGGUFError, match="memo.gguf"):
        import_model(fake, registry=registry)
    import_model(smollm2_path, name="smol", registry=registry)
    with pytest.raises(HubError, match="already installed"):
        import_model(smollm2_path, name="smol", registry=registry)
    with pytest.raises(HubError, match="demo model"):
        remove_model("demo-smollm2-135m", registry=registry)
    assert [m.name for m in registry.models()] == ["smol"]


def test_resolve_names_paths_and_demo_keys(registry: ModelRegistry, smollm2_path: Path) -> None:
    import_model(smollm2_path, name="smol", registry=registry)
    by_name = resolve_model("smol", registry=registry)
    by_path = resolve_model(str(smollm2_path), registry=registry)
    demo = resolve_model("demo-smollm2-135m", registry=registry)
    assert by_name.path == by_path.path == demo.path == smollm2_path.resolve()
    assert by_path.name == "smol"  # a registered path resolves to its registry entry
    assert demo.source == "demo"
    for model in (by_name, demo):
        assert 2048 <= model.n_ctx <= 8192  # recommended: never above the trained context
        assert model.n_gpu_layers in (0, -1) or model.n_gpu_layers > 0


def test_resolve_errors_say_what_to_do(registry: ModelRegistry, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="rlm models pull bartowski/Qwen2.5-Coder-7B-Instruct-GGUF"):
        resolve_model("qwen2.5-coder-7b-instruct-q4km", registry=registry)
    with pytest.raises(ModelNotFound, match="rlm models list"):
        resolve_model("no-such-model", registry=registry)
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model(str(tmp_path / "gone.gguf"), registry=registry)


def test_per_model_settings_persist_and_validate(registry: ModelRegistry, smollm2_path: Path) -> None:
    import_model(smollm2_path, name="smol", registry=registry)
    set_model_settings("smol", n_ctx=4096, n_gpu_layers=0, n_threads=2, registry=registry)
    model = resolve_model("smol", registry=ModelRegistry(registry.models_dir))
    assert (model.n_ctx, model.n_gpu_layers, model.n_threads) == (4096, 0, 2)
    set_model_settings("demo-smollm2-135m", n_ctx=2048, registry=registry)
    assert resolve_model("demo-smollm2-135m", registry=registry).n_ctx == 2048
    with pytest.raises(HubError, match="between 256"):
        set_model_settings("smol", n_ctx=10, registry=registry)
    with pytest.raises(ModelNotFound):
        set_model_settings("nobody", n_ctx=4096, registry=registry)
    assert resolve_model("smol", registry=registry).n_ctx == 4096  # a bad value changed nothing


def test_corrupt_registry_is_kept_aside_not_fatal(registry: ModelRegistry, smollm2_path: Path) -> None:
    registry.path.write_text("{not json")
    assert registry.models() == []
    import_model(smollm2_path, name="smol", registry=registry)
    assert (registry.models_dir / "installed.json.bad").read_text() == "{not json"
    assert [m.name for m in ModelRegistry(registry.models_dir).models()] == ["smol"]


def test_installed_models_lists_demo_first(registry: ModelRegistry, smollm2_path: Path) -> None:
    import_model(smollm2_path, name="smol", registry=registry)
    names = [m.name for m in installed_models(registry)]
    assert names[0] == "demo-smollm2-135m" and names[-1] == "smol"

"""runtime: model specs, default models, settings -> engine config; the package's public API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import rlm_desktop
from rlm_desktop import runtime
from rlm_desktop.engine import RLMConfig
from rlm_desktop.errors import ModelLoadError, ModelNotFound
from rlm_desktop.settings import Settings


def test_default_models_are_the_starter_pair_when_its_parts_are_installed():
    root, sub = runtime.default_models()
    assert (root, sub) == ("qwen2.5-coder-1.5b-instruct-q4km", "qwen2.5-coder-0.5b-instruct-q4km")
    assert not runtime.is_demo_model(root) and not runtime.is_demo_model(sub)
    assert (Settings().root_model, Settings().sub_model) == (root, sub)  # the app's first start uses them
    assert runtime.engine_config(Settings(), root).root_max_tokens != runtime.DEMO_ROOT_MAX_TOKENS


def test_without_the_starter_parts_smollm2_is_both_and_loads(without_starter_parts, smollm2_path):
    root, sub = runtime.default_models()
    assert root == sub == "demo-smollm2-135m"
    assert runtime.is_demo_model(root) and Settings().root_model == root
    model = runtime.load_model(root, n_threads=1, n_ctx=2048)
    try:
        assert model.supports_grammar and model.context_length == 2048
    finally:
        model.close()


@pytest.mark.slow
def test_a_starter_key_loads_on_a_fresh_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("RLM_DESKTOP_HOME", str(tmp_path / "fresh"))
    model = runtime.load_model("qwen2.5-coder-0.5b-instruct-q4km", n_threads=2, n_ctx=1024)
    try:
        reply = model.chat([{"role": "user", "content": "Reply with the word ok."}], max_tokens=4)
        assert reply.usage.completion_tokens > 0
    finally:
        model.close()
    assert (tmp_path / "fresh" / "models" / "Qwen--Qwen2.5-Coder-0.5B-Instruct-GGUF"
            / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf.verified").is_file()


def test_prompt_profile_comes_from_the_catalog(monkeypatch, tmp_path, smollm2_path):
    assert runtime.prompt_profile("qwen2.5-coder-1.5b-instruct-q4km") == "default"
    assert runtime.prompt_profile("no-such-model") == "default"
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(
        (Path(runtime.__file__).resolve().parents[1] / "models" / "catalog.toml").read_text(encoding="utf-8")
        + '\n[[models]]\nkey = "rlm-tuned"\ntitle = "An RLM-tuned model"\nrole = "root"\nrepo = "org/RLM-GGUF"\n'
        'file = "rlm-tuned-Q4_K_M.gguf"\nsize_bytes = 1\ncontext_length = 32768\nlicense = "Apache-2.0"\n'
        'prompt_profile = "rlm-paper"\n', encoding="utf-8")
    monkeypatch.setenv("RLM_CATALOG", str(catalog))
    assert runtime.prompt_profile("rlm-tuned") == "rlm-paper"
    assert runtime.prompt_profile("http://127.0.0.1:8080/v1#rlm-tuned") == "rlm-paper"
    assert runtime.prompt_profile("/models/rlm-tuned-Q4_K_M.gguf") == "rlm-paper"
    assert runtime.prompt_profile(str(smollm2_path)) == "default"


def test_gguf_path_loads(smollm2_path):
    model = runtime.load_model(str(smollm2_path), n_threads=1, n_ctx=1024)
    try:
        assert model.chat([{"role": "user", "content": "Hi"}], max_tokens=4).usage.completion_tokens > 0
    finally:
        model.close()


def test_missing_gguf_file_names_the_path(tmp_path):
    with pytest.raises(ModelNotFound, match="missing.gguf"):
        runtime.load_model(str(tmp_path / "missing.gguf"))


def test_unknown_model_name_is_model_not_found():
    with pytest.raises(ModelNotFound):
        runtime.load_model("no-such-model-anywhere")


def test_scripted_spec_replays_a_json_list(tmp_path):
    path = tmp_path / "turns.json"
    path.write_text(json.dumps(["FINAL(1)"]), encoding="utf-8")
    model = runtime.load_model(f"scripted:{path}")
    assert model.chat([{"role": "user", "content": "q"}]).text == "FINAL(1)"
    path.write_text('{"not": "a list"}', encoding="utf-8")
    with pytest.raises(ModelLoadError, match="turns.json"):
        runtime.load_model(f"scripted:{path}")


def test_scripted_spec_with_a_delay_is_a_slow_cancellable_model(tmp_path):
    from rlm_desktop.backends.base import CancelToken

    path = tmp_path / "slow.json"
    path.write_text(json.dumps({"outputs": ["FINAL(1)", "FINAL(2)"], "delay": 30.0}), encoding="utf-8")
    model = runtime.load_model(f"scripted:{path}")
    assert model.delay == 30.0
    cancel = CancelToken()
    cancel.cancel()
    assert model.chat([{"role": "user", "content": "q"}], cancel=cancel).finish_reason == "cancelled"
    path.write_text(json.dumps({"outputs": ["FINAL(1)"], "delay": -1}), encoding="utf-8")
    with pytest.raises(ModelLoadError, match="delay"):
        runtime.load_model(f"scripted:{path}")


def test_url_spec_goes_to_the_http_backend():
    with pytest.raises(ModelLoadError, match="127.0.0.1:9"):
        runtime.load_model("http://127.0.0.1:9/v1#qwen-coder", n_ctx=4096)


def test_engine_config_follows_settings():
    settings = Settings(max_iterations=5, depth=2, grammar=False, cell_timeout=7.0, cell_memory_mb=512)
    config = runtime.engine_config(settings)
    assert (config.max_iterations, config.depth, config.grammar) == (5, 2, False)
    assert (config.sandbox.timeout_s, config.sandbox.memory_mb) == (7.0, 512)


def test_public_api_names():
    assert rlm_desktop.RLM.__name__ == "RLM"
    assert rlm_desktop.RunResult.__name__ == "RunResult"
    assert rlm_desktop.load_model is runtime.load_model
    assert callable(rlm_desktop.open_library)
    with pytest.raises(AttributeError):
        rlm_desktop.not_a_name  # noqa: B018


def test_demo_root_gets_short_turns():
    settings = Settings(root_model="demo-smollm2-135m")
    assert runtime.engine_config(settings, "demo-smollm2-135m").root_max_tokens == runtime.DEMO_ROOT_MAX_TOKENS
    assert runtime.engine_config(settings, "/models/qwen2.5-coder-7b.gguf").root_max_tokens == RLMConfig().root_max_tokens

"""runtime: model specs, default models, settings -> engine config; the package's public API."""

from __future__ import annotations

import json

import pytest

import rlm_desktop
from rlm_desktop import runtime
from rlm_desktop.errors import ModelLoadError, ModelNotFound
from rlm_desktop.settings import Settings


def test_default_models_are_demo_models_that_load(smollm2_path):
    root, sub = runtime.default_models()
    assert runtime.is_demo_model(root) and runtime.is_demo_model(sub)
    model = runtime.load_model(root, n_threads=1, n_ctx=2048)
    try:
        assert model.supports_grammar and model.context_length == 2048
    finally:
        model.close()


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
    settings = Settings()
    assert runtime.engine_config(settings, "demo-smollm2-135m").root_max_tokens == runtime.DEMO_ROOT_MAX_TOKENS
    assert runtime.engine_config(settings, "/models/qwen2.5-coder-7b.gguf").root_max_tokens == 1024
